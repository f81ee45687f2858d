// supervisor-create and supervisor-delete as edits of the inventory text: one entry of a site's `supervisors:` list
// added or removed, the rest of the file byte for byte as it was.
import { InputError } from '../errors.ts'
import { ENVIRONMENT_KEY, PROGRAM_KEYS } from '../program-schema.ts'
import type { EnvValue, ProgramEntry } from '../types.ts'
import { ENV_REFERENCE_KEY } from '../values.ts'
import { isYamlMap, isYamlScalar, isYamlSeq, type LoadedInventory, type YamlMap, type YamlPair } from './load.ts'
import { findProgram, findSite } from './resolve.ts'
import { findProgramConflicts, validateProgram } from './validate.ts'
import {
  appendToBlockList,
  editInventoryText,
  fillEmptyTopLevelList,
  removeListItem,
  unsafeEdit,
  writeBlockList,
} from './yaml-text-edit.ts'

/** Returns the inventory text with `entry` appended to the site's `supervisors:` list. */
export function addProgram(loaded: LoadedInventory, domain: string, entry: ProgramEntry): string {
  const site = findSite(loaded.inventory, domain)
  const raw = programEntryData(entry)
  const { program, problems } = validateProgram(raw)
  if (!program || problems.length > 0) throw new InputError(problems, `Invalid supervisor program for ${domain}:`)
  const conflicts = findProgramConflicts(site, program)
  if (conflicts.length > 0) throw new InputError(conflicts)
  const siteIndex = loaded.inventory.sites.indexOf(site)
  const siteMap = siteNode(loaded, siteIndex)
  const pair = supervisorsPair(siteMap)
  const seq = pair?.value
  const expected = structuredClone(loaded.inventory)
  expected.sites[siteIndex]?.supervisors.push(program)
  return editInventoryText(loaded, siteIndex, expected, (text) => {
    if (isYamlSeq(seq) && !seq.flow && seq.items.length > 0) appendToBlockList(text, seq, raw)
    else writeBlockList(text, siteMap, pair, 'supervisors', [...existingEntries(loaded, siteIndex, seq), raw])
  })
}

/** Returns the inventory text with a new site (no programs yet) appended to a non-empty block `sites:` list. */
export function addSite(loaded: LoadedInventory, domain: string, servers: string[]): string {
  const sites = loaded.document.getIn(['sites'], true)
  const siteIndex = loaded.inventory.sites.length
  const expected = structuredClone(loaded.inventory)
  expected.sites.push({ domain, servers, supervisors: [] })
  if (!isYamlSeq(sites)) throw unsafeEdit(loaded, siteIndex)
  const server = servers.length === 1 ? servers[0] : servers
  const entry = { domain, server, supervisors: [] }
  return editInventoryText(loaded, siteIndex, expected, (text) => {
    if (sites.flow) fillEmptyTopLevelList(text, sites, entry)
    else appendToBlockList(text, sites, entry)
  })
}

/** Returns the inventory text without the site's program `name`. */
export function removeProgram(loaded: LoadedInventory, domain: string, name: string): string {
  const site = findSite(loaded.inventory, domain)
  const index = site.supervisors.indexOf(findProgram(site, name))
  const siteIndex = loaded.inventory.sites.indexOf(site)
  const pair = supervisorsPair(siteNode(loaded, siteIndex))
  if (!pair) throw unsafeEdit(loaded, siteIndex)
  const expected = structuredClone(loaded.inventory)
  expected.sites[siteIndex]?.supervisors.splice(index, 1)
  return editInventoryText(loaded, siteIndex, expected, (text) =>
    removeListItem(text, pair, index, existingEntries(loaded, siteIndex, pair.value)),
  )
}

/** The program as YAML data, keys in the schema's order; an empty environment is left out. */
export function programEntryData(entry: ProgramEntry): Record<string, unknown> {
  const values = entry as Record<string, unknown>
  const data: Record<string, unknown> = {}
  for (const key of PROGRAM_KEYS) {
    const value = values[key]
    if (value === undefined) continue
    if (key === ENVIRONMENT_KEY) {
      if (Object.keys(value as object).length > 0) data[key] = environmentData(value as Record<string, EnvValue>)
      continue
    }
    data[key] = value
  }
  return data
}

/** A reference is written as the inventory spells it: `{ from_env: VAR }`. */
function environmentData(environment: Record<string, EnvValue>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      typeof value === 'string' ? value : { [ENV_REFERENCE_KEY]: value.fromEnv },
    ]),
  )
}

function siteNode(loaded: LoadedInventory, siteIndex: number): YamlMap {
  const node = loaded.document.getIn(['sites', siteIndex], true)
  if (!isYamlMap(node) || node.flow) throw unsafeEdit(loaded, siteIndex)
  return node
}

function supervisorsPair(siteMap: YamlMap): YamlPair | undefined {
  return siteMap.items.find((pair) => isYamlScalar(pair.key) && pair.key.value === 'supervisors')
}

/** The site's current entries as plain data, for rewriting a flow-style or empty list. */
function existingEntries(loaded: LoadedInventory, siteIndex: number, seq: unknown): unknown[] {
  if (!isYamlSeq(seq) || seq.items.length === 0) return []
  const data = loaded.document.toJS() as { sites: Array<{ supervisors: unknown[] }> }
  return data.sites[siteIndex]?.supervisors ?? []
}
