import { type LastChange, parseLastChange } from '../audit.ts'
import { RemoteError } from '../errors.ts'
import {
  discoveryPatterns,
  MANAGED_FILES,
  MARKER_TOKEN,
  type ManagedFileSpec,
  type Marker,
  parseMarker,
  type ServerLayout,
} from '../layout.ts'
import type { Connection } from '../remote/connection.ts'
import type { ProcessStatus } from '../supervisor/process.ts'
import {
  layoutOptions,
  type RawProcess,
  rememberLayout,
  runSupervisorScript,
  toProcessStatus,
} from '../supervisor/rpc.ts'
import type { RemoteFile } from '../types.ts'
import type { DesiredState } from './desired.ts'

// One round trip, one remote process (lib/supervisor/supervisor.py) that tells what the server holds now: its
// supervisord layout, every marked file the contract's patterns find, the files at the paths we want, missing
// scripts, the processes, and what supervisor's reread would change.

export interface LiveFile extends RemoteFile {
  /** The file's ownership marker, when it has one (lib/layout.ts parses it). */
  marker: Marker | null
  /** The contract entry whose discovery pattern found it; null for a file found only at a wanted path. */
  spec: ManagedFileSpec | null
  /** sha256 of the bytes on the server: activation checks nothing changed since it was read. */
  sha256: string
}

export interface RereadState {
  /** supervisor parses the configuration on disk. */
  ok: boolean
  /** supervisor's complaint when it does not. */
  message: string
  /** Group name → available | changed | disappeared: what `supervisorctl update` would apply. */
  pending: Map<string, string>
}

export interface LiveState {
  layout: ServerLayout
  files: Map<string, LiveFile>
  missingScripts: string[]
  daemon: { running: boolean; message?: string }
  reread: RereadState
  /** Every process supervisord runs, when asked for. */
  processes?: ProcessStatus[]
  /** Each site's `current` link → the release directory it points to (null: no current yet). */
  currents: Map<string, string | null>
  /** The last line of the server's audit trail (read with the status; null: none or unreadable). */
  lastChange?: LastChange | null
}

export async function readLiveState(
  connection: Connection,
  desired: DesiredState,
  options: { withStatus?: boolean } = {},
): Promise<LiveState> {
  const args = [
    ...layoutOptions(connection.server),
    '--token',
    MARKER_TOKEN,
    '--reread',
    ...(options.withStatus ? ['--status'] : []),
    ...discoveryPatterns(desired.server.sitesPath).flatMap((p) => ['--pattern', p]),
    ...desired.files.flatMap((f) => ['--path', f.readPath]),
    ...desired.programs.flatMap((p) => (p.importedFrom ? ['--path', p.importedFrom] : [])),
    ...desired.programs.flatMap((p) => ['--script', p.scriptPath]),
    ...[...new Set(desired.programs.map((p) => p.currentPath))].flatMap((c) => ['--current', c]),
  ]
  const live = parseLiveState(connection.server.name, await runSupervisorScript(connection, 'read', args))
  rememberLayout(connection, live.layout)
  return live
}

interface RawFile {
  found: number | null
  path: string
  mode: string
  owner: string
  group: string
  sha256: string
  content: string
}
interface RawReread {
  ok: boolean
  added: string[]
  changed: string[]
  removed: string[]
  message: string
}

/** Parses supervisor.py's `read` document; a document without its parts is an error, never "all fine". */
export function parseLiveState(
  server: string,
  document: Record<string, unknown>,
  contract: ManagedFileSpec[] = MANAGED_FILES,
): LiveState {
  const daemon = document.daemon as LiveState['daemon'] | undefined
  if (!document.layout || !Array.isArray(document.files) || !Array.isArray(document.missing) || !daemon) {
    throw new RemoteError(
      server,
      'the server sent an incomplete state (output cut short?)',
      JSON.stringify(document).slice(0, 500),
    )
  }
  const files = new Map<string, LiveFile>()
  for (const raw of document.files as RawFile[]) {
    const content = Buffer.from(raw.content, 'base64').toString('utf8')
    const spec = raw.found === null ? null : (contract[raw.found] ?? null)
    files.set(raw.path, {
      path: raw.path,
      content,
      owner: raw.owner,
      group: raw.group,
      mode: raw.mode,
      sha256: raw.sha256,
      marker: parseMarker(content),
      spec,
    })
  }
  const reread = document.reread as RawReread | undefined
  const pending = new Map<string, string>()
  for (const group of reread?.added ?? []) pending.set(group, 'available')
  for (const group of reread?.changed ?? []) pending.set(group, 'changed')
  for (const group of reread?.removed ?? []) pending.set(group, 'disappeared')
  return {
    layout: document.layout as ServerLayout,
    files,
    missingScripts: document.missing as string[],
    daemon,
    reread: { ok: reread?.ok ?? false, message: reread?.message ?? daemon.message ?? '', pending },
    currents: new Map(Object.entries((document.currents ?? {}) as Record<string, string | null>)),
    ...(Array.isArray(document.processes)
      ? { processes: (document.processes as RawProcess[]).map(toProcessStatus) }
      : {}),
    ...('lastChange' in document ? { lastChange: parseLastChange(document.lastChange) } : {}),
  }
}
