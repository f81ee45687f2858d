// Renders the files a site's programs need on a server: the supervisor conf and logrotate file per program, and
// the site's runner.sh. Every value is checked here first, so one InputError lists every problem of a program.
import { posix } from 'node:path'
import { InputError } from '../errors.ts'
import { siteRoot as siteRootOf, siteUser as siteUserOf } from '../inventory/resolve.ts'
import {
  type ContractDirectory,
  currentPath,
  DEBIAN_LAYOUT,
  DEFAULT_INVENTORY_ID,
  LAYOUT_PLACEHOLDERS,
  type ManagedFileSpec,
  markFile,
  type PathContext,
  type PathLayout,
  PROGRAM_FILES,
  parentDirectories,
  fullName as programFullName,
  programLogPath,
  SCRIPTS_DIR,
  SITE_FILES,
  sharedPath,
} from '../layout.ts'
import { type ProgramOptionData, programOptionData, programValueProblems } from '../program-schema.ts'
import type { Problem, Program, RemoteFile, Server, Site } from '../types.ts'
import { siteValueProblems } from '../values.ts'
import { createRenderer, type Renderer } from './templates.ts'

/** A rendered file: what the contract says it is, whose it is, and the template it came from. */
export interface RenderedFile extends RemoteFile {
  /** The contract's kind (lib/layout.ts): conf, logrotate, runner, ... */
  kind: string
  domain: string
  /** The program's name for program files; null for site files. */
  program: string | null
  /** A change must be applied with `supervisorctl update <group>`. */
  updatesGroup: boolean
  /** The path with the layout's placeholders, for reading a server whose layout is not known yet. */
  readPath: string
  template: string
  /** Environment keys written from literals the inventory holds in the clear (HOME, USER, DEPLOYER_*, plain values): output may show their values; none when absent. */
  literalEnv?: string[]
  /** The contract's directories for it (ManagedFileSpec.parents), parents first: created before it is written. */
  directories?: ContractDirectory[]
}

/** Where problems are reported: paths in the inventory file (the defaults name the site and program). */
export interface FieldPaths {
  site?: string
  program?: string
}

/**
 * What program.conf templates (shared or a site's own) can use: these, and every supervisor option of
 * lib/program-schema.ts by its key (autostart, stopwaitsecs, priority, ...), null when unset.
 */
export interface ProgramTemplateData extends ProgramOptionData {
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

// The conf: the one program file supervisor reads, whose template a program's `template:` replaces.
const CONF_SPEC = PROGRAM_FILES.find((spec) => spec.updatesGroup) as ManagedFileSpec

/** The template a program file renders with: a program's `template` key replaces the conf's (in its folder if bare). */
export function programTemplateName(
  program: Pick<Program, 'template'>,
  spec: Pick<ManagedFileSpec, 'template' | 'updatesGroup'> = CONF_SPEC,
): string {
  const name = program.template?.replace(/\.hbs$/, '')
  if (!spec.updatesGroup || name === undefined || name === '') return spec.template
  return name.includes('/') ? name : `${posix.dirname(spec.template)}/${name}`
}

/** The values a program's conf is rendered from. Throws InputError listing every value that cannot be encoded. */
export function programTemplateData(
  {
    server,
    site,
    program,
    layout = DEBIAN_LAYOUT,
  }: { server: Server; site: Site; program: Program; layout?: PathLayout },
  paths: FieldPaths = {},
): ProgramTemplateData {
  const sitePath = paths.site ?? `sites[${site.domain}]`
  const programPath = paths.program ?? `${sitePath}.supervisors[${program.program}]`
  const siteRoot = siteRootOf(server, site)
  const user = program.user ?? siteUserOf(server, site)
  const fullName = programFullName(site.domain, program.program)
  const home = user === 'root' ? '/root' : `/home/${user}`
  throwIfAny([...siteValueProblems(server, site, sitePath), ...programValueProblems(program, programPath)])
  // The program's own keys never repeat these: the rulebook refuses HOME, USER and DEPLOYER_* there.
  const environment: [string, string][] = [
    ['HOME', home],
    ['USER', user],
    ['DEPLOYER_DOMAIN', site.domain],
    ['DEPLOYER_SITE_ROOT', siteRoot],
    ['DEPLOYER_CURRENT_PATH', currentPath(siteRoot)],
    ['DEPLOYER_SHARED_PATH', sharedPath(siteRoot)],
  ]
  if (site.branch !== undefined) environment.push(['DEPLOYER_BRANCH', site.branch])
  if (site.phpVersion !== undefined) environment.push(['DEPLOYER_PHP_VERSION', site.phpVersion])

  return {
    domain: site.domain,
    program: program.program,
    fullName,
    server: server.name,
    siteRoot,
    currentPath: currentPath(siteRoot),
    sharedPath: sharedPath(siteRoot),
    runnerPath: runnerPathOf(server, site),
    scriptPath: `${SCRIPTS_DIR}/${program.script}`,
    user,
    home,
    ...programOptionData(program),
    logPath: programLogPath(layout, fullName),
    branch: site.branch ?? null,
    phpVersion: site.phpVersion ?? null,
    // Only literal text is left: programValueProblems (above) refused any unresolved { from_env } reference.
    environment: [
      ...environment,
      ...Object.entries(program.environment).filter((pair): pair is [string, string] => typeof pair[1] === 'string'),
    ],
  }
}

/** The values runner.sh is rendered from. */
export function runnerTemplateData(
  { server, site }: { server: Server; site: Site },
  paths: FieldPaths = {},
): RunnerTemplateData {
  const sitePath = paths.site ?? `sites[${site.domain}]`
  const siteRoot = siteRootOf(server, site)
  throwIfAny(siteValueProblems(server, site, sitePath))
  return {
    domain: site.domain,
    siteRoot,
    currentPath: currentPath(siteRoot),
    sharedPath: sharedPath(siteRoot),
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
  /** The inventory's id, written into each file's ownership marker. */
  inventoryId?: string
  /** The server's supervisord layout (where confs and logs go); Debian's until the server has been read. */
  layout?: PathLayout
  /** Reuse one renderer (and its template cache) across programs. */
  renderer?: Renderer
  paths?: FieldPaths
}

/** Every per-program file of the contract (PROGRAM_FILES in lib/layout.ts), in its order: conf, logrotate, ... */
export function renderProgramFiles({
  templatesDir,
  server,
  site,
  program,
  inventoryId,
  layout = DEBIAN_LAYOUT,
  renderer,
  paths,
}: RenderProgramInput): RenderedFile[] {
  const render = renderer ?? createRenderer({ templatesDir })
  const data = programTemplateData({ server, site, program, layout }, paths)
  const context = pathContext(server, site, layout, data.program)
  return PROGRAM_FILES.map((spec) => {
    const rendered = render.render({ name: programTemplateName(program, spec), domain: site.domain, data })
    if (spec.updatesGroup) assertOneProgramSection(rendered.content, data.fullName, rendered.templatePath)
    return {
      ...managedFile(spec, { server, site, program: data.program, inventoryId, context }, rendered),
      literalEnv: literalEnvKeys(data, program),
    }
  })
}

export interface RenderSiteInput {
  templatesDir: string
  server: Server
  site: Site
  inventoryId?: string
  layout?: PathLayout
  renderer?: Renderer
  paths?: FieldPaths
}

// Values from { from_env } are resolved to text before rendering: the program says which keys they were.
function literalEnvKeys(data: ProgramTemplateData, program: Program): string[] {
  return data.environment.map(([key]) => key).filter((key) => !program.resolvedFromEnv?.includes(key))
}

/** Every per-site file of the contract (SITE_FILES in lib/layout.ts): runner.sh, ... */
export function renderSiteFiles({
  templatesDir,
  server,
  site,
  inventoryId,
  layout = DEBIAN_LAYOUT,
  renderer,
  paths,
}: RenderSiteInput): RenderedFile[] {
  const render = renderer ?? createRenderer({ templatesDir })
  const data = runnerTemplateData({ server, site }, paths)
  const context = pathContext(server, site, layout)
  return SITE_FILES.map((spec) =>
    managedFile(
      spec,
      { server, site, program: null, inventoryId, context },
      render.render({ name: spec.template, domain: site.domain, data }),
    ),
  )
}

/** The site's runner.sh (the first site file). */
export function renderRunner(input: RenderSiteInput): RenderedFile {
  return renderSiteFiles(input).find((f) => f.kind === 'runner') as RenderedFile
}

/** Where runner.sh lives for a site on a server. */
export function runnerPathOf(server: Server, site: Site): string {
  return (SITE_FILES.find((s) => s.kind === 'runner') as ManagedFileSpec).path(pathContext(server, site, DEBIAN_LAYOUT))
}

export function pathContext(server: Server, site: Site, layout: PathLayout, program?: string): PathContext {
  const base = { domain: site.domain, siteRoot: siteRootOf(server, site), sitesPath: server.sitesPath, layout }
  return program === undefined ? base : { ...base, program, fullName: programFullName(site.domain, program) }
}

function managedFile(
  spec: ManagedFileSpec,
  owner: { server: Server; site: Site; program: string | null; inventoryId: string | undefined; context: PathContext },
  rendered: { content: string; templatePath: string },
): RenderedFile {
  const user = siteUserOf(owner.server, owner.site)
  const account = spec.owner === 'root' ? 'root' : user
  const path = spec.path(owner.context)
  const content = markFile(spec, rendered.content, {
    inventory: owner.inventoryId ?? DEFAULT_INVENTORY_ID,
    site: owner.site.domain,
    ...(owner.program ? { program: owner.program } : {}),
  })
  if (content === null || (spec.marker === 'json' && !isJsonObject(content))) {
    throw new InputError([
      {
        field: rendered.templatePath,
        value: rendered.content.trim().split('\n')[0]?.slice(0, 60) ?? '',
        allowed: "one JSON object ({ ... }): the file carries its zx-supervisor marker as the object's first key",
        hint: 'render the values with {{json value}}, and no text before or after the object',
      },
    ])
  }
  return {
    path,
    readPath: spec.path({ ...owner.context, layout: LAYOUT_PLACEHOLDERS }),
    content,
    owner: account,
    group: account,
    mode: spec.mode,
    kind: spec.kind,
    domain: owner.site.domain,
    program: owner.program,
    updatesGroup: spec.updatesGroup,
    template: rendered.templatePath,
    ...(spec.parents ? { directories: parentDirectories(spec, path, owner.context, account) } : {}),
  }
}

function isJsonObject(content: string): boolean {
  try {
    const value: unknown = JSON.parse(content)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

// supervisor reads every section of every conf: a template that renders another program's section (or a group,
// an eventlistener, an include) would hijack or add programs this inventory does not know.
function assertOneProgramSection(content: string, name: string, template: string): void {
  const sections = [...content.matchAll(/^[ \t]*\[([^\]\n]*)\]/gm)].map((m) => m[1])
  if (sections.length === 1 && sections[0] === `program:${name}`) return
  throw new InputError([
    {
      field: template,
      value: sections.map((s) => `[${s}]`).join(' ') || '(no section)',
      allowed: `exactly one section header, [program:${name}]`,
      hint: 'a program template renders its own program only: use {{iniName fullName}} in the header and drop any other [section]',
    },
  ])
}

function throwIfAny(problems: Problem[]): void {
  if (problems.length > 0) throw new InputError(problems)
}
