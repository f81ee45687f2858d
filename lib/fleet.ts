import type { Connection, Session } from './remote/connection.ts'
import type { Server } from './types.ts'

// Many servers at once: each gets its own connection and its own outcome; one failure never stops the others.
// A step that changed a server records it (`applied`), so a later failure on that server is reported together
// with what had already been done there.

export interface AppliedStep {
  step: string
  result: unknown
}

export type ServerOutcome<T> =
  | { server: Server; ok: true; value: T; applied: AppliedStep[] }
  | { server: Server; ok: false; error: unknown; applied: AppliedStep[] }

/** Handed to the work of one server: record each step that changed it, as it completes. */
export type RecordApplied = (step: string, result: unknown) => void

/** What forEachServer reports as servers take their turn and finish, for a progress display (steps never print). */
export type FleetEvent = { kind: 'started'; server: Server } | { kind: 'finished'; server: Server; ok: boolean }

/**
 * Runs work on every server, at most `concurrency` at a time. A server's connection is opened at its turn, inside
 * the worker, so no more than `concurrency` servers are ever being connected to or worked on at once.
 */
export async function forEachServer<T>(
  servers: Server[],
  session: Session,
  work: (server: Server, connection: Connection, applied: RecordApplied) => Promise<T>,
  concurrency = 16,
  onProgress?: (event: FleetEvent) => void,
): Promise<ServerOutcome<T>[]> {
  const outcomes: ServerOutcome<T>[] = new Array(servers.length)
  let next = 0
  const worker = async () => {
    while (next < servers.length) {
      const index = next++
      const server = servers[index] as Server
      const applied: AppliedStep[] = []
      const record: RecordApplied = (step, result) => applied.push({ step, result })
      onProgress?.({ kind: 'started', server })
      try {
        outcomes[index] = {
          server,
          ok: true,
          value: await work(server, await session.connect(server), record),
          applied,
        }
      } catch (error) {
        outcomes[index] = { server, ok: false, error, applied }
      }
      onProgress?.({ kind: 'finished', server, ok: (outcomes[index] as ServerOutcome<T>).ok })
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, servers.length)) }, worker))
  return outcomes
}
