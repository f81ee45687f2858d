import type { CommandResult, Connection } from './remote/connection.ts'
import { layoutOf } from './supervisor/rpc.ts'

// supervisorctl, where a control action needs it (start/stop/restart of programs and their read-back): always with
// the server's own config (-c), never its default search. Its output is parsed under the C locale; its exit codes
// are data (3 = something not running). Reading state goes through lib/supervisor/supervisor.py instead.

export interface ProcessStatus {
  /** The namespec supervisorctl prints: `group:process` (or a bare name for a program without a group). */
  name: string
  group: string
  process: string
  state: string
  pid?: number
  uptime?: string
  description: string
  /** The directory the process runs in, and the release its environment names (from /proc, when read as root). */
  cwd?: string
  releasePath?: string
  /** Why supervisor could not start or keep it (FATAL, BACKOFF), in its words (`Exited too quickly ...`). */
  spawnerr?: string
  /** The last line the program logged, for a process that gave up or exited (read with the status). */
  lastLog?: string
}

export function supervisorctlArgv(config: string, args: readonly string[]): string[] {
  return ['env', 'LC_ALL=C', 'supervisorctl', '-c', config, ...args]
}

export async function runSupervisorctl(connection: Connection, args: readonly string[]): Promise<CommandResult> {
  return connection.run(supervisorctlArgv((await layoutOf(connection)).config, args), { privileged: true })
}

const STATUS_LINE = /^(\S+)\s+(STOPPED|STARTING|RUNNING|BACKOFF|STOPPING|EXITED|FATAL|UNKNOWN)\s*(.*)$/

/** Parses `supervisorctl status` (lines like `site-worker:site-worker_00   RUNNING   pid 6838, uptime 0:00:02`). */
export function parseStatus(stdout: string): ProcessStatus[] {
  const processes: ProcessStatus[] = []
  for (const line of stdout.split('\n')) {
    const match = STATUS_LINE.exec(line.trimEnd())
    if (!match) continue
    const [, name = '', state = '', description = ''] = match
    const [group = name, process = name] = name.includes(':') ? name.split(':') : [name, name]
    const pid = /pid (\d+)/.exec(description)?.[1]
    const uptime = /uptime (\S+)/.exec(description)?.[1]
    processes.push({ name, group, process, state, description, ...(pid ? { pid: Number(pid) } : {}), ...(uptime ? { uptime } : {}) })
  }
  return processes
}

export interface UpdateResult {
  added: string[]
  updated: string[]
  removed: string[]
}
