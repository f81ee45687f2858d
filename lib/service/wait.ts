import { RemoteError } from '../errors.ts'
import type { Connection } from '../remote/connection.ts'
import type { ProcessStatus } from '../supervisor/process.ts'
import { readProcesses } from '../supervisor/rpc.ts'

// Waits until every process of the groups is RUNNING (supervisor has counted startsecs), or gives up naming the rest.

export async function waitUntilRunning(
  connection: Connection,
  groups: string[],
  options: { timeoutSeconds: number; pollMs?: number },
): Promise<ProcessStatus[]> {
  const deadline = Date.now() + options.timeoutSeconds * 1000
  for (;;) {
    const { processes } = await readProcesses(connection, groups)
    const waiting = processes.filter((p) => p.state !== 'RUNNING')
    if (processes.length && !waiting.length) return processes
    if (Date.now() > deadline) {
      const states =
        (waiting.length ? waiting : processes).map((p) => `${p.name} ${p.state}`).join(', ') ||
        `no process of ${groups.join(', ')} is loaded`
      throw new RemoteError(connection.server.name, `not running after ${options.timeoutSeconds}s: ${states}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500))
  }
}
