import fs from 'node:fs/promises'
import { auditEntry, auditOf } from '../audit.ts'
import { RemoteError } from '../errors.ts'
import type { ServerLayout } from '../layout.ts'
import { packageFile } from '../project.ts'
import { redactSecrets } from '../redact.ts'
import type { Connection } from '../remote/connection.ts'
import type { Server } from '../types.ts'
import type { ProcessStatus } from './process.ts'

// Runs lib/supervisor/supervisor.py on a server (python3, which every supervisor install has, as root): one process
// per phase that reads the server's own supervisord config and asks supervisord over XML-RPC, instead of one
// supervisorctl start-up (a Python start-up) per question.

export const SUPERVISOR_SCRIPT = packageFile('lib/supervisor/supervisor.py')

let source: Promise<string> | undefined

/** The script's source, read once per run. */
export function supervisorScript(): Promise<string> {
  source ??= fs.readFile(SUPERVISOR_SCRIPT, 'utf8')
  return source
}

/** The inventory's overrides for a non-standard install, as the script's options. */
export function layoutOptions(server: Server): string[] {
  const overrides = server.supervisor ?? {}
  return [
    ...(overrides.config ? ['--config', overrides.config] : []),
    ...(overrides.includeDir ? ['--include_dir', overrides.includeDir] : []),
    ...(overrides.serverurl ? ['--serverurl', overrides.serverurl] : []),
  ]
}

/** `python3 -I - COMMAND ...` with the script on stdin; -I: no user site-packages or environment in the way. */
export function supervisorArgv(command: string, args: string[]): string[] {
  return ['env', 'LC_ALL=C', 'python3', '-I', '-', command, ...args]
}

const layouts = new WeakMap<Connection, Promise<ServerLayout>>()

/** Remembers the layout a read found, so later steps of the run need not ask again. */
export function rememberLayout(connection: Connection, layout: ServerLayout): void {
  layouts.set(connection, Promise.resolve(layout))
}

/** The server's supervisord layout: from this run's read, else one short call. */
export function layoutOf(connection: Connection): Promise<ServerLayout> {
  let layout = layouts.get(connection)
  if (!layout) {
    layout = runSupervisorScript(connection, 'layout', layoutOptions(connection.server)).then(
      (document) => document.layout as ServerLayout,
    )
    layouts.set(connection, layout)
    layout.catch(() => layouts.delete(connection))
  }
  return layout
}

/**
 * Runs one command of the script (or of `source`, another script that imports it) and parses its one JSON document; exits 3 and 4 become clear errors. */
export async function runSupervisorScript(
  connection: Connection,
  command: string,
  args: string[],
  source?: string,
): Promise<Record<string, unknown>> {
  const result = await connection.run(supervisorArgv(command, args), {
    privileged: true,
    input: source ?? (await supervisorScript()),
  })
  const server = connection.server.name
  let document: Record<string, unknown>
  try {
    document = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>
  } catch {
    const said = `${result.stderr}${result.stdout}`.trim()
    if (/python3: (command )?not found|No such file or directory/.test(said))
      throw new RemoteError(
        server,
        'python3 is not installed on the server (every supervisor package brings it; is supervisor installed?)',
        said,
      )
    throw new RemoteError(
      server,
      `could not read supervisor's state (exit ${result.exitCode}): the answer was not one JSON document`,
      said,
    )
  }
  if (result.exitCode === 4)
    throw new RemoteError(
      server,
      `cannot tell how supervisor is set up on this server: ${String(document.message)}`,
      result.stderr,
    )
  if (result.exitCode === 3)
    throw new RemoteError(
      server,
      `supervisord is not running (${String(document.message)}); nothing was changed. Start it: npx zx tasks/supervisor-start.mjs --server ${server}`,
      result.stderr,
    )
  if (result.exitCode !== 0 && result.exitCode !== 2)
    throw new RemoteError(
      server,
      `supervisor.py ${command} failed (exit ${result.exitCode}): ${result.stderr.trim()}`,
      result.stderr,
    )
  return document
}

/** A process as supervisord's getAllProcessInfo describes it (plus what /proc says it runs). */
export interface RawProcess {
  name: string
  group: string
  statename: string
  pid: number
  description: string
  spawnerr?: string
  cwd?: string
  releasePath?: string
  lastLog?: string
}

export function toProcessStatus(raw: RawProcess): ProcessStatus {
  const uptime = /uptime (\S+)/.exec(raw.description)?.[1]
  return {
    name: `${raw.group}:${raw.name}`,
    group: raw.group,
    process: raw.name,
    state: raw.statename,
    description: raw.description,
    ...(raw.pid ? { pid: raw.pid } : {}),
    ...(uptime ? { uptime } : {}),
    ...(raw.cwd ? { cwd: raw.cwd } : {}),
    ...(raw.releasePath ? { releasePath: raw.releasePath } : {}),
    ...(raw.spawnerr ? { spawnerr: raw.spawnerr } : {}),
    // A program's own log line may print a secret by name (PASSWORD=...): shown as anywhere else in our output.
    ...(raw.lastLog ? { lastLog: redactSecrets(raw.lastLog) } : {}),
  }
}

export interface ProcessesRead {
  /** Groups supervisor has not loaded. */
  unknown: string[]
  processes: ProcessStatus[]
}

/** The processes of the groups (every process without groups), in one call. */
export async function readProcesses(connection: Connection, groups: string[]): Promise<ProcessesRead> {
  const document = await runSupervisorScript(connection, 'processes', [
    ...layoutOptions(connection.server),
    ...groups.flatMap((g) => ['--group', g]),
  ])
  return { unknown: document.unknown as string[], processes: (document.processes as RawProcess[]).map(toProcessStatus) }
}

export interface ControlRead extends ProcessesRead {
  /** What supervisor said per process, in supervisorctl's words (`D-P:D-P_00: started`). */
  lines: string[]
}

/** start/stop/restart of whole groups or single processes (`group:name`), waiting as supervisorctl does. */
export async function controlProcesses(
  connection: Connection,
  action: 'start' | 'stop' | 'restart',
  target: { groups?: string[]; processes?: string[] },
): Promise<ControlRead> {
  const targets = [...(target.groups ?? []), ...(target.processes ?? [])]
  const done = { start: 'started', stop: 'stopped', restart: 'restarted' } as const
  // The remote control writes the audit line itself, once it is done, if it changed anything.
  const audit = auditEntry(auditOf(connection), connection.server.name, action, { groups: { [done[action]]: targets } })
  const args = [
    ...layoutOptions(connection.server),
    '--action',
    action,
    ...(target.groups ?? []).flatMap((g) => ['--group', g]),
    ...(target.processes ?? []).flatMap((p) => ['--process', p]),
    '--audit',
    audit,
  ]
  const document = await runSupervisorScript(connection, 'control', args)
  return {
    unknown: document.unknown as string[],
    lines: document.lines as string[],
    processes: (document.processes as RawProcess[]).map(toProcessStatus),
  }
}
