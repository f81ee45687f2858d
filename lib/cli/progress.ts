import type { FleetEvent } from '../fleet.ts'
import type { Output } from './output.ts'
import { runsInCi } from './spinner.ts'

// The live "31/48 done, 1 failed, 16 running" line on stderr while servers are pending: redrawn in place with \r,
// erased before anything else is printed. Only for a person watching: never in CI, with --quiet, --json or --verbose
// (a line per command), or when stderr (or, for the task's own lines, stdout) is not a terminal. A task's own output draws it on its status line
// (lib/cli/spinner.ts), which also spins while a server is waited on and is erased by the output before every line.

export interface FleetProgress {
  /** Hand to forEachServer as its progress callback. */
  onEvent(event: FleetEvent): void
  /** Erases the line; call before printing the per-server lines. */
  end(): void
}

export interface ProgressTerminal {
  isTTY?: boolean
  columns?: number
  write(text: string): unknown
}

const ERASE_LINE = '\r\x1b[2K'

export function progressWanted(
  output: Output,
  terminal: ProgressTerminal = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const { json, quiet, verbose } = output.options
  return Boolean(terminal.isTTY) && !runsInCi(env) && !json && !quiet && !verbose
}

export function formatProgress(total: number, done: number, failed: number, running: number): string {
  return `${done}/${total} done, ${failed} failed, ${running} running`
}

/**
 * A progress line for `total` servers, or one that does nothing when progressWanted says no. Without a terminal given,
 * it is drawn on the output's status line when the output has one (the task frame's does, at a terminal).
 */
export function startFleetProgress(
  output: Output,
  total: number,
  given?: ProgressTerminal,
  env: NodeJS.ProcessEnv = process.env,
): FleetProgress {
  let done = 0
  let failed = 0
  let running = 0
  const count = (event: FleetEvent) => {
    if (event.kind === 'started') running++
    else {
      running--
      done++
      if (!event.ok) failed++
    }
    return formatProgress(total, done, failed, running)
  }
  const { status } = output
  if (!given && status) {
    if (output.options.verbose) return { onEvent() {}, end() {} }
    return {
      onEvent(event) {
        if (event.kind === 'finished') status.settle(event.server.name)
        status.progress(count(event))
      },
      end: () => status.progress(undefined),
    }
  }
  // A task's stdout through a pipe: the reader writes our lines to the terminal when it likes, over the count.
  if (!given && !output.options.json && !process.stdout.isTTY) return { onEvent() {}, end() {} }
  const terminal = given ?? process.stderr
  if (!progressWanted(output, terminal, env)) return { onEvent() {}, end() {} }
  let drawn = false
  const erase = () => {
    if (drawn) terminal.write(ERASE_LINE)
    drawn = false
  }
  // The frame's Ctrl-C handler prints "interrupted": erase first so it does not land at the end of our line.
  // Only prepended when someone already handles the signal, so our listener never changes whether it ends the process.
  const signals = (['SIGINT', 'SIGTERM'] as const).filter((signal) => process.listenerCount(signal) > 0)
  for (const signal of signals) process.prependListener(signal, erase)
  return {
    onEvent(event) {
      // A line wider than the terminal wraps, and \r would then redraw only its last row (a pty without a size says 0).
      const text = count(event).slice(0, (terminal.columns || 80) - 1)
      terminal.write(`${ERASE_LINE}${text}`)
      drawn = true
    },
    end() {
      erase()
      for (const signal of signals) process.removeListener(signal, erase)
    },
  }
}
