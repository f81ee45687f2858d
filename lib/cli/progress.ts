import type { FleetEvent } from '../fleet.ts'
import type { Output } from './output.ts'

// The live "31/48 done, 1 failed, 16 running" line on stderr while servers are pending: redrawn in place with \r,
// erased before anything else is printed. Only for a person watching: never in CI, with --quiet, --json or --verbose
// (remote commands stream to stderr then), or when stderr is not a terminal.

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

/** A progress line for `total` servers, or one that does nothing when progressWanted says no. */
export function startFleetProgress(
  output: Output,
  total: number,
  terminal: ProgressTerminal = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): FleetProgress {
  if (!progressWanted(output, terminal, env)) return { onEvent() {}, end() {} }
  let done = 0
  let failed = 0
  let running = 0
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
      if (event.kind === 'started') running++
      else {
        running--
        done++
        if (!event.ok) failed++
      }
      // A line wider than the terminal wraps, and \r would then redraw only its last row (a pty without a size says 0).
      const text = formatProgress(total, done, failed, running).slice(0, (terminal.columns || 80) - 1)
      terminal.write(`${ERASE_LINE}${text}`)
      drawn = true
    },
    end() {
      erase()
      for (const signal of signals) process.removeListener(signal, erase)
    },
  }
}

/** CI=true (GitHub Actions, GitLab, most others) or any other non-empty value but "false"/"0". */
function runsInCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI?.trim().toLowerCase()
  return Boolean(ci) && ci !== 'false' && ci !== '0'
}
