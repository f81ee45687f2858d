import { minimist } from 'zx'
import type { Problem } from '../types.ts'
import { InputError } from '../errors.ts'

// Flags are declared once per task: the declaration drives parsing, validation, prompts and --help.

export interface FlagSpec {
  name: string
  type: 'string' | 'boolean' | 'integer' | 'list'
  description: string
  alias?: string
  default?: string | boolean | number
  /** For --x / --no-x pairs, documented as `--[no-]x`. */
  negatable?: boolean
  placeholder?: string
}

// Values are checked against their FlagSpec by parseFlags; tasks read them by name.
export type ParsedFlags = { _: string[]; [name: string]: any }

export const COMMON_FLAGS: FlagSpec[] = [
  { name: 'inventory', type: 'string', placeholder: 'PATH', description: 'inventory file (or ZXS_INVENTORY)', default: 'inventory/inventory.yml' },
  { name: 'yes', alias: 'y', type: 'boolean', description: 'answer yes to confirmations' },
  { name: 'json', type: 'boolean', description: 'print one JSON document on stdout, nothing else there' },
  { name: 'verbose', alias: 'v', type: 'boolean', description: 'show remote commands (secrets redacted) and stack traces' },
  { name: 'quiet', alias: 'q', type: 'boolean', description: 'print only errors and the recap' },
  { name: 'timeout', type: 'integer', placeholder: 'SECONDS', description: 'SSH connect timeout', default: 10 },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
]

/** Parses argv strictly: unknown flags, missing values and non-integers are errors naming the flag. */
export function parseFlags(specs: FlagSpec[], args: string[]): { flags: ParsedFlags; given: Set<string> } {
  const problems: Problem[] = []
  const known = new Map<string, FlagSpec>()
  for (const spec of specs) {
    known.set(spec.name, spec)
    if (spec.alias) known.set(spec.alias, spec)
  }
  const raw = minimist(args, {
    string: specs.filter((s) => s.type !== 'boolean').map((s) => s.name),
    boolean: specs.filter((s) => s.type === 'boolean').map((s) => s.name),
    alias: Object.fromEntries(specs.filter((s) => s.alias).map((s) => [s.name, s.alias as string])),
    unknown: (arg) => {
      if (!arg.startsWith('-')) return true
      const name = arg.replace(/^--?(no-)?/, '').split('=')[0] ?? ''
      if (!known.has(name)) problems.push({ field: arg.split('=')[0] ?? arg, value: arg, allowed: `one of ${[...new Set(specs.map((s) => `--${s.name}`))].join(', ')}`, hint: 'see --help' })
      return false
    },
  })
  const flags: ParsedFlags = { _: raw._.map(String) }
  const given = new Set<string>()
  for (const spec of specs) {
    const value: unknown = raw[spec.name]
    const wasGiven = args.some((a) => flagNames(spec).some((n) => a === n || a.startsWith(`${n}=`)) || inShortGroup(spec, a))
    if (wasGiven) given.add(spec.name)
    if (spec.type === 'list') {
      const values = value === undefined ? [] : [value].flat().map(String)
      flags[spec.name] = values
      if (values.includes('')) problems.push({ field: `--${spec.name}`, value: '', allowed: 'a value', hint: `write --${spec.name}=${spec.placeholder ?? 'VALUE'}` })
      continue
    }
    if (Array.isArray(value)) {
      problems.push({ field: `--${spec.name}`, value, allowed: 'one value', hint: `give --${spec.name} once` })
      continue
    }
    if (spec.type === 'boolean') {
      flags[spec.name] = wasGiven ? Boolean(value) : (spec.default as boolean | undefined)
      continue
    }
    if (!wasGiven) {
      flags[spec.name] = spec.default
      continue
    }
    if (typeof value !== 'string' || value === '') {
      problems.push({ field: `--${spec.name}`, value: value ?? '', allowed: spec.type === 'integer' ? 'an integer' : 'a value', hint: `write --${spec.name}=${spec.placeholder ?? 'VALUE'}` })
      continue
    }
    if (spec.type === 'integer') {
      if (!/^\d{1,9}$/.test(value)) problems.push({ field: `--${spec.name}`, value, allowed: 'a whole number (digits only)', hint: `for example --${spec.name}=${spec.default ?? 1}` })
      else flags[spec.name] = Number(value)
      continue
    }
    flags[spec.name] = value
  }
  if (problems.length) throw new InputError(problems)
  return { flags, given }
}

/** `-n5` (a value attached to a one-letter alias) and `-fy` (grouped one-letter booleans), as minimist reads them. */
function inShortGroup(spec: FlagSpec, arg: string): boolean {
  if (!spec.alias || spec.alias.length !== 1 || !/^-[A-Za-z]/.test(arg) || arg.startsWith('--')) return false
  return spec.type === 'boolean' ? /^-[A-Za-z]+$/.test(arg) && arg.includes(spec.alias) : arg[1] === spec.alias
}

function flagNames(spec: FlagSpec): string[] {
  const names = [`--${spec.name}`]
  if (spec.negatable || spec.type === 'boolean') names.push(`--no-${spec.name}`)
  if (spec.alias) names.push(spec.alias.length === 1 ? `-${spec.alias}` : `--${spec.alias}`)
  return names
}

export interface TaskMeta {
  name: string
  summary: string
  flags: FlagSpec[]
  examples: string[]
  usage?: string
  notes?: string[]
}

/** The --help text: usage, every flag with its default, examples. */
export function formatHelp(meta: TaskMeta): string {
  const rows = meta.flags.map((spec) => {
    const names = [spec.alias ? (spec.alias.length === 1 ? `-${spec.alias}, ` : `--${spec.alias}, `) : '    ', spec.negatable ? `--[no-]${spec.name}` : `--${spec.name}`].join('')
    const value = spec.type === 'boolean' ? '' : ` ${spec.placeholder ?? (spec.type === 'integer' ? 'N' : 'VALUE')}${spec.type === 'list' ? ' (repeatable)' : ''}`
    const fallback = spec.default === undefined ? '' : ` (default: ${spec.default})`
    return [`  ${names}${value}`, `${spec.description}${fallback}`] as const
  })
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  return [
    `${meta.name} — ${meta.summary}`,
    '',
    `Usage: npx zx tasks/${meta.name}.mjs ${meta.usage ?? '[flags]'}`,
    '',
    'Flags:',
    ...rows.map(([left, right]) => left.padEnd(width) + right),
    ...(meta.notes?.length ? ['', ...meta.notes] : []),
    '',
    'Examples:',
    ...meta.examples.map((e) => `  ${e}`),
    '',
    'Exit codes: 0 done, 1 failed on a server, 2 bad input or inventory, 130 interrupted.',
  ].join('\n')
}
