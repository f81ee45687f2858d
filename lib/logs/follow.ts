// --follow on one server: stream every chosen source until stopped — a `tail -F` per file and `journalctl -f` for the
// daemon where systemd runs, over the server's one SSH connection — each line tagged with the source it came from.

import type { ServerLayout } from '../layout.ts'
import type { Connection } from '../remote/connection.ts'
import { type Stream, streamCommand } from '../remote/stream.ts'
import { filteredFollowArgv, type LogFilter } from './grep.ts'
import { type DaemonLog, locateDaemonLog } from './read.ts'
import { DAEMON_SERVICE, type LogSource } from './sources.ts'

export interface FollowedFile {
  path: string
  service: string
}

/** argv is what runs on the server; label is how messages name it (the command before any grep). */
export type FollowCommand =
  | { kind: 'tail'; argv: string[]; label: string; files: FollowedFile[] }
  | { kind: 'journal'; argv: string[]; label: string; service: string }

export interface FollowOptions {
  lines: number
  onLine(service: string, line: string): void
  /** tail's own messages (a file missing or appearing), with the service they concern. */
  onNotice(service: string | undefined, text: string): void
  /** Aborting stops every stream; followLogs then resolves. */
  signal?: AbortSignal
  /** Only the lines that match, filtered on the server. */
  filter?: LogFilter
  /** Where this server's supervisord logs (its service name and log file); Debian's when not given. */
  layout?: Pick<ServerLayout, 'service' | 'daemonLog'>
}

export interface FollowEnd {
  /** Stopped through the signal (the user's Ctrl-C), not ended by itself. */
  stopped: boolean
  /** Commands that ended by themselves with a non-zero exit code. */
  failed: Array<{ command: string; exitCode: number }>
}

/**
 * Sessions one server's follow may open at once over its SSH connection: sshd allows 10 per connection by default
 * (MaxSessions), and a warm master may be serving another run too.
 */
export const STREAMS_PER_SERVER = 8

/**
 * The commands that follow these sources: a `tail -F` per file, so each stream carries one file's bytes and a line
 * written in pieces arrives whole; the journal (if the daemon logs there) apart. Beyond STREAMS_PER_SERVER, files
 * share tails (split back by their `==> PATH <==` headers). With a filter, each command runs through grep there.
 */
export function followCommands(
  sources: LogSource[],
  daemon: DaemonLog | undefined,
  lines: number,
  filter?: LogFilter,
): FollowCommand[] {
  const files: FollowedFile[] = []
  const commands: FollowCommand[] = []
  for (const source of sources) {
    if (source.kind !== 'daemon') files.push({ path: source.path, service: source.service })
    else if (daemon?.from === 'journal') {
      const argv = ['journalctl', '-u', daemon.unit, '-n', String(lines), '-f', '--no-pager']
      commands.push({
        kind: 'journal',
        argv: filter ? filteredFollowArgv(filter, argv) : argv,
        label: argv.join(' '),
        service: DAEMON_SERVICE,
      })
    } else if (daemon) files.push({ path: daemon.path, service: DAEMON_SERVICE })
  }
  const tails = shareOut(files, STREAMS_PER_SERVER - commands.length).map((group): FollowCommand => {
    // -F follows by name and retries: a log that is rotated (copytruncate) or not yet created keeps being followed.
    const argv = ['tail', '-n', String(lines), '-F', '--', ...group.map((f) => f.path)]
    const headers = group.length > 1 ? group.map((f) => `==> ${f.path} <==`) : []
    return {
      kind: 'tail',
      argv: filter ? filteredFollowArgv(filter, argv, headers) : argv,
      label: argv.join(' '),
      files: group,
    }
  })
  return [...tails, ...commands]
}

/** Files in order, in at most `slots` groups of nearly equal size (one file each while they fit). */
export function shareOut<T>(items: T[], slots: number): T[][] {
  const size = Math.ceil(items.length / Math.max(1, slots))
  const groups: T[][] = []
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size))
  return groups
}

/**
 * Splits one `tail -F` output into its files. With several files tail writes `==> PATH <==` before each switch,
 * preceded by a blank line (except the first); a blank line is held back until the next line shows whether it was
 * tail's. A log line that is exactly the header of another followed file would be taken for one.
 */
export function tailDemux(files: FollowedFile[]): {
  push(line: string): Array<[string, string]>
  flush(): Array<[string, string]>
} {
  const byPath = new Map(files.map((f) => [f.path, f.service]))
  let current = files[0]?.service ?? ''
  let heldBlank = false
  const release = (): Array<[string, string]> => {
    const out: Array<[string, string]> = heldBlank ? [[current, '']] : []
    heldBlank = false
    return out
  }
  return {
    push(line) {
      if (files.length < 2) return [[current, line]]
      const header = /^==> (.*) <==$/.exec(line)?.[1]
      const service = header === undefined ? undefined : byPath.get(header)
      if (service !== undefined) {
        heldBlank = false
        current = service
        return []
      }
      if (line === '') {
        const out = release()
        heldBlank = true
        return out
      }
      return [...release(), [current, line]]
    },
    flush: release,
  }
}

/** Which followed file a tail message (`tail: cannot open '/x.log' for reading: …`) is about. */
export function noticeService(files: FollowedFile[], text: string): string | undefined {
  return files.find((f) => text.includes(`'${f.path}'`) || text.includes(`${f.path}:`))?.service
}

export async function followLogs(
  connection: Connection,
  sources: LogSource[],
  options: FollowOptions,
): Promise<FollowEnd> {
  const daemon = sources.some((s) => s.kind === 'daemon')
    ? await locateDaemonLog(connection, options.layout)
    : undefined
  const commands = followCommands(sources, daemon, options.lines, options.filter)
  if (options.signal?.aborted) return { stopped: true, failed: [] }
  const streams = commands.map((command) => ({ command, stream: startStream(connection, command, options) }))
  const stopAll = () => Promise.all(streams.map(({ stream }) => stream.stop()))
  options.signal?.addEventListener('abort', () => void stopAll(), { once: true })
  // One stream lost (its connection broke) ends this server's follow: the others are stopped, not left running.
  let lost: { reason: unknown } | undefined
  const ends = await Promise.allSettled(
    streams.map(({ stream }) =>
      stream.done.catch((reason: unknown) => {
        if (!lost && !options.signal?.aborted) {
          lost = { reason }
          void stopAll()
        }
        throw reason
      }),
    ),
  )
  if (lost) throw lost.reason
  const failed = ends.flatMap((end, i) =>
    end.status === 'fulfilled' && !end.value.stopped && end.value.exitCode !== 0
      ? [{ command: streams[i]!.command.label, exitCode: end.value.exitCode }]
      : [],
  )
  return { stopped: Boolean(options.signal?.aborted), failed }
}

function startStream(connection: Connection, command: FollowCommand, options: FollowOptions): Stream {
  if (command.kind === 'journal') {
    return streamCommand(connection, command.argv, {
      privileged: true,
      onLine: (line) => options.onLine(command.service, line),
      onErrorLine: (line) => options.onNotice(command.service, line),
    })
  }
  const demux = tailDemux(command.files)
  const stream = streamCommand(connection, command.argv, {
    privileged: true,
    onLine: (line) => {
      for (const [service, text] of demux.push(line)) options.onLine(service, text)
    },
    onErrorLine: (line) => options.onNotice(noticeService(command.files, line), line),
  })
  return {
    stop: stream.stop,
    done: stream.done.then((end) => {
      for (const [service, text] of demux.flush()) options.onLine(service, text)
      return end
    }),
  }
}
