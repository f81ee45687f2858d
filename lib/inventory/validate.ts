// Turns parsed inventory YAML into the validated model, collecting every problem at once with its path.

import { DEFAULT_INVENTORY_ID, fullName as programFullName } from '../layout.ts'
import { ENVIRONMENT_KEY, PROGRAM_KEYS, programKeySpecs } from '../program-schema.ts'
import type { EnvValue, Inventory, Problem, Program, Server, Site, SupervisorOverrides } from '../types.ts'
import {
  type Check,
  type CheckResult,
  checkAbsolutePath,
  checkConnection,
  checkControlPersist,
  checkEnvEntry,
  checkFilePath,
  checkGroupName,
  checkHost,
  checkInventoryId,
  checkPort,
  checkProgramEnvKey,
  checkServerName,
  checkUsername,
  describeType,
  SITE_RULES,
  SUPERVISOR_OVERRIDE_RULES,
} from '../values.ts'
import { siteRoot } from './resolve.ts'

export const TOP_KEYS = ['id', 'servers', 'sites', 'controlPersist', 'sshConfig'] as const
// provider, dropletId and instanceId are DeployerPHP's own keys: known, kept, unused here.
export const SERVER_KEYS = [
  'name',
  'host',
  'port',
  'username',
  'privateKeyPath',
  'provider',
  'dropletId',
  'instanceId',
  'groups',
  'siteUser',
  'sitesPath',
  'knownHostsFile',
  'connection',
  'supervisor',
] as const
// crons belong to DeployerPHP's cron feature: known, kept, unused here.
export const SITE_KEYS = [
  'domain',
  'server',
  'repo',
  'branch',
  'php_version',
  'crons',
  'supervisors',
  'user',
  'root',
] as const

/** Keys like `x-worker-defaults:` hold YAML anchors for `<<: *merge`; they are never warned about. */
export const EXTENSION_PREFIX = 'x-'

export const DEFAULTS = {
  // Only when neither the inventory nor the ssh config names a login user (the port is left to OpenSSH: 22).
  username: 'root',
  siteUser: 'deployer',
} as const

export interface Validation {
  /** Complete only when `problems` is empty; otherwise a best effort with defaults in place of bad values. */
  inventory: Inventory
  problems: Problem[]
  /** Unknown keys (kept in the file), for --verbose. */
  warnings: string[]
}

interface Report {
  problems: Problem[]
  warnings: string[]
  source: string | undefined
}

type RawMap = Record<string, unknown>

export function validateInventory(raw: unknown, source?: string): Validation {
  const report: Report = { problems: [], warnings: [], source }
  if (!isMap(raw)) {
    report.problems.push({
      field: '(top level)',
      value: raw,
      allowed: 'a map with `servers:` and `sites:` lists',
      hint: `got ${describeType(raw)}; see inventory/example.yml`,
    })
    return { inventory: { id: DEFAULT_INVENTORY_ID, servers: [], sites: [] }, ...report }
  }
  warnUnknownKeys(report, raw, '', TOP_KEYS)
  const id = optional(report, raw, 'id', '', checkInventoryId) ?? DEFAULT_INVENTORY_ID
  const controlPersist = optional(report, raw, 'controlPersist', '', checkControlPersist)
  const sshConfig = optional(report, raw, 'sshConfig', '', checkFilePath)
  const servers = readList(report, raw, 'servers', '', true).flatMap((item, i) =>
    readServer(report, item, `servers[${i}]`),
  )
  checkServerNamesUnique(report, servers)
  checkGroupsAreNotServers(report, servers)
  const known = [...new Set(servers.map((server) => server.name).filter(Boolean))]
  const sites = readList(report, raw, 'sites', '', false).flatMap((item, i) =>
    readSite(report, item, `sites[${i}]`, known),
  )
  checkDomainsUnique(report, sites)
  checkFullNamesUnique(report, sites)
  checkSiteRootsUnique(report, sites, servers)
  const inventory: Inventory = { id, servers, sites }
  assignDefined(inventory, { controlPersist, sshConfig })
  return { inventory, problems: report.problems, warnings: report.warnings }
}

/** Validates one program entry on its own (e.g. before `addProgram`); field paths start at `path`. */
export function validateProgram(
  raw: unknown,
  path = '',
): { program: Program | undefined; problems: Problem[]; warnings: string[] } {
  const report: Report = { problems: [], warnings: [], source: undefined }
  const [program] = readProgram(report, raw, path)
  return { program, problems: report.problems, warnings: report.warnings }
}

/** DeployerPHP's create-time rules: one program per name and one per script within a site. */
export function findProgramConflicts(
  site: Site,
  entry: Pick<Program, 'program' | 'script'>,
  fields = { program: 'program', script: 'script' },
): Problem[] {
  const problems: Problem[] = []
  if (site.supervisors.some((existing) => existing.program === entry.program)) {
    problems.push({
      field: fields.program,
      value: entry.program,
      allowed: `a program name not yet used by ${site.domain}`,
      hint: `Supervisor '${entry.program}' is already configured for '${site.domain}'`,
    })
  }
  if (site.supervisors.some((existing) => existing.script === entry.script)) {
    problems.push({
      field: fields.script,
      value: entry.script,
      allowed: `a script not yet used by another program of ${site.domain}`,
      hint: `Supervisor script '${entry.script}' is already configured for '${site.domain}'`,
    })
  }
  return problems
}

/** `servers[0]` + `port` → `servers[0].port`; odd keys are quoted: `environment["a b"]`. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`
  if (path === '') return part.startsWith('[') ? part : key
  return part.startsWith('[') ? `${path}${part}` : `${path}.${part}`
}

function isMap(value: unknown): value is RawMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Sets only the optional fields that have a value, so absent keys stay absent in the model. */
function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) Object.assign(target, { [key]: value })
  }
}

function take<T>(report: Report, result: CheckResult<T>): T | undefined {
  if (result.ok) return result.value
  report.problems.push(result.problem)
  return undefined
}

/** A known key whose null value means "not set", as DeployerPHP writes `privateKeyPath: null`. */
function optional<T>(report: Report, map: RawMap, key: string, path: string, check: Check<T>): T | undefined {
  const value = map[key]
  if (value === undefined || value === null) return undefined
  return take(report, check(value, joinPath(path, key)))
}

function required<T>(report: Report, map: RawMap, key: string, path: string, check: Check<T>): T | undefined {
  const value = map[key]
  return take(report, check(value === null ? undefined : value, joinPath(path, key)))
}

/** A list key: null means empty; missing means empty unless it is required. */
function readList(report: Report, map: RawMap, key: string, path: string, isRequired: boolean): unknown[] {
  const value = map[key]
  const field = joinPath(path, key)
  if (value === undefined && isRequired) {
    report.problems.push({
      field,
      value,
      allowed: `a list of ${key}`,
      hint: `add \`${key}:\` (see inventory/example.yml)`,
    })
    return []
  }
  if (value === undefined || value === null) return []
  if (Array.isArray(value)) return value
  report.problems.push({
    field,
    value,
    allowed: `a list of ${key}`,
    hint: `got ${describeType(value)}; start each entry with "- " on its own line`,
  })
  return []
}

function readMapItem(report: Report, item: unknown, path: string, what: string): RawMap | undefined {
  if (isMap(item)) return item
  report.problems.push({
    field: path,
    value: item,
    allowed: `a map describing one ${what}`,
    hint: `got ${describeType(item)}`,
  })
  return undefined
}

function warnUnknownKeys(report: Report, map: RawMap, path: string, known: readonly string[]): void {
  const prefix = report.source ? `${report.source}: ` : ''
  for (const key of Object.keys(map)) {
    if (known.includes(key) || key.startsWith(EXTENSION_PREFIX)) continue
    const normal = (text: string) => text.toLowerCase().replace(/[_-]/g, '')
    const near = known.find((candidate) => normal(candidate) === normal(key))
    const suggestion = near ? `; did you mean '${near}'?` : ''
    report.warnings.push(`${prefix}${joinPath(path, key)}: unknown key, kept as is and ignored${suggestion}`)
  }
}

function readServer(report: Report, item: unknown, path: string): Server[] {
  const map = readMapItem(report, item, path, 'server')
  if (!map) return []
  warnUnknownKeys(report, map, path, SERVER_KEYS)
  const name = required(report, map, 'name', path, checkServerName) ?? ''
  const connection = optional(report, map, 'connection', path, checkConnection)
  const host =
    connection === 'local' && map.host == null ? 'local' : (required(report, map, 'host', path, checkHost) ?? '')
  if (connection === 'ssh' && host === 'local') {
    report.problems.push({
      field: joinPath(path, 'connection'),
      value: connection,
      allowed: 'local when host is "local"',
      hint: 'host: local runs on this machine; remove `connection: ssh` or give a real host',
    })
  }
  const siteUser = optional(report, map, 'siteUser', path, checkUsername) ?? DEFAULTS.siteUser
  const server: Server = {
    name,
    host,
    groups: readNames(report, map, 'groups', path, checkGroupName),
    siteUser,
    sitesPath: optional(report, map, 'sitesPath', path, checkAbsolutePath) ?? defaultSitesPath(siteUser),
    local: connection === 'local' || host === 'local',
  }
  // Left out when absent: the ssh config (an alias's User and Port) decides, else root on 22.
  assignDefined(server, {
    port: optional(report, map, 'port', path, checkPort),
    username: optional(report, map, 'username', path, checkUsername),
  })
  const privateKeyPath = optional(report, map, 'privateKeyPath', path, checkFilePath)
  const knownHostsFile = optional(report, map, 'knownHostsFile', path, checkFilePath)
  if (privateKeyPath !== undefined) server.privateKeyPath = privateKeyPath
  if (knownHostsFile !== undefined) server.knownHostsFile = knownHostsFile
  const supervisor = readSupervisorOverrides(report, map, path)
  if (supervisor) server.supervisor = supervisor
  return [server]
}

/** `supervisor: { config, include_dir, serverurl }`: each optional, each checked by the rulebook. */
function readSupervisorOverrides(report: Report, map: RawMap, path: string): SupervisorOverrides | undefined {
  const value = map.supervisor
  if (value === undefined || value === null) return undefined
  const field = joinPath(path, 'supervisor')
  if (!isMap(value)) {
    report.problems.push({
      field,
      value,
      allowed: 'a map with config, include_dir and/or serverurl',
      hint: 'e.g. supervisor: { config: /etc/supervisord.conf }',
    })
    return undefined
  }
  warnUnknownKeys(report, value, field, Object.keys(SUPERVISOR_OVERRIDE_RULES))
  const overrides: SupervisorOverrides = {}
  assignDefined(overrides, {
    config: optional(report, value, 'config', field, SUPERVISOR_OVERRIDE_RULES.config),
    includeDir: optional(report, value, 'include_dir', field, SUPERVISOR_OVERRIDE_RULES.include_dir),
    serverurl: optional(report, value, 'serverurl', field, SUPERVISOR_OVERRIDE_RULES.serverurl),
  })
  return overrides
}

/** `/home/<user>/sites`, except root, whose home is /root. */
export function defaultSitesPath(siteUser: string): string {
  return siteUser === 'root' ? '/root/sites' : `/home/${siteUser}/sites`
}

/** A list of names (groups); duplicates are dropped. */
function readNames(report: Report, map: RawMap, key: string, path: string, check: Check<string>): string[] {
  const value = map[key]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    report.problems.push({
      field: joinPath(path, key),
      value,
      allowed: `a list of names, e.g. ${key}: [web]`,
      hint: typeof value === 'string' ? `write ${key}: [${value}]` : `got ${describeType(value)}`,
    })
    return []
  }
  const names = value.flatMap((name, i) => take(report, check(name, joinPath(joinPath(path, key), i))) ?? [])
  return [...new Set(names)]
}

function checkServerNamesUnique(report: Report, servers: Server[]): void {
  const seen = new Map<string, number>()
  servers.forEach((server, i) => {
    if (!server.name) return
    const first = seen.get(server.name)
    if (first === undefined) {
      seen.set(server.name, i)
      return
    }
    report.problems.push({
      field: `servers[${i}].name`,
      value: server.name,
      allowed: 'a name no other server uses',
      hint: `servers[${first}] is already named '${server.name}'`,
    })
  })
}

// `--server web` must mean one thing: a server or a group, never both.
function checkGroupsAreNotServers(report: Report, servers: Server[]): void {
  const names = new Set(servers.map((server) => server.name))
  servers.forEach((server, i) => {
    server.groups.forEach((group, g) => {
      if (!names.has(group)) return
      report.problems.push({
        field: `servers[${i}].groups[${g}]`,
        value: group,
        allowed: 'a group name that is not also a server name',
        hint: `'${group}' is a server; --server ${group} would be ambiguous, so rename the group`,
      })
    })
  })
}

function readSite(report: Report, item: unknown, path: string, knownServers: string[]): Site[] {
  const map = readMapItem(report, item, path, 'site')
  if (!map) return []
  warnUnknownKeys(report, map, path, SITE_KEYS)
  const domain = required(report, map, 'domain', path, SITE_RULES.domain) ?? ''
  const site: Site = {
    domain,
    servers: readSiteServers(report, map, path, knownServers),
    supervisors: [],
  }
  const optionals = {
    repo: optional(report, map, 'repo', path, SITE_RULES.repo),
    branch: optional(report, map, 'branch', path, SITE_RULES.branch),
    phpVersion: optional(report, map, 'php_version', path, SITE_RULES.php_version),
    user: optional(report, map, 'user', path, SITE_RULES.user),
    root: optional(report, map, 'root', path, SITE_RULES.root),
  }
  assignDefined(site, optionals)
  site.supervisors = readList(report, map, 'supervisors', path, false).flatMap((raw, i) =>
    readProgram(report, raw, joinPath(joinPath(path, 'supervisors'), i)),
  )
  checkProgramsUnique(report, site, joinPath(path, 'supervisors'))
  return [site]
}

/** `server: name` or `server: [a, b]`; each must be a server of the inventory. */
function readSiteServers(report: Report, map: RawMap, path: string, knownServers: string[]): string[] {
  const value = map.server
  const field = joinPath(path, 'server')
  const entries: Array<[unknown, string]> = Array.isArray(value)
    ? value.map((name, i) => [name, joinPath(field, i)])
    : [[value === null ? undefined : value, field]]
  if (Array.isArray(value) && value.length === 0) {
    report.problems.push({
      field,
      value,
      allowed: 'a server name or a non-empty list of names',
      hint: 'name at least one server',
    })
  }
  const names: string[] = []
  for (const [raw, at] of entries) {
    const name = take(report, checkServerName(raw, at))
    if (name === undefined) continue
    if (!knownServers.includes(name)) {
      report.problems.push({
        field: at,
        value: name,
        allowed: `a server from servers: (${knownServers.length ? knownServers.join(', ') : 'none defined'})`,
        hint: `Server '${name}' not found in inventory`,
      })
    }
    names.push(name)
  }
  return [...new Set(names)]
}

function checkDomainsUnique(report: Report, sites: Site[]): void {
  const seen = new Map<string, number>()
  sites.forEach((site, i) => {
    if (!site.domain) return
    const first = seen.get(site.domain)
    if (first === undefined) {
      seen.set(site.domain, i)
      return
    }
    report.problems.push({
      field: `sites[${i}].domain`,
      value: site.domain,
      allowed: 'a domain no other site uses',
      hint: `sites[${first}] already has the domain '${site.domain}'`,
    })
  })
}

// `a.com` + `b-c` and `a.com-b` + `c` both become `a.com-b-c`: the same conf, log and supervisor group name.
function checkFullNamesUnique(report: Report, sites: Site[]): void {
  const seen = new Map<string, { site: number; program: number }>()
  sites.forEach((site, s) => {
    site.supervisors.forEach((program, p) => {
      if (!site.domain || !program.program) return
      const name = programFullName(site.domain, program.program)
      const first = seen.get(name)
      if (!first) {
        seen.set(name, { site: s, program: p })
        return
      }
      if (first.site === s) return
      report.problems.push({
        field: `sites[${s}].supervisors[${p}].program`,
        value: program.program,
        allowed: 'a program whose full name <domain>-<program> differs from every other program of the inventory',
        hint: `sites[${first.site}].supervisors[${first.program}] is also '${name}' (the same conf, log and supervisor group); rename one`,
      })
    })
  })
}

// runner.sh lives in the site root: two sites sharing one root on a server would overwrite each other's.
function checkSiteRootsUnique(report: Report, sites: Site[], servers: Server[]): void {
  for (const server of servers) {
    const seen = new Map<string, number>()
    sites.forEach((site, s) => {
      if (!site.domain || !site.servers.includes(server.name)) return
      const root = siteRoot(server, site)
      const first = seen.get(root)
      if (first === undefined) {
        seen.set(root, s)
        return
      }
      report.problems.push({
        field: `sites[${s}].root`,
        value: root,
        allowed: 'a site root no other site uses on the same server',
        hint: `sites[${first}] (${sites[first]?.domain}) also lives in ${root} on ${server.name}; give one of them its own root:`,
      })
    })
  }
}

function readProgram(report: Report, raw: unknown, path: string): Program[] {
  const map = readMapItem(report, raw, path || '(program)', 'supervisor program')
  if (!map) return []
  warnUnknownKeys(report, map, path, PROGRAM_KEYS)
  const program: Record<string, unknown> = {}
  for (const [key, spec] of programKeySpecs()) {
    // A refused name reads as '' so the rest of the entry is still checked; its problem is already reported.
    const value = spec.required
      ? (required(report, map, key, path, spec.check) ?? '')
      : (optional(report, map, key, path, spec.check) ?? spec.default)
    if (value !== undefined) program[key] = value
  }
  program[ENVIRONMENT_KEY] = readEnvironment(report, map, path)
  return [program as unknown as Program]
}

function readEnvironment(report: Report, map: RawMap, path: string): Record<string, EnvValue> {
  const value = map[ENVIRONMENT_KEY]
  const field = joinPath(path, ENVIRONMENT_KEY)
  if (value === undefined || value === null) return {}
  if (!isMap(value)) {
    report.problems.push({
      field,
      value,
      allowed: 'a map of NAME: value (or NAME: { from_env: VAR })',
      hint: `got ${describeType(value)}; write environment: {APP_ENV: production}`,
    })
    return {}
  }
  const environment: Record<string, EnvValue> = {}
  for (const [key, raw] of Object.entries(value)) {
    const at = joinPath(field, key)
    const name = take(report, checkProgramEnvKey(key, at))
    const entry = take(report, checkEnvEntry(raw, at))
    if (name !== undefined && entry !== undefined) environment[name] = entry
  }
  return environment
}

function checkProgramsUnique(report: Report, site: Site, path: string): void {
  const domain = site.domain || path.replace(/\.supervisors$/, '')
  const byName = new Map<string, number>()
  const byScript = new Map<string, number>()
  site.supervisors.forEach((program, i) => {
    const nameFirst = program.program ? byName.get(program.program) : undefined
    const scriptFirst = program.script ? byScript.get(program.script) : undefined
    if (nameFirst !== undefined) {
      report.problems.push({
        field: joinPath(joinPath(path, i), 'program'),
        value: program.program,
        allowed: 'a program name used once per site',
        hint: `Supervisor '${program.program}' is already configured for '${domain}' (supervisors[${nameFirst}])`,
      })
    } else if (program.program) byName.set(program.program, i)
    if (scriptFirst !== undefined) {
      report.problems.push({
        field: joinPath(joinPath(path, i), 'script'),
        value: program.script,
        allowed: 'a script used by one program per site',
        hint: `Supervisor script '${program.script}' is already configured for '${domain}' (supervisors[${scriptFirst}])`,
      })
    } else if (program.script) byScript.set(program.script, i)
  })
}
