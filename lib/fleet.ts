import type { Server } from './types.ts'
import type { Connection, Session } from './remote/connection.ts'

// Many servers at once: each gets its own connection and its own outcome; one failure never stops the others.

export type ServerOutcome<T> = { server: Server; ok: true; value: T } | { server: Server; ok: false; error: unknown }

export async function forEachServer<T>(
  servers: Server[],
  session: Session,
  work: (server: Server, connection: Connection) => Promise<T>,
  concurrency = 16,
): Promise<ServerOutcome<T>[]> {
  const outcomes: ServerOutcome<T>[] = new Array(servers.length)
  let next = 0
  const worker = async () => {
    while (next < servers.length) {
      const index = next++
      const server = servers[index] as Server
      try {
        outcomes[index] = { server, ok: true, value: await work(server, await session.connect(server)) }
      } catch (error) {
        outcomes[index] = { server, ok: false, error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, servers.length) }, worker))
  return outcomes
}
