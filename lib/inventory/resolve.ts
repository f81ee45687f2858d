// Lookups on a validated inventory: what a --domain, --server or --program names, and where things live.
import { InputError } from '../errors.ts'
import { defaultSiteRoot } from '../layout.ts'
import type { Inventory, Program, Server, Site } from '../types.ts'

function listOrNone(names: string[]): string {
  return names.length > 0 ? names.join(', ') : 'none in the inventory'
}

export function findSite(inventory: Inventory, domain: string, field = '--domain'): Site {
  const site = inventory.sites.find((candidate) => candidate.domain === domain)
  if (site) return site
  throw new InputError([
    {
      field,
      value: domain,
      allowed: `a domain from the inventory (${listOrNone(inventory.sites.map((s) => s.domain))})`,
      hint: `Site '${domain}' not found in inventory`,
    },
  ])
}

export function findServer(inventory: Inventory, name: string, field = '--server'): Server {
  const server = inventory.servers.find((candidate) => candidate.name === name)
  if (server) return server
  throw new InputError([
    {
      field,
      value: name,
      allowed: `a server from the inventory (${listOrNone(inventory.servers.map((s) => s.name))})`,
      hint: `Server '${name}' not found in inventory`,
    },
  ])
}

/** Every group named by some server, in first-seen order. */
export function groupNames(inventory: Inventory): string[] {
  return [...new Set(inventory.servers.flatMap((server) => server.groups))]
}

/** A server name gives that server; a group name gives its servers in inventory order. */
export function findServers(inventory: Inventory, nameOrGroup: string, field = '--server'): Server[] {
  const server = inventory.servers.find((candidate) => candidate.name === nameOrGroup)
  if (server) return [server]
  const members = inventory.servers.filter((candidate) => candidate.groups.includes(nameOrGroup))
  if (members.length > 0) return members
  const groups = groupNames(inventory)
  throw new InputError([
    {
      field,
      value: nameOrGroup,
      allowed: `a server (${listOrNone(inventory.servers.map((s) => s.name))}) or a group (${listOrNone(groups)})`,
      hint: `Server '${nameOrGroup}' not found in inventory`,
    },
  ])
}

/** The servers a site runs on, in the order the site lists them. */
export function serversOfSite(inventory: Inventory, site: Site): Server[] {
  return site.servers.map((name) => findServer(inventory, name, `${site.domain}.server`))
}

export function sitesOnServer(inventory: Inventory, serverName: string): Site[] {
  return inventory.sites.filter((site) => site.servers.includes(serverName))
}

/** Where the site's releases, current link and runner.sh live on that server. */
export function siteRoot(server: Server, site: Site): string {
  return site.root ?? defaultSiteRoot(server.sitesPath, site.domain)
}

export function siteUser(server: Server, site: Site): string {
  return site.user ?? server.siteUser
}

export function programUser(server: Server, site: Site, program: Program): string {
  return program.user ?? siteUser(server, site)
}

export function findProgram(site: Site, name: string, field = '--program'): Program {
  const program = site.supervisors.find((candidate) => candidate.program === name)
  if (program) return program
  throw new InputError([
    {
      field,
      value: name,
      allowed: `a program of ${site.domain} (${listOrNone(site.supervisors.map((p) => p.program))})`,
      hint: `Supervisor program '${name}' not found`,
    },
  ])
}
