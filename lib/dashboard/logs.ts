import { findServer } from '../inventory/resolve.ts'
import { followLogs } from '../logs/follow.ts'
import { findSiteOnServer, placeLogSources, programService, resolveLogSources } from '../logs/sources.ts'
import type { Session } from '../remote/connection.ts'
import { layoutOf } from '../supervisor/rpc.ts'
import type { Inventory, Server } from '../types.ts'
import type { LogRequest } from './server.ts'

// A program's log for the dashboard's panel: the last lines, then following, over the server's master (the same
// follow step as server-logs --follow). The names come from a page, so they are checked against the inventory first.

export const DASHBOARD_LOG_LINES = 200

export async function followProgramLog(
  session: Session,
  inventory: Inventory,
  servers: Server[],
  request: LogRequest,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<void> {
  const server = findServer(inventory, request.server, 'server')
  if (!servers.some((s) => s.name === server.name))
    throw new Error(`${server.name} is not among the servers this dashboard watches`)
  const site = findSiteOnServer(inventory, server, request.domain, 'domain')
  const sources = resolveLogSources(inventory, server, programService(site.domain, request.program), site)
  const connection = await session.connect(server)
  const layout = await layoutOf(connection)
  if (signal.aborted) return
  await followLogs(connection, placeLogSources(sources, layout), {
    lines: DASHBOARD_LOG_LINES,
    signal,
    layout,
    onLine: (_service, line) => onLine(line),
    onNotice: (_service, text) => onLine(`[tail] ${text}`),
  })
}
