import type { Connection } from '../remote/connection.ts'
import { type MapOptions, mapServerPrograms, type ServerImport } from './map.ts'
import { readServerPrograms } from './read-programs.ts'

// One server of an import: read what its supervisor holds (one remote process, read only), then map it (pure).

export async function importServer(connection: Connection, options: Omit<MapOptions, 'server'>): Promise<ServerImport> {
  const read = await readServerPrograms(connection)
  return mapServerPrograms(read, { ...options, server: connection.server })
}
