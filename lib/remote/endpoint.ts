import { createRequire } from 'node:module'
import { DEFAULTS } from '../inventory/validate.ts'
import type { Server } from '../types.ts'

// Who ssh really logs in as, where and on which port: the inventory when it says so, else the ssh config as OpenSSH
// resolves it (`ssh -G`: an alias like `web-1` → deployer@10.0.0.5:2222, via a ProxyJump), else root on 22. The sudo
// decision, messages and --verbose follow this login, not the inventory's defaults.

export interface Login {
  /** The inventory's host (an alias, a name or an address). */
  host: string
  /** The address ssh connects to (HostName). */
  hostName: string
  port: number
  user: string
  userFrom: 'inventory' | 'ssh config' | 'default'
  /** 'ssh config' also covers OpenSSH's own default, 22. */
  portFrom: 'inventory' | 'ssh config'
  proxyJump?: string
}

/** What `ssh -G` printed for the settings a login depends on. */
export interface ResolvedConfig {
  hostName: string
  port: number
  user: string
  proxyJump?: string
}

/** Reads `ssh -G` output (one lowercase `key value` per line). */
export function parseResolvedConfig(text: string): ResolvedConfig {
  const values = new Map<string, string>()
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ')
    if (space > 0 && !values.has(line.slice(0, space))) values.set(line.slice(0, space), line.slice(space + 1).trim())
  }
  const proxyJump = values.get('proxyjump')
  return {
    user: values.get('user') ?? '',
    hostName: values.get('hostname') ?? '',
    port: Number(values.get('port') ?? 22),
    ...(proxyJump && proxyJump !== 'none' ? { proxyJump } : {}),
  }
}

/**
 * The login for a server: the inventory's username and port, else the config's. ssh -G always prints a user (the
 * local one when nothing names it), so the config counts as naming one when that differs from the local user or a
 * User line applies to the host; otherwise it is root, as the inventory has always defaulted to.
 */
export function decideLogin(
  server: Server,
  resolved: ResolvedConfig,
  context: { localUser: string; configNamesUser: boolean },
): Login {
  const configUser = resolved.user !== context.localUser || context.configNamesUser
  const [user, userFrom]: [string, Login['userFrom']] =
    server.username !== undefined
      ? [server.username, 'inventory']
      : configUser
        ? [resolved.user, 'ssh config']
        : [DEFAULTS.username, 'default']
  return {
    host: server.host,
    hostName: resolved.hostName || server.host,
    port: server.port ?? resolved.port,
    user,
    userFrom,
    portFrom: server.port !== undefined ? 'inventory' : 'ssh config',
    ...(resolved.proxyJump ? { proxyJump: resolved.proxyJump } : {}),
  }
}

/** Whether a User line of the config applies to host (Match exec is never run just to find out). */
export function configNamesUser(host: string, configText: string): boolean {
  if (!configText.trim()) return false
  // Loaded here, not at import: most runs never need it.
  const { parse } = createRequire(import.meta.url)('ssh-config') as typeof import('ssh-config')
  const computed = parse(configText).compute(host, { ignoreCase: true, matchExec: false })
  return Object.keys(computed).some((key) => key.toLowerCase() === 'user')
}

/** `nu-inner (10.0.0.5:22 via jump) as deployer` for an alias, `10.0.0.5:22 as root` for an address. */
export function describeEndpoint(server: Server, login?: Login): string {
  if (server.local) return 'local'
  if (!login) return server.port === undefined ? server.host : `${server.host}:${server.port}`
  const address = `${login.hostName}:${login.port}${login.proxyJump ? ` via ${login.proxyJump}` : ''}`
  const where = login.hostName === server.host && !login.proxyJump ? address : `${server.host} (${address})`
  return `${where} as ${login.user}`
}

/** For --verbose: the login and where each part of it came from. */
export function describeLogin(login: Login, configSource: string): string {
  const userFrom =
    login.userFrom === 'default'
      ? 'default, nothing names a user'
      : login.userFrom === 'ssh config'
        ? configSource
        : 'inventory'
  const portFrom = login.portFrom === 'inventory' ? 'inventory' : configSource
  const jump = login.proxyJump ? `, through ProxyJump ${login.proxyJump}` : ''
  return `logs in as ${login.user}@${login.hostName}:${login.port}${jump} (user from ${userFrom}; port from ${portFrom})`
}
