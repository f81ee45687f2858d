import type { Inventory, Site } from '../types.ts'
import type { ParsedFlags } from './flags.ts'
import { promptChoice, promptConfirm, promptText } from './prompt.ts'
import { findProgram } from '../inventory/resolve.ts'
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

/** --program, or a choice of the site's programs on a terminal. */
export async function askProgram(site: Site, flags: ParsedFlags, interactive: boolean): Promise<string> {
  if (flags.program) return findProgram(site, flags.program).program
  if (interactive) return promptChoice('Select supervisor program:', site.supervisors.map((p) => p.program))
  throw new InputError([{ field: '--program', value: undefined, allowed: `a program of ${site.domain} (${site.supervisors.map((p) => p.program).join(', ')})`, hint: 'pass --program NAME' }])
}

/**
 * DeployerPHP's two confirmations: type the name (unless --force), then "Are you absolutely sure?" defaulting to No
 * (unless --yes). Without a terminal neither can be answered, so --yes is required there and stands for both.
 */
export async function confirmDeletion(program: string, flags: ParsedFlags, interactive: boolean): Promise<'confirmed' | 'mismatch' | 'declined'> {
  if (!interactive) {
    if (flags.yes) return 'confirmed'
    throw new InputError([{ field: '--yes', value: undefined, allowed: '--yes (and --force) to delete without a terminal', hint: `nothing was changed; to delete: --program ${program} --force --yes` }])
  }
  if (!flags.force && (await promptText(`Type the program name '${program}' to confirm deletion:`)) !== program) return 'mismatch'
  if (!flags.yes && !(await promptConfirm('Are you absolutely sure?', false))) return 'declined'
  return 'confirmed'
}
