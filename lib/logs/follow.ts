// --follow: stream every chosen source until stopped — one `tail -F` for all files, and `journalctl -f` for the
// daemon where systemd runs — each line tagged with the source it came from.

import type { ServerLayout } from '../layout.ts'
import type { Connection } from '../remote/connection.ts'
import { type Stream, streamCommand } from '../remote/stream.ts'
import { type DaemonLog, locateDaemonLog } from './read.ts'
import { DAEMON_SERVICE, type LogSource } from './sources.ts'

export interface FollowedFile {
  path: string
  service: string
}

export type FollowCommand =
  | { kind: 'tail'; argv: string[]; files: FollowedFile[] }
  | { kind: 'journal'; argv: string[]; service: string }

export interface FollowOptions {
  lines: number
  onLine(service: string, line: string): void
  /** tail's own messages (a file missing or appearing), with the service they concern. */
  onNotice(service: string | undefined, text: string): void
  /** Aborting stops every stream; followLogs then resolves. */
  signal?: AbortSignal
  /** Where this server's supervisord logs (its service name and log file); Debian's when not given. */
  layout?: Pick<ServerLayout, 'service' | 'daemonLog'>
}

export interface FollowEnd {
  /** Stopped through the signal (the user's Ctrl-C), not ended by itself. */
  stopped: boolean
  /** Commands that ended by themselves with a non-zero exit code. */
  failed: Array<{ command: string; exitCode: number }>
}

/** The commands that follow these sources: the files in one tail, the journal (if the daemon logs there) apart. */
export function followCommands(sources: LogSource[], daemon: DaemonLog | undefined, lines: number): FollowCommand[] {
  const files: FollowedFile[] = []
  const commands: FollowCommand[] = []
  for (const source of sources) {
    if (source.kind === 'program') files.push({ path: source.path, service: source.service })
    else if (daemon?.from === 'journal')
      commands.push({
        kind: 'journal',
        argv: ['journalctl', '-u', daemon.unit, '-n', String(lines), '-f', '--no-pager'],
        service: DAEMON_SERVICE,
      })
    else if (daemon) files.push({ path: daemon.path, service: DAEMON_SERVICE })
  }
  // -F follows by name and retries: a log that is rotated (copytruncate) or not yet created keeps being followed.
  if (files.length)
    commands.unshift({
      kind: 'tail',
      argv: ['tail', '-n', String(lines), '-F', '--', ...files.map((f) => f.path)],
      files,
    })
  return commands
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
  const commands = followCommands(sources, daemon, options.lines)
  if (options.signal?.aborted) return { stopped: true, failed: [] }
  const streams = commands.map((command) => ({ command, stream: startStream(connection, command, options) }))
  const stopAll = () => Promise.all(streams.map(({ stream }) => stream.stop()))
  options.signal?.addEventListener('abort', () => void stopAll(), { once: true })
  const ends = await Promise.allSettled(streams.map(({ stream }) => stream.done))
  const lost = ends.find((e) => e.status === 'rejected')
  if (lost && !options.signal?.aborted) {
    await stopAll()
    throw lost.reason
  }
  const failed = ends.flatMap((end, i) =>
    end.status === 'fulfilled' && !end.value.stopped && end.value.exitCode !== 0
      ? [{ command: streams[i]!.command.argv.join(' '), exitCode: end.value.exitCode }]
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
