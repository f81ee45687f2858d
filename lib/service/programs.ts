import { RemoteError } from '../errors.ts'
import type { Connection } from '../remote/connection.ts'
import type { ProcessStatus } from '../supervisor/process.ts'
import { controlProcesses, readProcesses } from '../supervisor/rpc.ts'
import type { ServiceAction } from './daemon.ts'

// start/stop/restart of programs (every process of each group, `D-P:*`), then their states read back from the server.

export interface ProgramsResult {
  processes: ProcessStatus[]
  /** What supervisor said per process, in supervisorctl's words (`D-P:D-P_00: started`). */
  lines: string[]
  /** Groups whose processes are not all in the wanted state afterwards. */
  failed: string[]
  changed: number
}

const WANTED: Record<ServiceAction, string> = { start: 'RUNNING', restart: 'RUNNING', stop: 'STOPPED' }

// One remote process per action (lib/supervisor/supervisor.py over XML-RPC): check, act, read back.
export async function controlPrograms(
  connection: Connection,
  action: ServiceAction,
  groups: string[],
): Promise<ProgramsResult> {
  const done = await controlProcesses(connection, action, { groups })
  assertLoaded(connection, done.unknown)
  const wanted = WANTED[action]
  const failed = groups.filter((g) =>
    done.processes.some((p) => p.group === g && p.state !== wanted && !(wanted === 'STOPPED' && p.state === 'EXITED')),
  )
  const effect = action === 'stop' ? /: stopped$/ : /: started$/
  return {
    processes: done.processes,
    lines: done.lines,
    failed,
    changed: done.lines.filter((l) => effect.test(l)).length,
  }
}

/** Every process of the groups, as supervisor reports them; throws naming the groups supervisor has not loaded. */
export async function readLoadedGroups(connection: Connection, groups: string[]): Promise<ProcessStatus[]> {
  const read = await readProcesses(connection, groups)
  assertLoaded(connection, read.unknown)
  return read.processes
}

function assertLoaded(connection: Connection, unknown: string[]): void {
  if (unknown.length)
    throw new RemoteError(
      connection.server.name,
      `not loaded by supervisor on this server: ${unknown.join(', ')} (never synced? run supervisor-sync first)`,
    )
}
