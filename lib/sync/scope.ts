import { InputError } from '../errors.ts'
import { findServers, findSite, serversOfSite, sitesOnServer } from '../inventory/resolve.ts'
import type { Inventory, Server, Site } from '../types.ts'

// Which servers a sync touches, and which sites it manages on each: --domain, --server (name or group), or --all.

export interface SyncScope {
  inventoryId: string
  servers: Server[]
  sitesOn: (server: Server) => Site[]
  /** Every site the inventory places on each server is in scope, so leftovers of other sites are removed. */
  wholeServer: boolean
  /** For --domain: a reminder that servers taken off the site's list are not visited. */
  hint?: string
}

export function resolveSyncScope(
  inventory: Inventory,
  choice: { domain?: string; server?: string; all?: boolean },
): SyncScope {
  if (!choice.domain && !choice.server && !choice.all) {
    throw new InputError([
      {
        field: '--domain',
        value: undefined,
        allowed: `a site (${inventory.sites.map((s) => s.domain).join(', ') || 'none yet'}), or --server NAME|GROUP, or --all`,
        hint: 'say what to sync',
      },
    ])
  }
  if (choice.domain) {
    const site = findSite(inventory, choice.domain)
    const onSite = serversOfSite(inventory, site)
    const servers = choice.server
      ? intersect(onSite, findServers(inventory, choice.server), site, choice.server)
      : onSite
    const others = inventory.servers.filter((s) => !site.servers.includes(s.name)).map((s) => s.name)
    const hint =
      others.length && !choice.server
        ? `--domain visits only ${site.domain}'s servers (${onSite.map((s) => s.name).join(', ')}); if you took a server off its list, sync that server (--server NAME) or --all to remove ${site.domain}'s programs there`
        : undefined
    return { inventoryId: inventory.id, servers, sitesOn: () => [site], wholeServer: false, ...(hint ? { hint } : {}) }
  }
  const servers = choice.all ? inventory.servers : findServers(inventory, choice.server as string)
  return {
    inventoryId: inventory.id,
    servers,
    sitesOn: (server) => sitesOnServer(inventory, server.name),
    wholeServer: true,
  }
}

function intersect(onSite: Server[], chosen: Server[], site: Site, name: string): Server[] {
  const both = onSite.filter((s) => chosen.some((c) => c.name === s.name))
  if (!both.length) {
    throw new InputError([
      {
        field: '--server',
        value: name,
        allowed: `a server of ${site.domain}: ${onSite.map((s) => s.name).join(', ')}`,
        hint: `drop --server to sync every server of ${site.domain}`,
      },
    ])
  }
  return both
}
