import { chalk } from 'zx'
import type { LogRead } from '../logs/read.ts'
import { createOutput, type Output } from './output.ts'

// server-logs' printing: a heading per source (tail's `==> … <==`), the lines with the alarming ones in red on a
// terminal, the --follow prefix, and the --json document.

// DeployerPHP's keywords (substrings, any case) and HTTP server errors as whole numbers (not 5000, not 500ms).
const ALARMING_WORDS = /error|exception|fail|fatal|panic/i
const HTTP_SERVER_ERROR = /\b50[0-4]\b/

export const MISSING_MESSAGE = 'No logs found or file does not exist'

export function isAlarming(line: string): boolean {
  return ALARMING_WORDS.test(line) || HTTP_SERVER_ERROR.test(line)
}

export function highlight(line: string, colour: boolean): string {
  return colour && isAlarming(line) ? chalk.red(line) : line
}

/** Colour only on a terminal (never in a pipe or a file), and never when NO_COLOR is set. */
export function wantsColour(output: Output): boolean {
  return !output.options.json && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
}

export function sourceHeading(server: string, read: LogRead): string {
  const where = read.from === 'journal' ? 'journalctl -u supervisor' : read.path
  return `==> ${server} ${read.service} (${where}) <==`
}

export function followedLine(service: string, line: string, colour: boolean): string {
  return `${colour ? chalk.cyan(`[${service}]`) : `[${service}]`} ${highlight(line, colour)}`
}

/**
 * Where log lines go. --quiet drops the headings and notes, as `tail -q` does, but never the lines themselves: a log
 * command that printed nothing would be of no use.
 */
export function logLineOutput(output: Output): Output {
  return output.options.quiet ? createOutput({ ...output.options, quiet: false }) : output
}

/** Each source under its heading; under --json only the warnings (the lines are in the document). */
export function reportLogs(output: Output, server: string, reads: LogRead[]): void {
  const lines = logLineOutput(output)
  const colour = wantsColour(output)
  reads.forEach((read, index) => {
    if (!output.options.json) {
      if (index > 0) output.info('')
      output.info(colour ? chalk.bold(sourceHeading(server, read)) : sourceHeading(server, read))
    }
    if (read.missing)
      output.warn(
        `${server} ${read.service}: ${read.from === 'journal' ? 'No logs found in the journal' : `${MISSING_MESSAGE} (${read.path})`}`,
      )
    if (!output.options.json) for (const line of read.lines) lines.info(highlight(line, colour))
  })
}

/** A tail message as the user should read it; "cannot open … No such file" is DeployerPHP's missing-log warning. */
export function describeNotice(server: string, service: string | undefined, text: string): string {
  const about = service ? `${server} ${service}` : server
  const missing = /cannot open '(.*)' for reading: No such file or directory/.exec(text)
  if (missing) return `${about}: ${MISSING_MESSAGE} (${missing[1]}); waiting for it to appear`
  return `${about}: ${text}`
}

export function logsJson(server: string, lines: number, reads: LogRead[]) {
  return {
    ok: true,
    server,
    lines,
    sources: reads.map((r) => ({ service: r.service, from: r.from, path: r.path, lines: r.lines, missing: r.missing })),
  }
}
