import { setTimeout as sleep } from 'node:timers/promises'
import { failureOf } from '../errors.ts'
import { type FleetEvent, forEachServer, type ServerOutcome } from '../fleet.ts'
import type { Connection, Session } from '../remote/connection.ts'
import type { Server } from '../types.ts'

// The dashboard's heartbeat: read every server (at most `parallel` at once, one remote process each over its warm
// master), hand the outcomes on, wait `interval` seconds, again, until the signal aborts. A server that was lost gets
// a fresh connection on the next round, so one that comes back shows up again without a restart.

export interface WatchOptions<T> {
  servers: Server[]
  session: Session
  read: (server: Server, connection: Connection) => Promise<T>
  intervalSeconds: number
  parallel: number
  signal: AbortSignal
  onRound: (outcomes: ServerOutcome<T>[], at: Date) => void
  onProgress?: (event: FleetEvent) => void
}

/** Resolves when the signal aborts (after the round in flight, if any, has been handed on). */
export async function watchFleet<T>(options: WatchOptions<T>): Promise<void> {
  const { session, signal } = options
  while (!signal.aborted) {
    const outcomes = await forEachServer(options.servers, session, options.read, options.parallel, options.onProgress)
    if (signal.aborted) return
    options.onRound(outcomes, new Date())
    await Promise.all(
      outcomes.filter((o) => !o.ok && failureOf(o.error) === 'UNREACHABLE').map((o) => session.forget?.(o.server)),
    )
    await sleep(options.intervalSeconds * 1000, undefined, { signal }).catch(() => undefined)
  }
}
