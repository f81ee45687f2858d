import type { Connection } from '../remote/connection.ts'
import { RemoteError } from '../errors.ts'
import { parseStatus, runSupervisorctl, type ProcessStatus } from '../supervisorctl.ts'
import type { ServiceAction } from './daemon.ts'

// start/stop/restart of programs (every process of each group, `D-P:*`), then their states read back from the server.

export interface ProgramsResult {
  processes: ProcessStatus[]
  /** What supervisorctl said per process (`D-P:D-P_00: started`). */
  lines: string[]
  /** Groups whose processes are not all in the wanted state afterwards. */
  failed: string[]
  changed: number
}

const WANTED: Record<ServiceAction, string> = { start: 'RUNNING', restart: 'RUNNING', stop: 'STOPPED' }

export async function controlPrograms(connection: Connection, action: ServiceAction, groups: string[]): Promise<ProgramsResult> {
  const specs = groups.map((g) => `${g}:*`)
  const before = await runSupervisorctl(connection, ['status', ...specs])
  const unknown = groups.filter((g) => new RegExp(`^${escapeRegExp(g)}:?\\S*: ERROR \\(no such (group|process)\\)`, 'm').test(before.stdout))
  if (unknown.length) {
    throw new RemoteError(connection.server.name, `not loaded by supervisor on this server: ${unknown.join(', ')} (never synced? run supervisor-sync first)`, before.stdout)
  }
  const done = await runSupervisorctl(connection, [action, ...specs])
  const after = await runSupervisorctl(connection, ['status', ...specs])
  const processes = parseStatus(after.stdout)
  const wanted = WANTED[action]
  const failed = groups.filter((g) => processes.some((p) => p.group === g && p.state !== wanted && !(wanted === 'STOPPED' && p.state === 'EXITED')))
  const lines = done.stdout.split('\n').map((l) => l.trim()).filter(Boolean)
  const effect = action === 'stop' ? /: stopped$/ : /: started$/
  return { processes, lines, failed, changed: lines.filter((l) => effect.test(l)).length }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
