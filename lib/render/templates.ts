// Finds and renders the handlebars templates of everything that lands on a server.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Handlebars from 'handlebars'
import { EXIT, InputError, ZxsError } from '../errors.ts'
import { PACKAGE_TEMPLATES_DIR } from '../project.ts'
import { singleQuote } from '../remote/quote.ts'
import { checkDomain, TEMPLATE_NAME_PATTERN } from '../values.ts'
import { assertIniName, encodeEnvironment, encodeIniCommand, encodeIniValue } from './ini.ts'

/** The templates that ship with zx-supervisor. */
export const DEFAULT_TEMPLATES_DIR: string = PACKAGE_TEMPLATES_DIR

/** A template is missing or broken (it names the file): the team's templates need a fix. Exit 2. */
export class TemplateError extends ZxsError {
  override exitCode: number = EXIT.badInput
  templatePath: string
  constructor(message: string, templatePath: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TemplateError'
    this.templatePath = templatePath
  }
}

export interface RenderedTemplate {
  content: string
  /** The file the content came from (the site's override or the shared template). */
  templatePath: string
}

export interface RenderRequest {
  /** Like `supervisor/program.conf`, `supervisor/logrotate`, `runner.sh` (no `.hbs`). */
  name: string
  /** The site whose override (`sites/<domain>/<name>.hbs`) wins when it exists; null for a server-wide file. */
  domain: string | null
  data: object
}

export interface Renderer {
  templatesDir: string
  /** The file that would render `name` for `domain`; throws TemplateError naming both paths when none exists. */
  resolve(name: string, domain: string | null): string
  render(request: RenderRequest): RenderedTemplate
}

/** The paths tried for a template, first found wins: the site's override, the team's template, the package's. */
export function templateCandidates(templatesDir: string, name: string, domain: string | null): string[] {
  assertTemplateName(name)
  // A server-wide file belongs to no site: no site override applies.
  if (domain !== null) assertDomainSegment(domain)
  const candidates = [
    ...(domain === null ? [] : [join(templatesDir, 'sites', domain, `${name}.hbs`)]),
    join(templatesDir, `${name}.hbs`),
  ]
  const packaged = join(PACKAGE_TEMPLATES_DIR, `${name}.hbs`)
  return candidates.includes(packaged) ? candidates : [...candidates, packaged]
}

/** A renderer with its own handlebars environment; compiled templates are cached per file for its lifetime. */
export function createRenderer({ templatesDir }: { templatesDir: string }): Renderer {
  const handlebars = createHandlebars()
  const compiled = new Map<string, Handlebars.TemplateDelegate>()

  function resolve(name: string, domain: string | null): string {
    const candidates = templateCandidates(templatesDir, name, domain)
    const found = candidates.find((path) => existsSync(path))
    if (found === undefined) {
      throw new TemplateError(
        `template "${name}" not found: tried ${candidates.join(', then ')}`,
        candidates.at(-1) ?? name,
      )
    }
    return found
  }

  function compile(templatePath: string): Handlebars.TemplateDelegate {
    let template = compiled.get(templatePath)
    if (template === undefined) {
      template = handlebars.compile(readFileSync(templatePath, 'utf8'), { noEscape: true, strict: true })
      compiled.set(templatePath, template)
    }
    return template
  }

  function render({ name, domain, data }: RenderRequest): RenderedTemplate {
    const templatePath = resolve(name, domain)
    try {
      const content = compile(templatePath)(data, { data: { templatePath } })
      return { content, templatePath }
    } catch (error) {
      // Encoding problems already name the inventory field; anything else is the template's fault.
      if (error instanceof ZxsError) throw error
      const reason = error instanceof Error ? error.message : String(error)
      throw new TemplateError(`${templatePath}: ${reason}`, templatePath, { cause: error })
    }
  }

  return { templatesDir, resolve, render }
}

/** Renders one template once; use createRenderer() to render many with one cache. */
export function renderTemplate({
  templatesDir,
  ...request
}: RenderRequest & { templatesDir: string }): RenderedTemplate {
  return createRenderer({ templatesDir }).render(request)
}

type Scalar = string | number | boolean

function createHandlebars(): typeof Handlebars {
  // The package's bundle carries handlebars in one file (its own many files took 40-100 ms to load).
  const handlebars = Handlebars.create()
  // Helper params are not checked by strict mode (handlebars.js #1063), so each helper checks its own.
  handlebars.registerHelper('ini', (...args: unknown[]) => {
    const [value, options] = helperArgs('ini', args, 1)
    return encodeIniValue(String(scalar('ini', value, options)), templateField(options))
  })
  handlebars.registerHelper('iniName', (...args: unknown[]) => {
    const [value, options] = helperArgs('iniName', args, 1)
    return assertIniName(String(scalar('iniName', value, options)), templateField(options))
  })
  handlebars.registerHelper('cmd', (...args: unknown[]) => {
    const options = args.pop() as Handlebars.HelperOptions
    if (args.length === 0) throw helperError('cmd', options, 'needs at least one argument')
    const words = args.map((arg) => String(scalar('cmd', arg, options)))
    return encodeIniCommand(words, templateField(options))
  })
  handlebars.registerHelper('env', (...args: unknown[]) => {
    const [pairs, options] = helperArgs('env', args, 1)
    return encodeEnvironment(envPairs(pairs, options), templateField(options))
  })
  handlebars.registerHelper('sh', (...args: unknown[]) => {
    const [value, options] = helperArgs('sh', args, 1)
    return singleQuote(String(scalar('sh', value, options)))
  })
  // JSON files (contract entries with marker 'json'): a value as a JSON literal, quotes and escapes included.
  handlebars.registerHelper('json', (...args: unknown[]) => {
    const [value, options] = helperArgs('json', args, 1, { allowNull: true })
    return JSON.stringify(value === null ? null : scalar('json', value, options))
  })
  // For optional keys: null means "not set"; undefined means a misspelt name, which must not pass silently.
  handlebars.registerHelper('isSet', (...args: unknown[]) => {
    const [value] = helperArgs('isSet', args, 1, { allowNull: true })
    return value !== null
  })
  return handlebars
}

function helperArgs(
  helper: string,
  args: unknown[],
  count: number,
  { allowNull = false } = {},
): [unknown, Handlebars.HelperOptions] {
  const options = args.pop() as Handlebars.HelperOptions
  if (args.length !== count) throw helperError(helper, options, `takes ${count} argument(s), got ${args.length}`)
  const value = args[0]
  if (value === undefined || (value === null && !allowNull)) {
    throw helperError(helper, options, `got ${String(value)}: a misspelt or missing value`)
  }
  return [value, options]
}

function scalar(helper: string, value: unknown, options: Handlebars.HelperOptions): Scalar {
  if (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  ) {
    return value
  }
  throw helperError(
    helper,
    options,
    `got ${value === null ? 'null' : typeof value}; it takes a string, number or boolean`,
  )
}

function envPairs(value: unknown, options: Handlebars.HelperOptions): [string, string][] {
  const isPair = (item: unknown): item is [string, string] =>
    Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string'
  if (Array.isArray(value) && value.every(isPair)) return value
  throw helperError('env', options, 'takes a list of [key, value] string pairs')
}

function helperError(helper: string, options: Handlebars.HelperOptions, message: string): TemplateError {
  const templatePath = templatePathOf(options)
  return new TemplateError(`${templatePath}:${lineOf(options)}: {{${helper}}} ${message}`, templatePath)
}

// Field for encoding problems of values that come from a template rather than a known inventory key.
function templateField(options: Handlebars.HelperOptions): string {
  return `${templatePathOf(options)}:${lineOf(options)}`
}

function templatePathOf(options: Handlebars.HelperOptions): string {
  const path: unknown = options.data?.templatePath
  return typeof path === 'string' ? path : 'template'
}

function lineOf(options: Handlebars.HelperOptions): string {
  const loc = (options as { loc?: { start?: { line?: number } } }).loc
  return String(loc?.start?.line ?? '?')
}

function assertTemplateName(name: string): void {
  if (TEMPLATE_NAME_PATTERN.test(name)) return
  throw new InputError([
    {
      field: 'template',
      value: name,
      allowed: 'a relative template name like supervisor/program.conf ([A-Za-z0-9._-] segments, no "..")',
      hint: 'templates are looked up under the templates directory only',
    },
  ])
}

// Domains name a folder under templates/sites/: the rulebook's domain rule keeps that one safe path segment.
function assertDomainSegment(domain: string): void {
  const result = checkDomain(domain, 'domain')
  if (!result.ok) throw new InputError([result.problem])
}
