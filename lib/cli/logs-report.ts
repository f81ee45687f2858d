import { chalk } from 'zx'
import { failureOf } from '../errors.ts'
import type { ServerOutcome } from '../fleet.ts'
import type { LogFilter } from '../logs/grep.ts'
import type { LogRead } from '../logs/read.ts'
import { PROGRAM_PREFIX } from '../logs/sources.ts'
import { createOutput, type Output } from './output.ts'

// server-logs' printing: a heading per source (tail's `==> … <==`), the lines with the alarming ones in red on a
// terminal, the --follow prefix (server and source, coloured per server), and the --json document.

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

/** The one-server prefix of earlier versions (`[service] line`), kept for checklists ejected from them. */
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

// Red is kept for alarming lines; each server gets the next of these, in server order.
const SERVER_COLOURS = [
  chalk.cyan,
  chalk.magenta,
  chalk.yellow,
  chalk.green,
  chalk.blue,
  chalk.cyanBright,
  chalk.magentaBright,
  chalk.yellowBright,
  chalk.greenBright,
  chalk.blueBright,
]

export const PREFIX_SEPARATOR = '│'

/** How a source is named in a prefix: `app.test/worker` for a program, `supervisor` for the daemon. */
export function shortService(service: string): string {
  return service.startsWith(PROGRAM_PREFIX) ? service.slice(PROGRAM_PREFIX.length) : service
}

/**
 * The --follow prefix of every line, `web-3 app.test/worker │`, padded so that the lines of all the followed sources
 * start in one column, and coloured per server on a terminal.
 */
export function linePrefixer(
  followed: Array<{ server: string; services: string[] }>,
  colour: boolean,
): (server: string, service: string) => string {
  const serverWidth = Math.max(0, ...followed.map((f) => f.server.length))
  const sourceWidth = Math.max(0, ...followed.flatMap((f) => f.services.map((s) => shortService(s).length)))
  const paintOf = new Map(followed.map((f, i) => [f.server, SERVER_COLOURS[i % SERVER_COLOURS.length]!]))
  return (server, service) => {
    const text = `${server.padEnd(serverWidth)} ${shortService(service).padEnd(sourceWidth)} ${PREFIX_SEPARATOR}`
    const paint = colour ? paintOf.get(server) : undefined
    return paint ? paint(text) : text
  }
}

export function prefixedLine(prefix: string, line: string, colour: boolean): string {
  return `${prefix} ${highlight(line, colour)}`
}

/** Every server's sources under their headings, in server order, and an error line for each server that failed. */
export function reportServerLogs(output: Output, outcomes: ServerOutcome<LogRead[]>[]): void {
  let first = true
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      output.error(`${outcome.server.name}: ${messageOf(outcome.error)}`)
      continue
    }
    if (!first && outcome.value.length && !output.options.json) output.info('')
    if (outcome.value.length) first = false
    reportLogs(output, outcome.server.name, outcome.value)
  }
}

/** The --json document over servers: one entry per server and source, `{ server, source, lines }` and where from. */
export function logsDocument(lines: number, filter: LogFilter | undefined, outcomes: ServerOutcome<LogRead[]>[]) {
  return {
    ok: outcomes.every((o) => o.ok),
    lines,
    grep: filter ? { pattern: filter.pattern, regex: filter.syntax === 'extended' } : null,
    logs: outcomes.flatMap((o) =>
      o.ok
        ? o.value.map((r) => ({
            server: o.server.name,
            source: r.service,
            from: r.from,
            path: r.path,
            lines: r.lines,
            missing: r.missing,
          }))
        : [],
    ),
    failed: outcomes.flatMap((o) =>
      o.ok ? [] : [{ server: o.server.name, state: failureOf(o.error), error: messageOf(o.error) }],
    ),
  }
}

/** A server lost during --follow, said once: before its streams started, or while they ran. */
export function describeLostServer(server: string, error: unknown, wasFollowing: boolean, othersLeft: boolean): string {
  // ssh says nothing when the server end vanished: "ssh exited 255: " alone.
  const said = messageOf(error).replace(/:\s*$/, '')
  const why = wasFollowing && failureOf(error) === 'UNREACHABLE' ? `connection lost (${said})` : said
  return `${server}: ${wasFollowing ? 'stopped following' : 'cannot follow'}: ${why}${othersLeft ? '; the other servers go on' : ''}`
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
