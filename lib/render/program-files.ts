// Renders the files a site's programs need on a server: the supervisor conf and logrotate file per program, and
// the site's runner.sh. Every value is checked here first, so one InputError lists every problem of a program.
import { InputError } from '../errors.ts'
import type { Problem, Program, RemoteFile, Server, Site } from '../types.ts'
import { environmentPairProblems, iniNameProblems, iniValueProblems } from './ini.ts'
import { createRenderer, type Renderer } from './templates.ts'
import { siteRoot as siteRootOf, siteUser as siteUserOf } from '../inventory/resolve.ts'

/** First word of the marker comment that opens every conf and logrotate file this tool writes. */
export const MANAGED_MARKER = 'zx-supervisor'

/** Environment keys zx-supervisor sets itself (in the conf or in runner.sh); a program may not redefine them. */
export const RESERVED_ENV_KEYS: readonly string[] = [
  'DEPLOYER_DOMAIN',
  'DEPLOYER_SITE_ROOT',
  'DEPLOYER_CURRENT_PATH',
  'DEPLOYER_SHARED_PATH',
  'DEPLOYER_RELEASE_PATH',
  'DEPLOYER_BRANCH',
  'DEPLOYER_PHP',
  'DEPLOYER_PHP_VERSION',
]

export const CONF_DIR = '/etc/supervisor/conf.d'
export const LOGROTATE_DIR = '/etc/logrotate.d'
export const PROGRAM_LOG_DIR = '/var/log/supervisor'
export const SCRIPTS_DIR = '.deployer/supervisors'

/** A rendered file plus the template it came from (for --verbose and error messages). */
export interface RenderedFile extends RemoteFile {
  template: string
}

export interface ManagedMarker {
  domain: string
  program: string
}

/** Where problems are reported: paths in the inventory file (the defaults name the site and program). */
export interface FieldPaths {
  site?: string
  program?: string
}

/** What program.conf templates (shared or a site's own) can use; unset optional keys are null. */
export interface ProgramTemplateData {
  domain: string
  program: string
  fullName: string
  server: string
  siteRoot: string
  currentPath: string
  sharedPath: string
  runnerPath: string
  /** The runner's argument: `.deployer/supervisors/<script>`. */
  scriptPath: string
  user: string
  home: string
  autostart: boolean
  autorestart: boolean | 'unexpected'
  stopwaitsecs: number
  numprocs: number
  startsecs: number | null
  startretries: number | null
  stopsignal: string | null
  priority: number | null
  logPath: string
  branch: string | null
  phpVersion: string | null
  /** HOME, USER, the DEPLOYER_* variables, then the program's own, in that order. */
  environment: [string, string][]
}

/** What runner.sh templates can use. */
export interface RunnerTemplateData {
  domain: string
  siteRoot: string
  currentPath: string
  sharedPath: string
  /** Empty when the site has no branch, so scripts under `set -u` still run. */
  branch: string
  phpVersion: string
  /** `php<version>`, or `php` when the site has no version: runner.sh looks it up with `command -v`. */
  phpBinary: string
}

export function programFullName(site: string | Pick<Site, 'domain'>, program: string | Pick<Program, 'program'>): string {
  const domain = typeof site === 'string' ? site : site.domain
  const name = typeof program === 'string' ? program : program.program
  return `${domain}-${name}`
}

export function confPath(fullName: string): string {
  return `${CONF_DIR}/${fullName}.conf`
}

export function logrotatePath(fullName: string): string {
  return `${LOGROTATE_DIR}/supervisor-${fullName}.conf`
}

export function programLogPath(fullName: string): string {
  return `${PROGRAM_LOG_DIR}/${fullName}.log`
}


export function runnerPath(siteRoot: string): string {
  return `${siteRoot}/runner.sh`
}

/** The template a program renders with: its `template` key (under supervisor/ unless it names a folder), else the default. */
export function programTemplateName(program: Pick<Program, 'template'>): string {
  const name = program.template?.replace(/\.hbs$/, '')
  if (name === undefined || name === '') return 'supervisor/program.conf'
  return name.includes('/') ? name : `supervisor/${name}`
}

/** The marker line that opens a conf (`;` comment) or a logrotate file (`#` comment). */
export function managedMarkerLine(kind: 'conf' | 'logrotate', domain: string, program: string): string {
  return `${kind === 'conf' ? ';' : '#'} ${MANAGED_MARKER} site=${domain} program=${program}`
}

const MARKER_LINE = new RegExp(`^[;#] ${MANAGED_MARKER} site=([A-Za-z0-9._-]+) program=([A-Za-z0-9._-]+)\\r?$`)

/** Which site and program a file on a server belongs to, from its first line; null when this tool did not write it. */
export function parseManagedMarker(content: string): ManagedMarker | null {
  const match = MARKER_LINE.exec(content.split('\n', 1)[0] ?? '')
  return match?.[1] && match[2] ? { domain: match[1], program: match[2] } : null
}

/** The values a program's conf is rendered from. Throws InputError listing every value that cannot be encoded. */
export function programTemplateData(
  { server, site, program }: { server: Server; site: Site; program: Program },
  paths: FieldPaths = {},
): ProgramTemplateData {
  const sitePath = paths.site ?? `sites[${site.domain}]`
  const programPath = paths.program ?? `${sitePath}.supervisors[${program.program}]`
  const siteRoot = siteRootOf(server, site)
  const user = program.user ?? siteUserOf(server, site)
  const fullName = programFullName(site, program)
  const home = user === 'root' ? '/root' : `/home/${user}`
  const userField = program.user !== undefined ? `${programPath}.user` : userFieldOf(server, site, sitePath)
  const environment: EnvEntry[] = [
    { key: 'HOME', value: home, field: userField },
    { key: 'USER', value: user, field: userField },
    { key: 'DEPLOYER_DOMAIN', value: site.domain, field: `${sitePath}.domain` },
    { key: 'DEPLOYER_SITE_ROOT', value: siteRoot, field: rootFieldOf(server, site, sitePath) },
    { key: 'DEPLOYER_CURRENT_PATH', value: `${siteRoot}/current`, field: rootFieldOf(server, site, sitePath) },
    { key: 'DEPLOYER_SHARED_PATH', value: `${siteRoot}/shared`, field: rootFieldOf(server, site, sitePath) },
  ]
  if (site.branch !== undefined) environment.push({ key: 'DEPLOYER_BRANCH', value: site.branch, field: `${sitePath}.branch` })
  if (site.phpVersion !== undefined) {
    environment.push({ key: 'DEPLOYER_PHP_VERSION', value: site.phpVersion, field: `${sitePath}.php_version` })
  }
  const own = Object.entries(program.environment).map(([key, value]) => ({ key, value, field: `${programPath}.environment.${key}` }))

  throwIfAny([
    ...iniNameProblems(site.domain, `${sitePath}.domain`),
    ...iniNameProblems(program.program, `${programPath}.program`),
    ...siteRootProblems(siteRoot, rootFieldOf(server, site, sitePath)),
    ...userProblems(user, userField),
    ...scriptProblems(program.script, `${programPath}.script`),
    ...programOptionProblems(program, programPath),
    ...reservedKeyProblems(own),
    ...[...environment, ...own].flatMap(({ key, value, field }) => environmentPairProblems(key, value, field)),
  ])

  return {
    domain: site.domain,
    program: program.program,
    fullName,
    server: server.name,
    siteRoot,
    currentPath: `${siteRoot}/current`,
    sharedPath: `${siteRoot}/shared`,
    runnerPath: runnerPath(siteRoot),
    scriptPath: `${SCRIPTS_DIR}/${program.script}`,
    user,
    home,
    autostart: program.autostart,
    autorestart: program.autorestart,
    stopwaitsecs: program.stopwaitsecs,
    numprocs: program.numprocs,
    startsecs: program.startsecs ?? null,
    startretries: program.startretries ?? null,
    stopsignal: program.stopsignal ?? null,
    priority: program.priority ?? null,
    logPath: programLogPath(fullName),
    branch: site.branch ?? null,
    phpVersion: site.phpVersion ?? null,
    environment: mergeEnvironment(environment, own),
  }
}

/** The values runner.sh is rendered from. */
export function runnerTemplateData({ server, site }: { server: Server; site: Site }, paths: FieldPaths = {}): RunnerTemplateData {
  const sitePath = paths.site ?? `sites[${site.domain}]`
  const siteRoot = siteRootOf(server, site)
  throwIfAny([
    ...iniNameProblems(site.domain, `${sitePath}.domain`),
    ...siteRootProblems(siteRoot, rootFieldOf(server, site, sitePath)),
    ...userProblems(siteUserOf(server, site), userFieldOf(server, site, sitePath)),
    ...(site.phpVersion === undefined || /^[0-9][0-9.]*$/.test(site.phpVersion)
      ? []
      : [{ field: `${sitePath}.php_version`, value: site.phpVersion, allowed: 'a version like "8.3"', hint: 'runner.sh looks up php<version> on the server' }]),
  ])
  return {
    domain: site.domain,
    siteRoot,
    currentPath: `${siteRoot}/current`,
    sharedPath: `${siteRoot}/shared`,
    branch: site.branch ?? '',
    phpVersion: site.phpVersion ?? '',
    phpBinary: site.phpVersion === undefined ? 'php' : `php${site.phpVersion}`,
  }
}

export interface RenderProgramInput {
  templatesDir: string
  server: Server
  site: Site
  program: Program
  /** Reuse one renderer (and its template cache) across programs. */
  renderer?: Renderer
  paths?: FieldPaths
}

/** The program's supervisor conf and logrotate file, in that order. */
export function renderProgramFiles({ templatesDir, server, site, program, renderer, paths }: RenderProgramInput): RenderedFile[] {
  const render = renderer ?? createRenderer({ templatesDir })
  const data = programTemplateData({ server, site, program }, paths)
  const conf = render.render({ name: programTemplateName(program), domain: site.domain, data })
  const logrotate = render.render({ name: 'supervisor/logrotate', domain: site.domain, data })
  const root = { owner: 'root', group: 'root', mode: '0644' }
  return [
    {
      path: confPath(data.fullName),
      content: `${managedMarkerLine('conf', data.domain, data.program)}\n${conf.content}`,
      ...root,
      template: conf.templatePath,
    },
    {
      path: logrotatePath(data.fullName),
      content: `${managedMarkerLine('logrotate', data.domain, data.program)}\n${logrotate.content}`,
      ...root,
      template: logrotate.templatePath,
    },
  ]
}

export interface RenderRunnerInput {
  templatesDir: string
  server: Server
  site: Site
  renderer?: Renderer
  paths?: FieldPaths
}

/** The site's runner.sh, owned by the site user and executable. */
export function renderRunner({ templatesDir, server, site, renderer, paths }: RenderRunnerInput): RenderedFile {
  const render = renderer ?? createRenderer({ templatesDir })
  const data = runnerTemplateData({ server, site }, paths)
  const runner = render.render({ name: 'runner.sh', domain: site.domain, data })
  const user = siteUserOf(server, site)
  return { path: runnerPath(data.siteRoot), content: runner.content, owner: user, group: user, mode: '0755', template: runner.templatePath }
}

interface EnvEntry {
  key: string
  value: string
  field: string
}

// A program may override HOME and USER; its value takes the built-in's place so each key appears once.
function mergeEnvironment(builtIn: EnvEntry[], own: EnvEntry[]): [string, string][] {
  const merged = new Map(builtIn.map(({ key, value }) => [key, value]))
  for (const { key, value } of own) merged.set(key, value)
  return [...merged]
}

function rootFieldOf(server: Server, site: Site, sitePath: string): string {
  return site.root !== undefined ? `${sitePath}.root` : `servers[${server.name}].sitesPath`
}

function userFieldOf(server: Server, site: Site, sitePath: string): string {
  return site.user !== undefined ? `${sitePath}.user` : `servers[${server.name}].siteUser`
}

function siteRootProblems(siteRoot: string, field: string): Problem[] {
  const problems = iniValueProblems(siteRoot, field)
  if (!siteRoot.startsWith('/') || siteRoot.split('/').includes('..')) {
    problems.push({ field, value: siteRoot, allowed: 'an absolute path without ".." segments', hint: 'for example /home/deployer/sites/example.com' })
  }
  return problems
}

function userProblems(user: string, field: string): Problem[] {
  if (/^[A-Za-z_][A-Za-z0-9._-]*$/.test(user)) return []
  return [{ field, value: user, allowed: 'a user name ([A-Za-z_][A-Za-z0-9._-]*)', hint: 'the user must exist on the server; HOME is /home/<user>' }]
}

// The script is shlex-quoted into command=, so only the INI rules and the runner's path rules apply.
function scriptProblems(script: string, field: string): Problem[] {
  const problems = iniValueProblems(script, field)
  if (script !== '' && !script.startsWith('/') && !script.split('/').includes('..')) return problems
  return [
    ...problems,
    {
      field,
      value: script,
      allowed: `a path relative to ${SCRIPTS_DIR}/ without ".." segments`,
      hint: `for example queue-worker.sh for ${SCRIPTS_DIR}/queue-worker.sh; runner.sh refuses anything else`,
    },
  ]
}

const INTEGER_OPTIONS = [
  { key: 'stopwaitsecs', min: 1, required: true },
  { key: 'numprocs', min: 1, required: true },
  { key: 'startsecs', min: 0, required: false },
  { key: 'startretries', min: 0, required: false },
  { key: 'priority', min: Number.MIN_SAFE_INTEGER, required: false },
] as const

function programOptionProblems(program: Program, programPath: string): Problem[] {
  const problems: Problem[] = []
  for (const { key, min, required } of INTEGER_OPTIONS) {
    const value = program[key]
    if (value === undefined && !required) continue
    if (!Number.isSafeInteger(value) || (value as number) < min) {
      const allowed = min === Number.MIN_SAFE_INTEGER ? 'an integer' : `an integer ≥ ${min}`
      problems.push({ field: `${programPath}.${key}`, value, allowed })
    }
  }
  if (program.autorestart !== true && program.autorestart !== false && program.autorestart !== 'unexpected') {
    problems.push({ field: `${programPath}.autorestart`, value: program.autorestart, allowed: 'true, false or "unexpected"' })
  }
  if (typeof program.autostart !== 'boolean') {
    problems.push({ field: `${programPath}.autostart`, value: program.autostart, allowed: 'true or false' })
  }
  if (program.stopsignal !== undefined && !/^(SIG)?[A-Z][A-Z0-9]*$|^[0-9]+$/.test(program.stopsignal)) {
    problems.push({ field: `${programPath}.stopsignal`, value: program.stopsignal, allowed: 'a signal name or number (TERM, SIGQUIT, 15)' })
  }
  return problems
}

function reservedKeyProblems(own: EnvEntry[]): Problem[] {
  return own
    .filter(({ key }) => RESERVED_ENV_KEYS.includes(key))
    .map(({ key, field }) => ({
      field,
      value: key,
      allowed: `a name other than ${RESERVED_ENV_KEYS.join(', ')}`,
      hint: 'zx-supervisor sets these itself (runner.sh exports them), so a value here would be overwritten',
    }))
}

function throwIfAny(problems: Problem[]): void {
  if (problems.length > 0) throw new InputError(problems)
}
