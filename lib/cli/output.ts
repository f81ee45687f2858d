import { chalk } from 'zx'
import { redactSecrets } from '../redact.ts'
import { isReservedEnvKey } from '../values.ts'
import {
  createStatusLine,
  type StatusClock,
  type StatusLine,
  type StatusTerminal,
  statusLineWanted,
} from './spinner.ts'

// All printing of a task goes through here: human lines (stdout, or stderr under --json), the one JSON document,
// and the Ansible-style recap. On a terminal it also owns the status line (lib/cli/spinner.ts): erased before each line.

export interface OutputOptions {
  json: boolean
  quiet: boolean
  verbose: boolean
}

export interface RecapRow {
  server: string
  ok: number
  changed: number
  failed: number
  /** supervisor-status only: programs not fully running (FATAL, BACKOFF, STOPPED, not loaded): exit 3, not failed. */
  down?: number
  note?: string
}

export interface Output {
  readonly options: OutputOptions
  /** The progress count and wait spinner on stderr; absent when they are not wanted (not a terminal, CI, --json...). */
  readonly status?: StatusLine
  info(line: string): void
  /** A line about one server, prefixed with its name. */
  server(name: string, line: string): void
  warn(line: string): void
  error(line: string): void
  /** Shown only with --verbose. */
  detail(line: string): void
  /** The recap closes every task that touches servers. */
  recap(rows: RecapRow[]): void
  /** The single JSON document of --json (ignored otherwise). */
  json(document: unknown): void
}

export function createOutput(
  options: OutputOptions,
  streams: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr },
  terminal: { env?: NodeJS.ProcessEnv; clock?: StatusClock } = {},
): Output {
  const human = options.json ? streams.err : streams.out
  const status = statusLineWanted(
    options,
    streams as { out: { isTTY?: boolean }; err: { isTTY?: boolean } },
    terminal.env,
  )
    ? createStatusLine(streams.err as StatusTerminal, terminal)
    : undefined
  const toErr = (text: string) => {
    status?.clear()
    streams.err.write(text)
  }
  const write = (line: string) => {
    status?.clear()
    human.write(`${line}\n`)
  }
  const color = Boolean((human as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR
  const paint = (fn: (s: string) => string, s: string) => (color ? fn(s) : s)
  return {
    options,
    ...(status ? { status } : {}),
    info: (line) => {
      if (!options.quiet) write(line)
    },
    server: (name, line) => {
      if (!options.quiet) write(`${paint(chalk.cyan, name)}  ${line}`)
    },
    warn: (line) => toErr(`${paint(chalk.yellow, 'warning:')} ${line}\n`),
    error: (line) => toErr(`${paint(chalk.red, 'error:')} ${line}\n`),
    detail: (line) => {
      if (options.verbose) toErr(`${paint(chalk.gray, redactSecrets(line, isReservedEnvKey))}\n`)
    },
    recap(rows) {
      if (!rows.length) return
      const width = Math.max(...rows.map((r) => r.server.length)) + 2
      write('')
      write('RECAP')
      for (const row of rows) {
        const counts = `ok=${row.ok} changed=${row.changed} failed=${row.failed}${row.down === undefined ? '' : ` down=${row.down}`}`
        const text = `${row.server.padEnd(width)}${counts}${row.note ? `  ${row.note}` : ''}`
        write(
          row.failed
            ? paint(chalk.red, text)
            : row.changed || row.down
              ? paint(chalk.yellow, text)
              : paint(chalk.green, text),
        )
      }
    },
    json(document) {
      if (options.json) streams.out.write(`${JSON.stringify(document, null, 2)}\n`)
    },
  }
}
