import fs from 'node:fs/promises'
import type { RemoteFile } from '../types.ts'
import type { Connection } from '../remote/connection.ts'
import { RemoteError } from '../errors.ts'
import { MANAGED_FILES, MARKER_TOKEN, discoveryPatterns, parseMarker, type ManagedFileSpec, type Marker } from '../layout.ts'
import { parseStatus, type ProcessStatus } from '../supervisorctl.ts'
import type { DesiredState } from './desired.ts'

// One round trip that tells what the server holds now: every marked file the contract's patterns find, the files at
// the paths we want, missing scripts, and what reread sees.

export interface LiveFile extends RemoteFile {
  /** The file's ownership marker, when it has one (lib/layout.ts parses it). */
  marker: Marker | null
  /** The contract entry whose discovery pattern found it; null for a file found only at a wanted path. */
  spec: ManagedFileSpec | null
  /** sha256 of the bytes on the server: activation checks nothing changed since it was read. */
  sha256: string
}

export interface RereadState {
  exitCode: number
  output: string
  /** Group name → available | changed | disappeared, as `supervisorctl reread` reports them. */
  pending: Map<string, string>
}

export interface LiveState {
  files: Map<string, LiveFile>
  missingScripts: string[]
  reread: RereadState
  /** `supervisorctl status`, when asked for. */
  status?: { exitCode: number; output: string; processes: ProcessStatus[] }
}

const READ_STATE_SCRIPT = new URL('./read-state.sh', import.meta.url)

export async function readLiveState(connection: Connection, desired: DesiredState, options: { withStatus?: boolean } = {}): Promise<LiveState> {
  const args = [
    MARKER_TOKEN,
    ...(options.withStatus ? ['status', '1'] : []),
    ...discoveryPatterns(desired.server.sitesPath).flatMap((p) => ['pattern', p]),
    ...desired.files.flatMap((f) => ['path', f.path]),
    ...desired.programs.flatMap((p) => ['script', p.scriptPath]),
  ]
  const script = await fs.readFile(READ_STATE_SCRIPT, 'utf8')
  const result = await connection.run(['sh', '-s', '--', ...args], { privileged: true, input: script })
  if (result.exitCode !== 0) throw new RemoteError(connection.server.name, `could not read the server's current state (exit ${result.exitCode})`, result.stderr)
  return parseLiveState(result.stdout)
}

/** Parses read-state.sh's output (FILE header + base64 line, MISSING lines, STATUS, then REREAD and its output). */
export function parseLiveState(stdout: string): LiveState {
  const files = new Map<string, LiveFile>()
  const missingScripts: string[] = []
  const lines = stdout.split('\n')
  let status: LiveState['status']
  let statusStart = -1
  let i = 0
  for (; i < lines.length; i++) {
    const [tag = '', ...fields] = (lines[i] as string).split('\t')
    if (statusStart >= 0 && tag !== 'REREAD') continue
    if (tag === 'FILE') {
      const [found = '-', mode = '', owner = '', group = '', sha256 = '', ...rest] = fields
      const content = Buffer.from(lines[++i] ?? '', 'base64').toString('utf8')
      const filePath = rest.join('\t')
      // A wanted path that a pattern also found is listed twice; the pattern's entry knows its kind.
      if (files.has(filePath)) continue
      const spec = found === '-' ? null : MANAGED_FILES[Number(found)] ?? null
      files.set(filePath, { path: filePath, content, owner, group, mode: mode.padStart(4, '0'), sha256, marker: parseMarker(content), spec })
    } else if (tag === 'MISSING') {
      missingScripts.push(fields.join('\t'))
    } else if (tag === 'STATUS') {
      statusStart = i
    } else if (tag === 'REREAD') {
      if (statusStart >= 0) {
        const output = lines.slice(statusStart + 1, i).join('\n').trim()
        status = { exitCode: Number((lines[statusStart] as string).split('\t')[1]), output, processes: parseStatus(output) }
      }
      const output = lines.slice(i + 1).join('\n').trim()
      return { files, missingScripts, reread: { exitCode: Number(fields[0]), output, pending: parseReread(output) }, ...(status ? { status } : {}) }
    }
  }
  throw new Error('read-state: the server sent no REREAD section (output cut short?)')
}

export function parseReread(output: string): Map<string, string> {
  const pending = new Map<string, string>()
  for (const line of output.split('\n')) {
    const match = /^(\S+): (available|changed|disappeared)$/.exec(line.trim())
    if (match) pending.set(match[1] as string, match[2] as string)
  }
  return pending
}
