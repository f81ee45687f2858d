// The last N lines of each log source, read through the connection as root (Debian's log files are root-only).

import { RemoteError } from '../errors.ts'
import { DEBIAN_LAYOUT, type ServerLayout } from '../layout.ts'
import type { Connection } from '../remote/connection.ts'
import { filteredReadArgv, type LogFilter } from './grep.ts'
import { DAEMON_SERVICE, type LogSource } from './sources.ts'

export interface LogRead {
  service: string
  from: 'file' | 'journal'
  /** The file read; null for the journal. */
  path: string | null
  lines: string[]
  /** The file does not exist (yet): a warning, not a failure. */
  missing: boolean
}

export type DaemonLog = { from: 'journal'; unit: string } | { from: 'file'; path: string }

// A running systemd, not an installed systemctl (it exists in containers and chroots too); and a journal that
// holds supervisord's output at all, else its own log file, which Debian's supervisord writes in any case.
const LOCATE_DAEMON_LOG = `if [ -d /run/systemd/system ] && [ -n "$(journalctl -u "$1" -n 1 --no-pager --quiet 2>/dev/null)" ]; then echo journal; else echo file; fi`

/** Where the supervisord daemon logs on this server: the journal where systemd runs it, else its log file. */
export async function locateDaemonLog(
  connection: Connection,
  layout: Pick<ServerLayout, 'service' | 'daemonLog'> = DEBIAN_LAYOUT,
): Promise<DaemonLog> {
  const result = await connection.run(['sh', '-c', LOCATE_DAEMON_LOG, 'sh', layout.service], { privileged: true })
  if (result.exitCode !== 0)
    throw new RemoteError(
      connection.server.name,
      `cannot tell where supervisord logs: ${result.stderr.trim()}`,
      result.stderr,
    )
  return result.stdout.trim() === 'journal'
    ? { from: 'journal', unit: layout.service }
    : { from: 'file', path: layout.daemonLog }
}

/**
 * Every source in order, one command each (sequential: sshd limits the sessions of one connection). With a filter,
 * the last N lines that match, found on the server.
 */
export async function readLogs(
  connection: Connection,
  sources: LogSource[],
  lines: number,
  layout: Pick<ServerLayout, 'service' | 'daemonLog'> = DEBIAN_LAYOUT,
  filter?: LogFilter,
): Promise<LogRead[]> {
  const daemon = sources.some((s) => s.kind === 'daemon') ? await locateDaemonLog(connection, layout) : undefined
  const reads: LogRead[] = []
  for (const source of sources) {
    if (source.kind !== 'daemon') reads.push(await readFile(connection, source.service, source.path, lines, filter))
    else if (daemon?.from === 'journal') reads.push(await readJournal(connection, daemon.unit, lines, filter))
    else reads.push(await readFile(connection, DAEMON_SERVICE, layout.daemonLog, lines, filter))
  }
  return reads
}

export async function readFile(
  connection: Connection,
  service: string,
  path: string,
  lines: number,
  filter?: LogFilter,
): Promise<LogRead> {
  const argv = filter ? filteredReadArgv(filter, lines, ['cat', '--', path]) : ['tail', '-n', String(lines), '--', path]
  const result = await connection.run(argv, { privileged: true })
  if (result.exitCode !== 0 && /No such file or directory/.test(result.stderr))
    return { service, from: 'file', path, lines: [], missing: true }
  if (result.exitCode !== 0)
    throw new RemoteError(
      connection.server.name,
      `cannot read ${path}: ${result.stderr.trim() || `${filter ? 'grep' : 'tail'} exited ${result.exitCode}`}`,
      result.stderr,
    )
  return { service, from: 'file', path, lines: splitLines(result.stdout), missing: false }
}

export async function readJournal(
  connection: Connection,
  unit: string,
  lines: number,
  filter?: LogFilter,
): Promise<LogRead> {
  // Filtered: the unit's whole journal goes through grep there (-q: no "-- No entries --" to match).
  const argv = filter
    ? filteredReadArgv(filter, lines, ['journalctl', '-u', unit, '--no-pager', '-q'])
    : ['journalctl', '-u', unit, '-n', String(lines), '--no-pager']
  const result = await connection.run(argv, { privileged: true })
  if (result.exitCode !== 0)
    throw new RemoteError(
      connection.server.name,
      `cannot read the journal of ${unit}: ${result.stderr.trim() || `journalctl exited ${result.exitCode}`}`,
      result.stderr,
    )
  const text = splitLines(result.stdout)
  const empty = text.length === 1 && text[0] === '-- No entries --'
  return { service: DAEMON_SERVICE, from: 'journal', path: null, lines: empty ? [] : text, missing: empty }
}

/** Command output as lines: no trailing empty line, and nothing at all for no output. */
export function splitLines(text: string): string[] {
  if (text === '') return []
  return text.replace(/\n$/, '').split('\n')
}
