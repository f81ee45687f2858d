import type { ControlRequest } from './server.ts'

// A start/stop/restart asked for from the page runs the very task the command line runs (its checks, its steps, its
// audit line), called in-process: on every server of the site at once, or on the chosen servers one after another.

/** What a task's call() gives back (lib/cli/run-task.ts), as far as control needs it. */
interface CallableTask {
  call(options: Record<string, unknown>): Promise<{ exitCode: number; result: unknown }>
}

export type ControlTasks = Record<ControlRequest['action'], CallableTask>

export interface ControlOutcome {
  ok: boolean
  exitCode: number
  /** Each server's result as the task's --json document reports it. */
  result: { servers: unknown[] }
}

export async function runControl(
  tasks: ControlTasks,
  request: ControlRequest,
  context: { inventory: string | undefined; siteServers: string[] },
): Promise<ControlOutcome> {
  const whole = sameSet(request.servers, context.siteServers)
  const targets: (string | undefined)[] = whole ? [undefined] : request.servers
  const servers: unknown[] = []
  let exitCode = 0
  for (const server of targets) {
    const outcome = await tasks[request.action].call({
      ...(context.inventory ? { inventory: context.inventory } : {}),
      domain: request.domain,
      program: request.program,
      ...(server ? { server } : {}),
      ...(request.oneByOne ? { oneByOne: true } : {}),
    })
    servers.push(...serversOf(outcome.result))
    exitCode = outcome.exitCode
    // A failure stops the rest, as a rollout would: the page shows where it stopped.
    if (exitCode !== 0) break
  }
  return { ok: exitCode === 0, exitCode, result: { servers } }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

function serversOf(result: unknown): unknown[] {
  const servers = (result as { servers?: unknown } | undefined)?.servers
  return Array.isArray(servers) ? servers : []
}
