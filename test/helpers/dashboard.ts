import path from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { PROJECT } from './run-task.ts'

// A supervisor-dashboard run in the background, as a user starts it, with the URL it prints.

const ZX_CLI = path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js')

export interface RunningDashboard {
  url: string
  port: number
  token: string
  child: ResultPromise
  /** Everything it printed so far. */
  output(): string
  /** SIGINT (Ctrl-C), then its exit code. */
  stop(): Promise<number>
}

export async function startDashboard(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningDashboard> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const child = execa(process.execPath, [ZX_CLI, path.join(PROJECT, 'tasks', 'supervisor-dashboard.mjs'), ...args], {
    cwd: PROJECT,
    reject: false,
    stdin: 'ignore',
    env: { NO_COLOR: '1', FORCE_COLOR: undefined, ...options.env },
    all: true,
  })
  let printed = ''
  child.all?.on('data', (chunk: Buffer) => {
    printed += chunk.toString()
  })
  const deadline = Date.now() + timeoutMs
  let match: RegExpExecArray | null = null
  while (!match) {
    match = /(http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))/.exec(printed)
    if (match) break
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the dashboard did not print its URL:\n${printed}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url: match[1] as string,
    port: Number(match[2]),
    token: match[3] as string,
    child,
    output: () => printed,
    async stop() {
      child.kill('SIGINT')
      const result = await child
      return result.exitCode ?? -1
    },
  }
}
