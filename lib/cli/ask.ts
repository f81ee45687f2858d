import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { findProgram } from '../inventory/resolve.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import type { Inventory, Site } from '../types.ts'
import type { CheckResult } from '../values.ts'
import type { ParsedFlags } from './flags.ts'
import { promptAsk, promptChoice, promptConfirm, promptText, type Verdict } from './prompt.ts'

// Interactive fallbacks for missing flags; without a terminal they return what was given and validation names the flag.

export async function chooseSiteIfMissing(
  inventory: Inventory,
  flags: ParsedFlags,
  interactive: boolean,
): Promise<string | undefined> {
  if (flags.domain || flags.server || flags.all || !interactive || !inventory.sites.length) return flags.domain
  return promptChoice(
    'Which site?',
    inventory.sites.map((s) => s.domain),
  )
}

/** --domain, or a choice of the inventory's sites on a terminal; without one, a missing flag is named. */
export async function askDomain(inventory: Inventory, flags: ParsedFlags, interactive: boolean): Promise<string> {
  if (flags.domain) return flags.domain
  if (interactive && inventory.sites.length)
    return promptChoice(
      'Select site:',
      inventory.sites.map((s) => s.domain),
    )
  throw new InputError([
    {
      field: '--domain',
      value: undefined,
      allowed: `a site of the inventory (${inventory.sites.map((s) => s.domain).join(', ') || 'none yet'})`,
      hint: 'pass --domain DOMAIN',
    },
  ])
}

/** --program, or a choice of the site's programs on a terminal. */
export async function askProgram(site: Site, flags: ParsedFlags, interactive: boolean): Promise<string> {
  if (flags.program) return findProgram(site, flags.program).program
  if (interactive)
    return promptChoice(
      'Select supervisor program:',
      site.supervisors.map((p) => p.program),
    )
  throw new InputError([
    {
      field: '--program',
      value: undefined,
      allowed: `a program of ${site.domain} (${site.supervisors.map((p) => p.program).join(', ')})`,
      hint: 'pass --program NAME',
    },
  ])
}

/**
 * DeployerPHP's two confirmations: type the name (unless --force), then "Are you absolutely sure?" defaulting to No
 * (unless --yes). Without a terminal neither can be answered, so --yes is required there and stands for both.
 */
export async function confirmDeletion(
  program: string,
  flags: ParsedFlags,
  interactive: boolean,
): Promise<'confirmed' | 'mismatch' | 'declined'> {
  if (!interactive) {
    if (flags.yes) return 'confirmed'
    throw new InputError([
      {
        field: '--yes',
        value: undefined,
        allowed: '--yes (and --force) to delete without a terminal',
        hint: `nothing was changed; to delete: --program ${program} --force --yes`,
      },
    ])
  }
  if (!flags.force && (await promptText(`Type the program name '${program}' to confirm deletion:`)) !== program)
    return 'mismatch'
  if (!flags.yes && !(await promptConfirm('Are you absolutely sure?', false))) return 'declined'
  return 'confirmed'
}

/** A rule's result as a question's verdict: what it allows and its hint, to ask again. */
export function asVerdict<T>(result: CheckResult<T>): Verdict<T> {
  return result.ok
    ? result
    : { ok: false, allowed: result.problem.allowed, ...(result.problem.hint ? { hint: result.problem.hint } : {}) }
}

/**
 * supervisor-create's --app-dir: needed when the site has no repo/branch to read the scripts from; on a terminal it is
 * asked for (a directory with scripts, asked again until it is one). Without one, listAvailableScripts names the flag.
 */
export async function askScriptsCheckout(
  site: Site,
  flags: ParsedFlags,
  interactive: boolean,
): Promise<string | undefined> {
  if (flags['app-dir'] !== undefined || (site.repo && site.branch) || !interactive) return flags['app-dir']
  return promptAsk(
    `App directory (a local checkout with ${SCRIPTS_DIR}/; ${site.domain} has no repo/branch in the inventory):`,
    async (answer) => {
      const dir = await checkDirectory(answer, 'a local checkout of the app')
      if (!dir.ok) return dir
      const { scripts } = await listScriptsIn(site, dir.value)
      if (scripts.length) return dir
      return {
        ok: false,
        allowed: `a checkout with scripts under ${SCRIPTS_DIR}/`,
        hint: `${path.join(dir.value, SCRIPTS_DIR)} holds none (tasks/scaffold-supervisors.mjs writes examples)`,
      }
    },
  )
}

/** deploy's --app-dir: on a terminal, asked until it is a directory holding every program's script. */
export async function askReleaseDir(site: Site, flags: ParsedFlags, interactive: boolean): Promise<string | undefined> {
  if (flags['app-dir'] !== undefined || !interactive) return flags['app-dir']
  return promptAsk('App directory to upload as the release:', async (answer) => {
    const dir = await checkDirectory(answer, 'the folder to upload as the release')
    if (!dir.ok) return dir
    const { scripts } = await listScriptsIn(site, dir.value)
    const missing = site.supervisors.filter((p) => !scripts.includes(p.script)).map((p) => `${SCRIPTS_DIR}/${p.script}`)
    if (!missing.length) return dir
    return {
      ok: false,
      allowed: `an app with every program's script of ${site.domain}`,
      hint: `missing there: ${missing.join(', ')}`,
    }
  })
}

/** A typed path (~ is the home directory) that names an existing directory, made absolute. */
async function checkDirectory(answer: string, allowed: string): Promise<Verdict<string>> {
  if (answer === '') return { ok: false, allowed, hint: 'type a path, e.g. ../app' }
  const dir = path.resolve(
    answer === '~' || answer.startsWith('~/') ? path.join(os.homedir(), answer.slice(1)) : answer,
  )
  const stat = await fs.stat(dir).catch(() => undefined)
  if (!stat) return { ok: false, allowed, hint: `no such directory: ${dir}` }
  if (!stat.isDirectory()) return { ok: false, allowed, hint: `${dir} is not a directory` }
  return { ok: true, value: dir }
}

// Loaded when asked: it brings execa, which the tasks sharing this file (start/stop/restart, delete) do not need.
const listScriptsIn = async (site: Site, dir: string) =>
  (await import('../app/available-scripts.ts')).listAvailableScripts(site, dir)
