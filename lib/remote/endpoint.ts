import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type { Server } from '../types.ts'

// Where a server really is, as the user's ~/.ssh/config resolves its host (an alias like `web-1` → 10.0.0.5:2222),
// so messages and plans name the machine, not only the alias. ssh itself still reads the config when it connects.

export interface Endpoint {
  hostName: string
  port: number
  user: string
  /** The ~/.ssh/config Host pattern that matched, if any. */
  via?: string
}

export function resolveEndpoint(server: Server, configText = readUserSshConfig()): Endpoint {
  const fallback: Endpoint = { hostName: server.host, port: server.port, user: server.username }
  if (server.local || !configText) return fallback
  // Loaded here, not at import: most runs never need to resolve an alias.
  const { parse } = createRequire(import.meta.url)('ssh-config') as typeof import('ssh-config')
  // matchExec: false — a Match exec line would run a command just to build a message.
  const computed = parse(configText).compute(server.host, { ignoreCase: true, matchExec: false })
  const value = (key: string) => {
    const found = computed[key]
    return Array.isArray(found) ? found[0] : found
  }
  const hostName = value('hostname')
  if (!hostName) return fallback
  const host = value('host')
  return {
    hostName,
    // The inventory's port and user are passed on ssh's command line, so they win over the config.
    port: server.port,
    user: server.username,
    ...(host ? { via: host } : {}),
  }
}

/** `web-1 (10.0.0.5:22)` for an alias, `10.0.0.5:22` otherwise. */
export function describeEndpoint(server: Server, configText?: string): string {
  const endpoint = resolveEndpoint(server, configText)
  const address = `${endpoint.hostName}:${endpoint.port}`
  return endpoint.hostName === server.host ? address : `${server.host} (${address})`
}

function readUserSshConfig(): string {
  try {
    return fs.readFileSync(path.join(os.homedir(), '.ssh', 'config'), 'utf8')
  } catch {
    return ''
  }
}
