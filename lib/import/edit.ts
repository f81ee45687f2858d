import { YAML } from 'zx'
import { type LoadedInventory, parseInventory } from '../inventory/load.ts'
import { addProgram, addSite, programEntryData } from '../inventory/program-edits.ts'
import type { ImportedProgram } from './map.ts'

// The imported programs into the inventory, as text edits through the same path as supervisor-create (comments,
// order and unknown keys kept; each edit re-parsed and validated). Saving (lib/inventory/save.ts) refuses a file that
// changed on disk since it was read.

/** The inventory text with every imported program added, and each site it names added when missing. */
export function importIntoInventory(loaded: LoadedInventory, programs: ImportedProgram[]): string {
  let current = loaded
  const next = (text: string): LoadedInventory => ({ ...parseInventory(text, loaded.path), path: loaded.path, text })
  for (const [domain, servers] of newSites(loaded, programs)) current = next(addSite(current, domain, servers))
  for (const program of programs) current = next(addProgram(current, program.domain, program.entry))
  return current.text
}

/** What --dry-run prints: the entries the import would add, per site, as YAML (new sites with their servers). */
export function importYaml(loaded: LoadedInventory, programs: ImportedProgram[]): string {
  if (!programs.length) return ''
  const added = newSites(loaded, programs)
  const sites = [...new Set(programs.map((p) => p.domain))].map((domain) => {
    const servers = added.get(domain)
    return {
      domain,
      ...(servers ? { server: servers.length === 1 ? servers[0] : servers } : {}),
      supervisors: programs.filter((p) => p.domain === domain).map((p) => programEntryData(p.entry)),
    }
  })
  return YAML.stringify({ sites })
}

/** Domains the inventory does not have yet → every server an imported program of theirs came from. */
function newSites(loaded: LoadedInventory, programs: ImportedProgram[]): Map<string, string[]> {
  const sites = new Map<string, string[]>()
  for (const program of programs) {
    if (loaded.inventory.sites.some((site) => site.domain === program.domain)) continue
    sites.set(program.domain, [...new Set([...(sites.get(program.domain) ?? []), ...program.servers])])
  }
  return sites
}
