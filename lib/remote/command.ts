import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'

// The one way a connection starts a local process (ssh, ssh -G, ssh -O, rsync, or the command itself for `host:
// local`): node:child_process directly, not execa. Every status, sync and deploy starts several of these per server,
// and execa costs ~0.2 s to load and more per spawn; what run() needs of it is small and kept here: input on stdin,
// a timeout, a cancel signal, stdout line by line, exit codes as data (never a throw), one final newline stripped
// from stdout and stderr, and the processes still running killed when this process exits.

export interface CommandOptions {
  /** Written to stdin, which is then closed; without it, stdin is /dev/null. */
  input?: string
  /** Killed (SIGTERM, then SIGKILL after `forceKillAfterMs`) after this many ms; the result says timedOut. */
  timeoutMs?: number
  /** How long a killed process may take to exit on SIGTERM before SIGKILL; default 5000 (execa's). */
  forceKillAfterMs?: number
  /** Killed the same way when this signal aborts; the result says canceled. */
  cancelSignal?: AbortSignal
  /** Each line of stdout as it arrives, without its line end; the result still holds all of stdout. */
  onLine?: (line: string) => void
}

export interface CommandOutcome {
  /** The exit code; undefined when the process was ended by a signal or could not start. */
  exitCode: number | undefined
  stdout: string
  stderr: string
  timedOut: boolean
  canceled: boolean
  /** Why it could not start (spawn ssh ENOENT), when it could not. */
  spawnError?: Error
}

/** After a kill, SIGKILL follows unless the process is gone by then (as execa's forceKillAfterDelay). */
const FORCE_KILL_AFTER_MS = 5000

/** Local processes still running, ended when this process exits (as execa's cleanup). */
const running = new Set<ChildProcess>()
let cleanupInstalled = false

function killRunning(): void {
  for (const left of running) left.kill('SIGTERM')
}

/** spawn, and the process is killed (SIGTERM) if it still runs when this process exits. */
export function spawnTracked(file: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(file, args, options)
  if (!cleanupInstalled) {
    cleanupInstalled = true
    // The task frame turns SIGINT and SIGTERM into process.exit, so its commands end here too.
    process.on('exit', killRunning)
  }
  running.add(child)
  const forget = () => running.delete(child)
  child.once('exit', forget)
  child.once('error', forget)
  return child
}

/**
 * Runs file with args and resolves once it ended and its output was read. A process ended by the timeout or the cancel
 * signal resolves as soon as it exited: a multiplexed ssh hands its pipes to the master, which may keep them open.
 */
export function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const { input, timeoutMs, cancelSignal, onLine, forceKillAfterMs = FORCE_KILL_AFTER_MS } = options
    const outcome: CommandOutcome = { exitCode: undefined, stdout: '', stderr: '', timedOut: false, canceled: false }
    if (cancelSignal?.aborted) {
      resolve({ ...outcome, canceled: true })
      return
    }
    let child: ChildProcess
    try {
      child = spawnTracked(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    } catch (error) {
      resolve({ ...outcome, spawnError: error as Error })
      return
    }
    let stdout = ''
    let stderr = ''
    let pending = ''
    child.stdout?.setEncoding('utf8')
    child.stderr?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk
      if (!onLine) return
      pending += chunk
      let end = pending.indexOf('\n')
      while (end !== -1) {
        onLine(withoutCarriageReturn(pending.slice(0, end)))
        pending = pending.slice(end + 1)
        end = pending.indexOf('\n')
      }
    })
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk
    })
    if (input !== undefined && child.stdin) {
      // A command that exits without reading all of its input is not an error of ours (EPIPE).
      child.stdin.on('error', () => {})
      child.stdin.end(input)
    }

    let killedByUs = false
    let forceKill: NodeJS.Timeout | undefined
    const kill = () => {
      if (killedByUs) return
      killedByUs = true
      child.kill('SIGTERM')
      forceKill = setTimeout(() => child.kill('SIGKILL'), forceKillAfterMs)
      forceKill.unref()
    }
    const timer =
      timeoutMs !== undefined && timeoutMs > 0
        ? setTimeout(() => {
            outcome.timedOut = true
            kill()
          }, timeoutMs)
        : undefined
    const onAbort = () => {
      outcome.canceled = true
      kill()
    }
    cancelSignal?.addEventListener('abort', onAbort, { once: true })

    let settled = false
    const finish = (exitCode: number | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(forceKill)
      cancelSignal?.removeEventListener('abort', onAbort)
      if (onLine && pending !== '') onLine(withoutCarriageReturn(pending))
      resolve({
        ...outcome,
        exitCode: exitCode ?? undefined,
        stdout: stripFinalNewline(stdout),
        stderr: stripFinalNewline(stderr),
      })
    }
    child.on('error', (error) => {
      outcome.spawnError = error
      // A process that never started has no exit to wait for; one that did reports its exit as usual.
      if (child.pid === undefined) finish(null)
    })
    child.on('exit', (code) => {
      if (!killedByUs) return
      // Ended by us: what it wrote so far is the output; pipes a multiplexed ssh handed on are not waited for.
      child.stdout?.destroy()
      child.stderr?.destroy()
      finish(code)
    })
    child.on('close', (code) => finish(code))
  })
}

function withoutCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}

/** One final line end removed, as execa does (`\n` or `\r\n`). */
export function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2)
  if (text.endsWith('\n')) return text.slice(0, -1)
  return text
}
