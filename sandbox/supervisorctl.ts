import type { CommandResult, Connection } from '../lib/remote/connection.ts'
import type { ProcessStatus } from '../lib/supervisor/process.ts'
import { layoutOf } from '../lib/supervisor/rpc.ts'

// supervisorctl for the demo, the bench and the tests, which check a server with the tool an operator would use.
// The product itself reads and controls supervisord through lib/supervisor/rpc.ts. Always the server's own config
// (-c), output parsed under the C locale.

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
    processes.push({
      name,
      group,
      process,
      state,
      description,
      ...(pid ? { pid: Number(pid) } : {}),
      ...(uptime ? { uptime } : {}),
    })
  }
  return processes
}
