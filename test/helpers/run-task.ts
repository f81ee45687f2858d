import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { shellQuote } from '../../lib/remote/quote.ts'

// Runs a real task script the way a user does (`npx zx tasks/<name>.mjs ...`), without a terminal.

// Tests run with SSH masters closed at exit (as under test/run.mjs), also a file run alone: no test meets a master
// another one left warm. Persistence tests turn it back on per run with env { ZXS_CONTROL_PERSIST: '' } or a value.
process.env.ZXS_CONTROL_PERSIST ??= '0'

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const ZX_CLI = path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js')

export interface TaskRun {
  exitCode: number
  stdout: string
  stderr: string
  /** stdout + stderr, for messages that may land on either. */
  all: string
}

export async function runTask(
  name: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<TaskRun> {
  const result = await execa(process.execPath, [ZX_CLI, path.join(PROJECT, 'tasks', `${name}.mjs`), ...args], {
    cwd: PROJECT,
    reject: false,
    stdin: 'ignore',
    extendEnv: false,
    env: { ...withoutColorForcing(process.env), NO_COLOR: '1', ...options.env },
    timeout: options.timeoutMs ?? 120_000,
    all: true,
  })
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, all: result.all ?? '' }
}

/** Polls until check() returns a truthy value, or fails after timeoutMs with the last value in the message. */
export async function waitFor<T>(what: string, check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T
  do {
    last = await check()
    if (last) return last
    await new Promise((r) => setTimeout(r, 200))
  } while (Date.now() < deadline)
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`)
}

/** uvu sets FORCE_COLOR; tasks under test must print plain text. */
function withoutColorForcing(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _ignored, ...rest } = env
  return rest
}

/**
 * Runs a task on a pseudo-terminal (util-linux `script`), answering each prompt when it appears, as a person would.
 * dialog: [text the prompt contains, answer to type]; answers go out only after their prompt was seen.
 */
export async function runTaskOnTerminal(
  name: string,
  args: string[],
  dialog: Array<[string, string | (() => Promise<string>)]>,
  timeoutMs = 30_000,
): Promise<TaskRun> {
  const command = [process.execPath, ZX_CLI, path.join(PROJECT, 'tasks', `${name}.mjs`), ...args]
    .map(shellQuote)
    .join(' ')
  const child = execa('script', ['-qec', command, '/dev/null'], {
    cwd: PROJECT,
    reject: false,
    timeout: timeoutMs,
    extendEnv: false,
    env: { ...withoutCi(withoutColorForcing(process.env)), NO_COLOR: '1', TERM: 'dumb' },
  })
  let seen = ''
  let next = 0
  child.stdout?.on('data', (chunk: Buffer) => {
    seen += chunk.toString()
    const step = dialog[next]
    if (step && seen.includes(step[0])) {
      next += 1
      seen = ''
      const answer = step[1]
      void (typeof answer === 'string' ? Promise.resolve(answer) : answer()).then((text) =>
        child.stdin?.write(`${text}\r`),
      )
    }
  })
  const result = await child
  // `script` exits 0 when it is killed: a task left waiting at a prompt must not look like one that succeeded.
  const left = dialog
    .slice(next)
    .map(([prompt]) => JSON.stringify(prompt))
    .join(', ')
  const timedOut = result.timedOut
    ? `\n[timed out after ${timeoutMs} ms${left ? `; never prompted: ${left}` : ''}]`
    : ''
  return {
    exitCode: result.timedOut ? -1 : (result.exitCode ?? -1),
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    all: `${result.stdout}\n${result.stderr}${timedOut}`,
  }
}

/** A person at a terminal, even when the test suite itself runs under CI=true (which disables prompts). */
function withoutCi(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CI: _ignored, ...rest } = env
  return rest
}

/**
 * Runs a task the way a user does from another directory: `cd <cwd> && npx --prefix <project> zx <project>/tasks/<name>.mjs`,
 * in a shell environment that npm has not touched (no NODE_OPTIONS, no npm_config_*).
 */
export async function runTaskFromDirectory(
  cwd: string,
  name: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<TaskRun> {
  const result = await execa('npx', ['--prefix', PROJECT, 'zx', path.join(PROJECT, 'tasks', `${name}.mjs`), ...args], {
    cwd,
    reject: false,
    stdin: 'ignore',
    extendEnv: false,
    env: { ...withoutNpmSettings(withoutColorForcing(process.env)), NO_COLOR: '1', ...options.env },
    timeout: 120_000,
    all: true,
  })
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, all: result.all ?? '' }
}

/** A user's shell, even when the tests themselves run under `npm test` (which sets NODE_OPTIONS and npm_config_*). */
function withoutNpmSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => key !== 'NODE_OPTIONS' && !/^npm_/i.test(key)))
}
