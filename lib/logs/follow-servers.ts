// --follow across servers: every server at once, each through its own SSH master, into one stream of lines tagged
// with their server and source. A server that cannot be reached or drops is reported once; the others go on.

import type { Session } from '../remote/connection.ts'
import { layoutOf } from '../supervisor/rpc.ts'
import { followLogs } from './follow.ts'
import type { LogFilter } from './grep.ts'
import { placeLogSources } from './sources.ts'
import type { LogTarget } from './targets.ts'

export interface ServersFollowOptions {
  lines: number
  filter?: LogFilter
  /** Aborting stops every stream on every server; followServers then resolves. */
  signal: AbortSignal
  onLine(server: string, service: string, line: string): void
  /** tail's own messages (a file missing or appearing), with the service they concern. */
  onNotice(server: string, service: string | undefined, text: string): void
  /** A server's streams are starting, with the services it follows. */
  onFollowing?(server: string, services: string[]): void
  /** A server could not be reached, or its connection broke (wasFollowing): called once for that server. */
  onLost(server: string, error: unknown, wasFollowing: boolean): void
  /** Servers being connected to at once (the handshake is the costly part; following many is not). Default 16. */
  connectAtOnce?: number
}

export interface ServersFollowEnd {
  /** Stopped through the signal (the user's Ctrl-C), not ended by itself. */
  stopped: boolean
  /** Servers reported through onLost, in the order they were lost. */
  lost: string[]
  /** Commands that ended by themselves with a non-zero exit code. */
  failed: Array<{ server: string; command: string; exitCode: number }>
}

/** Follows every target until the signal aborts (or every stream has ended); resolves with what was lost. */
export async function followServers(
  session: Session,
  targets: LogTarget[],
  options: ServersFollowOptions,
): Promise<ServersFollowEnd> {
  const { signal } = options
  const connecting = limit(options.connectAtOnce ?? 16)
  const lost: string[] = []
  const failed: ServersFollowEnd['failed'] = []
  const followOne = async (target: LogTarget) => {
    const name = target.server.name
    let following = false
    try {
      const opened = await connecting(async () => {
        if (signal.aborted) return undefined
        const connection = await session.connect(target.server)
        return { connection, layout: await layoutOf(connection) }
      })
      if (!opened || signal.aborted) return
      const sources = placeLogSources(target.sources, opened.layout)
      following = true
      options.onFollowing?.(
        name,
        sources.map((s) => s.service),
      )
      const end = await followLogs(opened.connection, sources, {
        lines: options.lines,
        ...(options.filter ? { filter: options.filter } : {}),
        signal,
        layout: opened.layout,
        onLine: (service, line) => options.onLine(name, service, line),
        onNotice: (service, text) => options.onNotice(name, service, text),
      })
      failed.push(...end.failed.map((f) => ({ server: name, ...f })))
    } catch (error) {
      // After a stop, a connection cut by it is no news.
      if (signal.aborted) return
      lost.push(name)
      options.onLost(name, error, following)
    }
  }
  await Promise.all(targets.map(followOne))
  return { stopped: signal.aborted, lost, failed }
}

/** Runs at most `count` of the given functions at a time, in the order they were handed in. */
function limit(count: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: Array<() => void> = []
  return async (work) => {
    if (running < count) running++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await work()
    } finally {
      // The slot passes straight to the next one waiting, so no newcomer slips in between.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}
