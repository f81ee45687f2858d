import { isDeepStrictEqual } from 'node:util'
import { siteRoot, siteUser } from '../inventory/resolve.ts'
import { currentPath, defaultSiteRoot, ownershipOf, SCRIPTS_DIR } from '../layout.ts'
import { PROGRAM_SCHEMA } from '../program-schema.ts'
import { hasUrlCredentials, isSecretName } from '../redact.ts'
import { remoteCommand } from '../remote/quote.ts'
import type { EnvValue, Inventory, ProgramEntry, Server, Site } from '../types.ts'
import {
  type Check,
  checkAbsolutePath,
  checkDomain,
  checkEnvValue,
  checkEnvVariableName,
  checkProgramEnvKey,
  checkProgramName,
  checkScript,
  RESERVED_ENV_PREFIX,
} from '../values.ts'
import type { ConfFile, ConfSection, ServerPrograms } from './read-programs.ts'

// supervisor-import's judgement, pure: what a server's config files hold → inventory entries to add, and everything
// else listed with the reason it is not written. Every value passes the rulebook (lib/values.ts) on its way in, so
// nothing a hostile conf holds reaches the inventory unchecked.

/** Why a program (or a file, or a section) is listed and not written. */
export type ListedKind =
  | 'needs-script'
  | 'needs-release-layout'
  | 'not-representable'
  | 'refused'
  | 'unreadable'
  | 'conflict'
  | 'no-site'

export interface ListedItem {
  server: string
  file: string
  /** `program:x`, `eventlistener:y`; empty for a whole file. */
  section: string
  kind: ListedKind
  reason: string
}

/** A small `exec` wrapper for a program whose command is not our runner (written only with --write-scripts). */
export interface WrapperScript {
  /** Under .deployer/supervisors/ of the app. */
  name: string
  content: string
}

export interface ImportSource {
  server: string
  file: string
  /** supervisor's group name for the program (its `[program:<group>]`). */
  group: string
}

export interface ImportedProgram {
  domain: string
  servers: string[]
  entry: ProgramEntry
  sources: ImportSource[]
  script?: WrapperScript
  /** Environment keys written as `{ from_env: KEY }`: to be set where syncs run. */
  fromEnv: string[]
}

/** A program already in the inventory: matched by site and name, skipped. */
export interface SkippedProgram {
  server: string
  file: string
  domain: string
  program: string
}

export interface ServerImport {
  programs: ImportedProgram[]
  listed: ListedItem[]
  skipped: SkippedProgram[]
}

export interface MapOptions {
  inventory: Inventory
  server: Server
  /** --domain: the site for a program found under no site root. */
  domain?: string
  /** --write-scripts was given: a program whose command is not our runner gets a wrapper script. */
  writeScripts: boolean
}

// What the template writes itself (logs, process names): an original's value is replaced, nothing is lost that runs.
const REPLACED_OPTIONS = new Set([
  'command',
  'directory',
  'process_name',
  'redirect_stderr',
  'stdout_logfile',
  'stdout_logfile_maxbytes',
  'stdout_logfile_backups',
  'stderr_logfile',
  'stderr_logfile_maxbytes',
  'stderr_logfile_backups',
  'stdout_syslog',
  'stderr_syslog',
  'stdout_capture_maxbytes',
  'stderr_capture_maxbytes',
  'stdout_events_enabled',
  'stderr_events_enabled',
])
// Options the template cannot carry: fine only at supervisor's default value.
const DEFAULT_ONLY: Record<string, string[]> = {
  exitcodes: ['0'],
  stopasgroup: ['false', 'no', 'off', '0'],
  killasgroup: ['false', 'no', 'off', '0'],
  numprocs_start: ['0'],
  serverurl: ['AUTO', 'auto'],
}
const FLAG = { fromFlag: true }
const SUPERVISOR_GROUPED =
  'a member of a [group:] section: supervisor runs it as <group>:<name>, which one program per conf cannot carry'

/** Maps one server's config files to proposed entries (not yet merged with other servers or the inventory). */
export function mapServerPrograms(read: ServerPrograms, options: MapOptions): ServerImport {
  const { server, inventory } = options
  const result: ServerImport = { programs: [], listed: [], skipped: [] }
  const list = (file: string, section: string, kind: ListedKind, reason: string) =>
    result.listed.push({ server: server.name, file, section, kind, reason })
  const grouped = new Map<string, string>()
  const programs = new Map<string, { file: ConfFile; section: ConfSection }>()
  for (const file of read.files) {
    if (file.error) {
      list(file.path, '', 'unreadable', file.error)
      continue
    }
    const ownership = ownershipOf(file.head ?? '', inventory.id)
    if (ownership.kind !== 'unmarked') {
      // zx-supervisor's own file: this inventory manages it already, or another inventory does (never taken).
      if (ownership.kind === 'other-inventory')
        list(file.path, '', 'refused', `managed by zx-supervisor inventory '${ownership.marker.inventory}'`)
      continue
    }
    for (const section of file.sections ?? []) {
      if (section.kind === 'other') continue
      if (section.kind === 'group') {
        list(file.path, section.section, 'not-representable', 'a [group:] section: its members run as one group')
        for (const member of (section.options.programs ?? '').split(',')) grouped.set(member.trim(), section.name)
        continue
      }
      if (section.kind !== 'program') {
        list(
          file.path,
          section.section,
          'not-representable',
          `an [${section.kind}:] section: only programs are imported`,
        )
        continue
      }
      const earlier = programs.get(section.name)
      // supervisor reads the files in order and the last definition of a name wins.
      if (earlier)
        list(earlier.file.path, earlier.section.section, 'conflict', `redefined in ${file.path}, which supervisor uses`)
      programs.set(section.name, { file, section })
    }
  }
  for (const { file, section } of programs.values()) {
    if (grouped.has(section.name)) {
      list(file.path, section.section, 'not-representable', `${SUPERVISOR_GROUPED} (${grouped.get(section.name)})`)
      continue
    }
    const mapped = mapProgram(file.path, section, options)
    if ('kind' in mapped) list(file.path, section.section, mapped.kind, mapped.reason)
    else {
      const site = inventory.sites.find((s) => s.domain === mapped.domain)
      const existing = site?.supervisors.find((p) => p.program === mapped.entry.program)
      if (existing)
        result.skipped.push({ server: server.name, file: file.path, domain: mapped.domain, program: existing.program })
      else result.programs.push(mapped)
    }
  }
  return result
}

type Mapped = ImportedProgram | { kind: ListedKind; reason: string }

function mapProgram(file: string, section: ConfSection, options: MapOptions): Mapped {
  const { server } = options
  const o = section.options
  const refused = (reason: string): Mapped => ({ kind: 'refused', reason })
  if (section.argvError || !section.argv?.length)
    return refused(`command cannot be split as supervisor splits it: ${section.argvError ?? 'no command'}`)
  const argv = section.argv
  const unsupported = Object.keys(o).filter(
    (key) => !REPLACED_OPTIONS.has(key) && !(key in CARRIED) && !DEFAULT_ONLY[key]?.includes(o[key] ?? ''),
  )
  if (unsupported.length)
    return {
      kind: 'not-representable',
      reason: `the template cannot carry ${unsupported.map((k) => `${k}=${o[k]}`).join(', ')}`,
    }
  if ([...argv, o.directory ?? ''].some((word) => word.includes('%(')))
    return refused('command or directory holds a %(...)s expansion, which only supervisor can expand')
  const importedFrom = checked(checkAbsolutePath, file, 'imported_from')
  if (typeof importedFrom !== 'string') return refused(`its file's path cannot be recorded: ${importedFrom.reason}`)

  // Where it lives: our runner's site root, else its directory.
  const runner = runnerShape(argv)
  const place = runner?.root ?? o.directory ?? posixDirname(argv[0] as string)
  const site = placeSite(place, options)
  if ('kind' in site) return site
  const root = site.root
  const name = programNameOf(section.name, site.domain)
  const program = checked(checkProgramName, name, 'program')
  if (typeof program !== 'string') return refused(program.reason)
  if (!(section.currentLinks ?? []).includes(root))
    return {
      kind: 'needs-release-layout',
      reason: `no ${currentPath(root)} link: our runner runs scripts from the site's current release`,
    }
  let script: WrapperScript | undefined
  let scriptName: string
  if (runner) {
    if (runner.extra.length) return { kind: 'not-representable', reason: 'arguments after the script in command=' }
    scriptName = runner.script
  } else {
    if (!options.writeScripts)
      return { kind: 'needs-script', reason: `its command is not a script of the app (pass --write-scripts APP_DIR)` }
    scriptName = `${program}.sh`
    script = { name: scriptName, content: wrapperScript(argv, o.directory, root, file, section.section) }
  }
  const scriptChecked = checked(checkScript, scriptName, 'script')
  if (typeof scriptChecked !== 'string') return refused(scriptChecked.reason)

  const entry: ProgramEntry = { program, script: scriptChecked } as ProgramEntry
  const values = entry as unknown as Record<string, unknown>
  for (const [key, read] of Object.entries(CARRIED)) {
    const value = read(o[key])
    if (value === undefined) continue
    if (isRefusal(value)) return refused(value.reason)
    values[key] = value
  }
  const user = (values.user as string | undefined) ?? 'root'
  if (user === site.user) delete values.user
  else values.user = user
  for (const key of Object.keys(CARRIED)) if (values[key] === inventoryDefault(key)) delete values[key]

  const environment = importEnvironment(section, user)
  if ('reason' in environment) return refused(environment.reason)
  if (Object.keys(environment.values).length) entry.environment = environment.values
  values.imported_from = importedFrom
  return {
    domain: site.domain,
    servers: [server.name],
    entry,
    sources: [{ server: server.name, file, group: section.name }],
    ...(script ? { script } : {}),
    fromEnv: environment.fromEnv,
  }
}

type Carried = (raw: string | undefined) => unknown | { reason: string } | undefined

// The options the inventory carries, read with supervisor's own defaults for what the conf leaves out (so a default
// that differs from the inventory's, autorestart or stopwaitsecs, is written and nothing changes how it runs).
const CARRIED: Record<string, Carried> = {
  numprocs: (raw) => rule(PROGRAM_SCHEMA.numprocs.check, raw ?? '1', 'numprocs'),
  autostart: (raw) => rule(PROGRAM_SCHEMA.autostart.check, raw ?? 'true', 'autostart'),
  autorestart: (raw) => rule(PROGRAM_SCHEMA.autorestart.check, raw ?? 'unexpected', 'autorestart'),
  startsecs: (raw) => rule(PROGRAM_SCHEMA.startsecs.check, raw, 'startsecs'),
  startretries: (raw) => rule(PROGRAM_SCHEMA.startretries.check, raw, 'startretries'),
  stopsignal: (raw) => rule(PROGRAM_SCHEMA.stopsignal.check, raw, 'stopsignal'),
  stopwaitsecs: (raw) => rule(PROGRAM_SCHEMA.stopwaitsecs.check, raw ?? '10', 'stopwaitsecs'),
  priority: (raw) => rule(PROGRAM_SCHEMA.priority.check, raw, 'priority'),
  user: (raw) => rule(PROGRAM_SCHEMA.user.check, raw, 'user'),
  environment: () => undefined,
}

function isRefusal(value: unknown): value is { reason: string } {
  return typeof value === 'object' && value !== null && 'reason' in value
}

function rule<T>(check: Check<T>, raw: string | undefined, field: string): T | { reason: string } | undefined {
  if (raw === undefined) return undefined
  const result = check(raw.trim(), field, FLAG)
  return result.ok ? result.value : { reason: reasonOf(result.problem) }
}

function checked<T>(check: Check<T>, value: string, field: string): T | { reason: string } {
  const result = check(value, field)
  return result.ok ? result.value : { reason: reasonOf(result.problem) }
}

function reasonOf(problem: { field: string; value: unknown; allowed: string; hint?: string }): string {
  return `${problem.field}: ${JSON.stringify(problem.value)} is not allowed (allowed: ${problem.allowed})${problem.hint ? `; ${problem.hint}` : ''}`
}

/** The value the inventory gives a key it leaves out: the schema's default, else supervisor's. */
function inventoryDefault(key: string): unknown {
  const spec = (PROGRAM_SCHEMA as Record<string, { default?: unknown; supervisorDefault?: unknown }>)[key]
  return spec?.default ?? spec?.supervisorDefault
}

/** `<root>/runner.sh .deployer/supervisors/<script> [args]`: ours, or DeployerPHP's. */
function runnerShape(argv: string[]): { root: string; script: string; extra: string[] } | null {
  const [runner, script, ...extra] = argv
  if (!runner?.endsWith('/runner.sh') || !script?.startsWith(`${SCRIPTS_DIR}/`)) return null
  return { root: posixDirname(runner), script: script.slice(SCRIPTS_DIR.length + 1), extra }
}

interface PlacedSite {
  domain: string
  root: string
  user: string
}

/** The site a program belongs to: one whose root holds its place, else `<sitesPath>/<domain>/`, else --domain. */
function placeSite(place: string, options: MapOptions): PlacedSite | { kind: ListedKind; reason: string } {
  const { server, inventory } = options
  const within = (root: string) => place === root || place.startsWith(`${root}/`)
  const known = inventory.sites.find((site) => site.servers.includes(server.name) && within(siteRoot(server, site)))
  if (known) return placed(known, server)
  const prefix = `${server.sitesPath}/`
  if (place.startsWith(prefix)) {
    const domain = place.slice(prefix.length).split('/')[0] ?? ''
    const site = inventory.sites.find((s) => s.domain === domain)
    if (site && !site.servers.includes(server.name))
      return {
        kind: 'no-site',
        reason: `site ${domain} is not placed on ${server.name} in the inventory; add it to its server: list first`,
      }
    if (site) return placed(site, server)
    const valid = checkDomain(domain, 'domain')
    if (valid.ok) return { domain, root: defaultSiteRoot(server.sitesPath, domain), user: server.siteUser }
  }
  if (options.domain) {
    const site = inventory.sites.find((s) => s.domain === options.domain)
    if (site?.servers.includes(server.name)) return placed(site, server)
    return { kind: 'no-site', reason: `--domain ${options.domain} is not placed on ${server.name} in the inventory` }
  }
  return {
    kind: 'no-site',
    reason: `its directory ${JSON.stringify(place)} is under no site root of ${server.name} nor ${server.sitesPath}/<domain>/ (pass --domain)`,
  }
}

function placed(site: Site, server: Server): PlacedSite {
  return { domain: site.domain, root: siteRoot(server, site), user: siteUser(server, site) }
}

/** DeployerPHP names a program `<domain>-<program>`: the inventory knows it as `<program>`. */
function programNameOf(group: string, domain: string): string {
  return group.startsWith(`${domain}-`) ? group.slice(domain.length + 1) : group
}

function importEnvironment(
  section: ConfSection,
  user: string,
): { values: Record<string, EnvValue>; fromEnv: string[] } | { reason: string } {
  if (section.environmentError) return { reason: `environment= cannot be read: ${section.environmentError}` }
  const values: Record<string, EnvValue> = {}
  const fromEnv: string[] = []
  const derived: Record<string, string> = { HOME: user === 'root' ? '/root' : `/home/${user}`, USER: user }
  for (const [key, value] of section.environmentPairs ?? []) {
    // The tool sets these itself: an equal value is not lost; another value cannot be carried.
    if (key.startsWith(RESERVED_ENV_PREFIX) || derived[key] === value) continue
    const name = checkProgramEnvKey(key, `environment.${key}`)
    if (!name.ok) return { reason: reasonOf({ ...name.problem, value: key }) }
    if (isSecretName(key) || hasUrlCredentials(value)) {
      const variable = checkEnvVariableName(key, `environment.${key}`)
      if (!variable.ok) return { reason: reasonOf(variable.problem) }
      values[key] = { fromEnv: key }
      fromEnv.push(key)
      continue
    }
    const literal = checkEnvValue(value, `environment.${key}`)
    // The rulebook's refusal names the key and the rule; the value itself is never shown.
    if (!literal.ok)
      return {
        reason: `environment.${key}: ${literal.problem.allowed}${literal.problem.hint ? `; ${literal.problem.hint}` : ''}`,
      }
    values[key] = literal.value
  }
  return { values, fromEnv }
}

/** The command supervisor ran, as a script the runner can run from the release: `exec` it, nothing more. */
function wrapperScript(
  argv: string[],
  directory: string | undefined,
  root: string,
  file: string,
  section: string,
): string {
  const current = currentPath(root)
  const cd = directory && directory !== current ? [`cd ${remoteCommand([directory])}`] : []
  return [
    '#!/bin/sh',
    `# Imported by zx-supervisor from ${JSON.stringify(file)} [${JSON.stringify(section).slice(1, -1)}]: the command supervisor ran.`,
    ...cd,
    `exec ${remoteCommand(argv)}`,
    '',
  ].join('\n')
}

function posixDirname(path: string): string {
  const cut = path.lastIndexOf('/')
  return cut <= 0 ? '/' : path.slice(0, cut)
}

/**
 * One program per site across servers: the same definition on several servers becomes one entry with those servers;
 * the same name with different definitions is a conflict, listed for each server and not written.
 */
export function mergeServerImports(imports: ServerImport[], inventory?: Inventory): ServerImport {
  const merged: ServerImport = { programs: [], listed: [], skipped: [] }
  const byName = new Map<string, ImportedProgram[]>()
  for (const one of imports) {
    merged.listed.push(...one.listed)
    merged.skipped.push(...one.skipped)
    for (const program of one.programs) {
      const key = `${program.domain}\0${program.entry.program}`
      byName.set(key, [...(byName.get(key) ?? []), program])
    }
  }
  const scripts = new Map<string, string>()
  for (const found of byName.values()) {
    const [first] = found as [ImportedProgram]
    const same = found.every(
      (p) => isDeepStrictEqual(p.entry, first.entry) && p.script?.content === first.script?.content,
    )
    const scriptKey = `${first.domain}\0${first.entry.script}`
    const scriptOwner = scripts.get(scriptKey)
    if (!same || scriptOwner !== undefined) {
      const reason = same
        ? `script ${first.entry.script} is already imported for program ${scriptOwner} of ${first.domain}`
        : `program ${first.entry.program} of ${first.domain} is defined differently on ${found.map((p) => p.servers[0]).join(', ')}: not merged`
      for (const p of found) listConflict(merged, p, reason)
      continue
    }
    scripts.set(scriptKey, first.entry.program)
    // A site of the inventory runs its programs on all its servers: one found on fewer would start where it did not run.
    const site = inventory?.sites.find((s) => s.domain === first.domain)
    const missing = site?.servers.filter((name) => !found.some((p) => p.servers.includes(name))) ?? []
    if (missing.length) {
      const reason = `site ${first.domain} also runs on ${missing.join(', ')}, where this program was not found (import those servers too, or it would start there)`
      for (const p of found) listConflict(merged, p, reason)
      continue
    }
    merged.programs.push({
      ...first,
      servers: found.flatMap((p) => p.servers),
      sources: found.flatMap((p) => p.sources),
    })
  }
  return merged
}

/** Lists every server file a program came from as a conflict, with one reason: it is not written. */
export function listConflict(merged: ServerImport, program: ImportedProgram, reason: string): void {
  for (const source of program.sources)
    merged.listed.push({
      server: source.server,
      file: source.file,
      section: `program:${source.group}`,
      kind: 'conflict',
      reason,
    })
}
