import type { Inventory } from '../types.ts'
import type { ParsedFlags } from './flags.ts'
import { promptChoice } from './prompt.ts'
import { InputError } from '../errors.ts'

// Interactive fallbacks for missing flags; without a terminal they return what was given and validation names the flag.

export async function chooseSiteIfMissing(inventory: Inventory, flags: ParsedFlags, interactive: boolean): Promise<string | undefined> {
  if (flags.domain || flags.server || flags.all || !interactive || !inventory.sites.length) return flags.domain
  return promptChoice('Which site?', inventory.sites.map((s) => s.domain))
}

/** --domain, or a choice of the inventory's sites on a terminal; without one, a missing flag is named. */
export async function askDomain(inventory: Inventory, flags: ParsedFlags, interactive: boolean): Promise<string> {
  if (flags.domain) return flags.domain
  if (interactive && inventory.sites.length) return promptChoice('Select site:', inventory.sites.map((s) => s.domain))
  throw new InputError([{ field: '--domain', value: undefined, allowed: `a site of the inventory (${inventory.sites.map((s) => s.domain).join(', ') || 'none yet'})`, hint: 'pass --domain DOMAIN' }])
}
