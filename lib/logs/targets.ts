// Which servers server-logs reads, and which log sources on each: --server (a name, a group or a comma list of
// either), --site (every server of the site, or those of --server that run it), then the --service list per server.

import { InputError } from '../errors.ts'
import { findServers, findSite } from '../inventory/resolve.ts'
import type { Inventory, Problem, Server, Site } from '../types.ts'
import {
  ALL_SERVICE,
  availableServices,
  DAEMON_SERVICE,
  findSiteOnServer,
  type LogSource,
  PROGRAM_PREFIX,
  programSources,
  resolveLogSources,
  sourcesFor,
  splitServices,
  whyUnknown,
} from './sources.ts'

/** One server and what to read there. */
export interface LogTarget {
  server: Server
  sources: LogSource[]
}

export interface LogServers {
  /** In inventory order. */
  servers: Server[]
  site?: Site
}

/** --follow streams every server at once: one SSH master and a few sessions each. */
export const MAX_FOLLOWED_SERVERS = 256

/**
 * --site, or --domain (what the other tasks call a site): the domain, or undefined; the two disagreeing is exit 2.
 * Returns the flag that was used, so messages name what was typed.
 */
export function chooseSiteFlag(flags: { site?: string; domain?: string }): { site?: string; field: string } {
  const { site, domain } = flags
  if (site && domain && site !== domain)
    throw new InputError([
      {
        field: '--domain',
        value: domain,
        allowed: `the same domain as --site (${site}), or nothing`,
        hint: '--domain is another name for --site; give one of them',
      },
    ])
  if (site) return { site, field: '--site' }
  return domain ? { site: domain, field: '--domain' } : { field: '--site' }
}

/**
 * --server and --site → the servers in inventory order (and the site), or undefined when neither is given. Every
 * unknown name of a comma list is reported at once. `siteField` is the flag the site came from.
 */
export function resolveLogServers(
  inventory: Inventory,
  choice: { server?: string; site?: string; siteField?: string },
): LogServers | undefined {
  const siteField = choice.siteField ?? '--site'
  const site = choice.site ? findSite(inventory, choice.site, siteField) : undefined
  if (!choice.server)
    return site ? { servers: inventory.servers.filter((s) => site.servers.includes(s.name)), site } : undefined
  const named = serverList(inventory, choice.server)
  if (!site) return { servers: named }
  if (named.length === 1) {
    findSiteOnServer(inventory, named[0]!, site.domain, siteField)
    return { servers: named, site }
  }
  const servers = named.filter((s) => site.servers.includes(s.name))
  if (!servers.length)
    throw new InputError([
      {
        field: siteField,
        value: site.domain,
        allowed: `a site on ${named.map((s) => s.name).join(', ')}`,
        hint: `${site.domain} is on ${site.servers.join(', ')}; drop --server to read every server of ${site.domain}`,
      },
    ])
  return { servers, site }
}

/** `web-1,web` → web-1 and every server of group web, once each, in inventory order. */
function serverList(inventory: Inventory, text: string): Server[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  const chosen = new Set<string>()
  const problems: Problem[] = []
  for (const name of names) {
    try {
      for (const server of findServers(inventory, name)) chosen.add(server.name)
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      problems.push(...error.problems)
    }
  }
  if (!names.length)
    problems.push({
      field: '--server',
      value: text,
      allowed: 'a server, a group, or a comma-separated list of them',
      hint: 'name at least one server',
    })
  if (problems.length) throw new InputError(problems)
  return inventory.servers.filter((s) => chosen.has(s.name))
}

/** What --service accepts on any of these servers, in order: the choices asked at a terminal. */
export function availableServicesOn(inventory: Inventory, servers: Server[], site?: Site): string[] {
  return [...new Set(servers.flatMap((server) => availableServices(inventory, server, site)))]
}

/**
 * The --service list on each server. On one server, exactly resolveLogSources (its errors name what exists there).
 * On several, an entry counts where it exists: a program is read on the servers that run it (all-supervisors is
 * each server's daemon and programs), and an entry that exists on none of them is refused. Servers left with
 * nothing to read are dropped.
 */
export function resolveLogTargets(inventory: Inventory, servers: Server[], services: string, site?: Site): LogTarget[] {
  if (servers.length === 1) {
    const server = servers[0]!
    return [{ server, sources: resolveLogSources(inventory, server, services, site) }]
  }
  const allowed = `one or more of ${availableServicesOn(inventory, servers, site).join(', ')} (comma-separated)`
  const names = splitServices(services)
  if (!names.length)
    throw new InputError([{ field: '--service', value: services, allowed, hint: 'name at least one service' }])
  const perServer = servers.map((server) => ({
    server,
    programs: programSources(inventory, server, site),
    sources: [] as LogSource[],
  }))
  const problems: Problem[] = []
  for (const name of names) {
    let found = false
    for (const entry of perServer) {
      const sources = sourcesFor(name, entry.programs, Boolean(site)) ?? daemonOfBareServer(name, site)
      if (!sources) continue
      found = true
      entry.sources.push(...sources.filter((s) => !entry.sources.some((known) => known.service === s.service)))
    }
    if (!found)
      problems.push({
        field: '--service',
        value: name,
        allowed,
        hint: whyUnknownOnServers(inventory, servers, name, site),
      })
  }
  if (problems.length) throw new InputError(problems, `Invalid service(s): ${problems.map((p) => p.value).join(', ')}`)
  return perServer.filter((entry) => entry.sources.length).map(({ server, sources }) => ({ server, sources }))
}

/** all-supervisors over several servers: a server without programs still has the daemon's log. */
function daemonOfBareServer(name: string, site: Site | undefined): LogSource[] | null {
  return name === ALL_SERVICE && !site ? [{ kind: 'daemon', service: DAEMON_SERVICE }] : null
}

/** The hint for an entry that names nothing on any of these servers. */
function whyUnknownOnServers(inventory: Inventory, servers: Server[], name: string, site?: Site): string {
  const names = servers.map((s) => s.name).join(', ')
  if (name === ALL_SERVICE)
    return `none of ${names} has supervisor programs${site ? ` of ${site.domain}` : ''} in the inventory; add one with supervisor-create`
  const domain = name.startsWith(PROGRAM_PREFIX) ? name.slice(PROGRAM_PREFIX.length).split('/')[0] : undefined
  const named = inventory.sites.find((s) => s.domain === domain)
  if (named && named !== site && !servers.some((s) => named.servers.includes(s.name)))
    return `${named.domain} is on ${named.servers.join(', ')}, not on ${names}; use --site ${named.domain}`
  return whyUnknown(inventory, servers[0]!, name, site)
}

/** --follow keeps a connection to every server open: refused beyond MAX_FOLLOWED_SERVERS, before any connection. */
export function checkFollowedServers(targets: LogTarget[]): void {
  if (targets.length <= MAX_FOLLOWED_SERVERS) return
  throw new InputError([
    {
      field: '--server',
      value: `${targets.length} servers`,
      allowed: `at most ${MAX_FOLLOWED_SERVERS} servers with --follow (each keeps an SSH connection open)`,
      hint: 'narrow it with a group or --site, or drop --follow to read the last lines of every server',
    },
  ])
}
