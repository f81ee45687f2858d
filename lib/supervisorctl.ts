import type { CommandResult, Connection } from './remote/connection.ts'

// supervisorctl's output is parsed under the C locale; its exit codes are data (3 = something not running).

export interface ProcessStatus {
  /** The namespec supervisorctl prints: `group:process` (or a bare name for a program without a group). */
  name: string
  group: string
  process: string
  state: string
  pid?: number
  uptime?: string
  description: string
}

export function supervisorctlArgv(args: readonly string[]): string[] {
  return ['env', 'LC_ALL=C', 'supervisorctl', ...args]
}

export function runSupervisorctl(connection: Connection, args: readonly string[]): Promise<CommandResult> {
  return connection.run(supervisorctlArgv(args), { privileged: true })
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

/** Tells a stopped supervisord apart from other supervisorctl failures (socket missing or refused). */
export function daemonUnreachable(output: string): boolean {
  return /no such file|refused connection|Connection refused|FileNotFoundError|ConnectionRefusedError/i.test(output)
}

export interface UpdateResult {
  added: string[]
  updated: string[]
  removed: string[]
}

/** Parses `supervisorctl update` lines: `x: added process group`, `x: updated process group`, `x: removed process group`. */
export function parseUpdate(stdout: string): UpdateResult {
  const result: UpdateResult = { added: [], updated: [], removed: [] }
  for (const line of stdout.split('\n')) {
    const match = /^(\S+): (added|updated|removed) process group$/.exec(line.trim())
    if (match) result[match[2] as keyof UpdateResult].push(match[1] as string)
  }
  return result
}
