// What server-logs may show on one server, and which log sources a --service list names: the supervisord daemon,
// the server's audit trail, and the programs the inventory places on that server (one site's only, with --site).

import { AUDIT_LOG } from '../audit.ts'
import { InputError } from '../errors.ts'
import { findSite, sitesOnServer } from '../inventory/resolve.ts'
import { DEBIAN_LAYOUT, fullName, programLogPath, type ServerLayout } from '../layout.ts'
import type { Inventory, Problem, Server, Site } from '../types.ts'

export const DAEMON_SERVICE = 'supervisor'
/** The audit trail (lib/audit.ts): root's file, read like the daemon's log. */
export const AUDIT_SERVICE = 'audit'
export const ALL_SERVICE = 'all-supervisors'
export const PROGRAM_PREFIX = 'supervisor:'
export const DEFAULT_LINES = 50
export const MAX_LINES = 1000

export type LogSource =
  | { kind: 'daemon'; service: typeof DAEMON_SERVICE }
  | { kind: 'program'; service: string; domain: string; program: string; path: string }
  | { kind: 'file'; service: typeof AUDIT_SERVICE; path: string }

export const AUDIT_SOURCE: LogSource = { kind: 'file', service: AUDIT_SERVICE, path: AUDIT_LOG }

/** `--lines`: a whole number from 1 to 1000 (DeployerPHP's limit), checked before anything is touched. */
export function checkLines(value: unknown, field = '--lines'): number {
  const allowed = `a whole number from 1 to ${MAX_LINES}`
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string' || !/^\d+$/.test(text.trim())) {
    throw new InputError([{ field, value, allowed, hint: `for example ${field} ${DEFAULT_LINES}` }])
  }
  const lines = Number(text.trim())
  if (lines < 1) throw new InputError([{ field, value, allowed, hint: 'at least one line' }])
  if (lines > MAX_LINES) throw new InputError([{ field, value, allowed, hint: `cannot exceed ${MAX_LINES} lines` }])
  return lines
}

/** `--site`: a site of the inventory that runs on this server. */
export function findSiteOnServer(inventory: Inventory, server: Server, domain: string, field = '--site'): Site {
  const site = findSite(inventory, domain, field)
  if (site.servers.includes(server.name)) return site
  const here = sitesOnServer(inventory, server.name).map((s) => s.domain)
  throw new InputError([
    {
      field,
      value: domain,
      allowed: `a site on ${server.name} (${here.join(', ') || 'none in the inventory'})`,
      hint: `${domain} is on ${site.servers.join(', ')}, not ${server.name}; use --server ${site.servers[0]}`,
    },
  ])
}

/** Every program source of the server, in inventory order (one site's only when `site` is given). */
export function programSources(inventory: Inventory, server: Server, site?: Site): LogSource[] {
  const sites = site ? [site] : sitesOnServer(inventory, server.name)
  return sites.flatMap((s) =>
    s.supervisors.map(
      (p): LogSource => ({
        kind: 'program',
        service: programService(s.domain, p.program),
        domain: s.domain,
        program: p.program,
        path: programLogPath(DEBIAN_LAYOUT, fullName(s.domain, p.program)),
      }),
    ),
  )
}

/** The sources with each program's log where this server's supervisord config puts logs. */
export function placeLogSources(sources: LogSource[], layout: Pick<ServerLayout, 'logDir'>): LogSource[] {
  return sources.map((s) =>
    s.kind === 'program' ? { ...s, path: programLogPath(layout, fullName(s.domain, s.program)) } : s,
  )
}

export function programService(domain: string, program: string): string {
  return `${PROGRAM_PREFIX}${domain}/${program}`
}

/** What --service accepts on this server: the interactive choices and the list every error shows. */
export function availableServices(inventory: Inventory, server: Server, site?: Site): string[] {
  const programs = programSources(inventory, server, site).map((s) => s.service)
  return [DAEMON_SERVICE, AUDIT_SERVICE, ...(programs.length ? [ALL_SERVICE] : []), ...programs]
}

/** `a, b,,c` → [a, b, c]: DeployerPHP's comma-separated --service, blanks ignored. */
export function splitServices(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/**
 * Turns a --service value into log sources, in the order asked, without duplicates. Every unknown entry is
 * reported at once, each with why, under DeployerPHP's "Invalid service(s): …".
 */
export function resolveLogSources(inventory: Inventory, server: Server, services: string, site?: Site): LogSource[] {
  const programs = programSources(inventory, server, site)
  const allowed = `one or more of ${availableServices(inventory, server, site).join(', ')} (comma-separated)`
  const names = splitServices(services)
  if (!names.length)
    throw new InputError([{ field: '--service', value: services, allowed, hint: 'name at least one service' }])
  const sources: LogSource[] = []
  const problems: Problem[] = []
  for (const name of names) {
    const found = sourcesFor(name, programs, Boolean(site))
    if (found) sources.push(...found)
    else problems.push({ field: '--service', value: name, allowed, hint: whyUnknown(inventory, server, name, site) })
  }
  if (problems.length) throw new InputError(problems, `Invalid service(s): ${problems.map((p) => p.value).join(', ')}`)
  return sources.filter((source, index) => sources.findIndex((s) => s.service === source.service) === index)
}

/**
 * all-supervisors is the daemon's log and every program of the server; with --site, that site's programs only (the
 * daemon's log is the whole server's: `supervisor` asks for it by name).
 */
export function sourcesFor(name: string, programs: LogSource[], oneSite: boolean): LogSource[] | null {
  if (name === DAEMON_SERVICE) return [{ kind: 'daemon', service: DAEMON_SERVICE }]
  if (name === AUDIT_SERVICE) return [AUDIT_SOURCE]
  if (name === ALL_SERVICE)
    return programs.length
      ? [...(oneSite ? [] : [{ kind: 'daemon', service: DAEMON_SERVICE } as const]), ...programs]
      : null
  const program = programs.find((p) => p.service === name)
  return program ? [program] : null
}

/** The hint for an entry that names nothing on this server: the nearest thing that does exist. */
export function whyUnknown(inventory: Inventory, server: Server, name: string, site?: Site): string {
  const scope = site ? `site ${site.domain}` : server.name
  if (name === ALL_SERVICE)
    return `${scope} has no supervisor programs in the inventory; add one with supervisor-create`
  if (!name.startsWith(PROGRAM_PREFIX))
    return `write ${DAEMON_SERVICE}, ${AUDIT_SERVICE}, ${ALL_SERVICE} or ${PROGRAM_PREFIX}<domain>/<program>`
  const [domain = '', program, ...rest] = name.slice(PROGRAM_PREFIX.length).split('/')
  if (!domain || !program || rest.length)
    return `write ${PROGRAM_PREFIX}<domain>/<program>, e.g. ${PROGRAM_PREFIX}example.com/queue-worker`
  const named = inventory.sites.find((s) => s.domain === domain)
  if (!named) return `no site ${domain} in the inventory`
  if (site && named !== site) return `--site ${site.domain} shows only that site's programs`
  if (!named.servers.includes(server.name))
    return `${domain} is on ${named.servers.join(', ')}, not ${server.name}; use --server ${named.servers[0]}`
  const names = named.supervisors.map((p) => p.program)
  return `${domain} has no program ${program} (${names.length ? `it has ${names.join(', ')}` : 'it has none'})`
}
