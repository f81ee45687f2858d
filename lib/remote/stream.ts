import readline from 'node:readline'
import { RemoteError } from '../errors.ts'
import { spawnTracked } from './command.ts'
import type { Connection } from './connection.ts'
import { describeEndpoint } from './endpoint.ts'
import { describeSshFailure, lastLine, sudoNeedsPassword, sudoPasswordError } from './ssh-errors.ts'

// A long-running remote command whose output arrives line by line (tail -F, journalctl -f), over the same
// connection and ssh options as Connection.run, and that can be stopped without leaving anything running.

export interface StreamOptions {
  /** Run as root: `sudo -n` for a non-root login. */
  privileged?: boolean
  onLine(line: string): void
  onErrorLine?(line: string): void
}

export interface StreamEnd {
  exitCode: number
  /** Ended by stop(), not by itself. */
  stopped: boolean
}

export interface Stream {
  /** Settles once the command ended and every line was delivered; rejects when the connection failed. */
  done: Promise<StreamEnd>
  /** Closes the command's stdin (the wrapper then kills it on the server), then the local process if needed. */
  stop(): Promise<void>
}

// No pty (ssh -t would mix stderr in and rewrite line ends), so a closed channel alone does not stop the remote
// command until it next writes. The wrapper watches stdin instead: it closes when stop() ends it, when the ssh
// client dies or when the master connection goes, and the watcher then kills the command. A command that ends by
// itself takes the watcher with it. Background jobs read /dev/null, hence the watcher's own copy of stdin (fd 3).
export const UNTIL_STDIN_CLOSES = [
  'exec 3<&0',
  '"$@" 3<&- &',
  'pid=$!',
  '{ read -r _ <&3; kill "$pid"; } >/dev/null 2>&1 &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$pid"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n')

const STOP_GRACE_MS = 3000

export function streamCommand(connection: Connection, argv: string[], options: StreamOptions): Stream {
  const [file, args] = connection.sshCommand(['sh', '-c', UNTIL_STDIN_CLOSES, 'sh', ...argv], {
    privileged: options.privileged,
  })
  // stdin stays open (never written): its end is the stop signal. ssh is killed if this process exits first.
  const child = spawnTracked(file, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  // A command that is gone before stop() closes its stdin is not an error of ours (EPIPE).
  child.stdin?.on('error', () => {})
  let stopped = false
  const stderr: string[] = []
  const lines = readline.createInterface({ input: child.stdout! })
  const errors = readline.createInterface({ input: child.stderr! })
  lines.on('line', (line) => options.onLine(line))
  errors.on('line', (line) => {
    stderr.push(line)
    if (stderr.length > 50) stderr.shift()
    // What ssh or the command says while being stopped is noise, not news; sudo's password line becomes the one error.
    if (!stopped && !sudoNeedsPassword(line)) options.onErrorLine?.(line)
  })
  const closed = (rl: readline.Interface) => new Promise<void>((resolve) => rl.once('close', resolve))
  const exited = new Promise<{ exitCode: number | null }>((resolve) => {
    child.once('close', (exitCode) => resolve({ exitCode }))
    // ssh that cannot start: no exit code, as a connection that failed (255 below).
    child.once('error', () => {
      if (child.pid === undefined) resolve({ exitCode: null })
    })
  })
  const finished = Promise.all([exited, closed(lines), closed(errors)]).then(([result]) => result)

  const done = finished.then((result): StreamEnd => {
    const exitCode = result.exitCode ?? 255
    const text = stderr.join('\n')
    if (stopped) return { exitCode, stopped }
    if (sudoNeedsPassword(text)) throw sudoPasswordError(connection.server.name, connection.login.user)
    if (exitCode === 255 && !connection.server.local) {
      const reason =
        describeSshFailure(text, describeEndpoint(connection.server, connection.login)) ??
        `ssh exited 255: ${lastLine(text)}`
      throw new RemoteError(connection.server.name, reason, text, 'UNREACHABLE')
    }
    return { exitCode, stopped }
  })
  done.catch(() => {})

  return {
    done,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      stopped = true
      child.stdin?.end()
      if (await settlesWithin(finished, STOP_GRACE_MS)) return
      child.kill('SIGTERM')
      if (await settlesWithin(finished, STOP_GRACE_MS)) return
      child.kill('SIGKILL')
      await finished
    },
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}
