import { minimist } from 'zx'
import { InputError } from '../errors.ts'
import type { Problem } from '../types.ts'

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
  /** For integers: the smallest value allowed. */
  min?: number
  /** For integers: the largest value allowed. */
  max?: number
}

// Values are checked against their FlagSpec by parseFlags; tasks read them by name.
// biome-ignore lint/suspicious/noExplicitAny: a task reads its own flags by name; their types come from its FlagSpec list
export type ParsedFlags = { _: string[]; [name: string]: any }

export const DEFAULT_TIMEOUT_SECONDS = 10
export const DEFAULT_PARALLEL = 16
export const MAX_PARALLEL = 256

/** The flags of every task that uploads a release (deploy, your own pipelines): one wording for all of them. */
export const RELEASE_FLAGS: readonly FlagSpec[] = [
  { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: 'the site to deploy' },
  { name: 'app-dir', type: 'string', placeholder: 'PATH', description: 'the built app to upload as the release' },
  {
    name: 'release',
    type: 'string',
    placeholder: 'NAME',
    description: 'release directory name (default: a UTC timestamp)',
  },
]

/** How long a sync waits for another sync's server lock: supervisor-sync and every task that syncs in its steps. */
export const LOCK_WAIT_FLAG: FlagSpec = {
  name: 'lock-wait',
  type: 'integer',
  placeholder: 'SECONDS',
  default: 60,
  description: "wait this long for another sync's server lock",
}

/** A rolling deploy's batches, gate and release pruning (deploy, and a team's pipeline that rolls out the same way). */
// biome-ignore format: one flag per line reads as the help does
export const ROLLOUT_FLAGS: readonly FlagSpec[] = [
  { name: 'batch', type: 'string', placeholder: 'N|N%', default: '1', description: "servers deployed together; N% of the site's servers, rounded up, at least 1" },
  { name: 'canary', type: 'integer', placeholder: 'N', min: 1, description: 'a first batch of N servers before the --batch sized ones' },
  { name: 'max-fail', type: 'string', placeholder: 'N|N%', default: '0', description: "failed servers allowed over the whole rollout (N% of the site's servers, rounded down); past it the rollout stops after the current batch" },
  { name: 'restart', type: 'string', placeholder: 'all|one-by-one|none', default: 'all', description: 'how the programs pick up the release (programs whose conf changed are restarted by the sync either way)' },
  { name: 'wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: 'gate: how long the processes may take to be RUNNING after the restart' },
  { name: 'hold', type: 'integer', placeholder: 'SECONDS', default: 5, min: 0, description: 'gate: how long they must then stay RUNNING with the same pid, on top of their startsecs' },
  { name: 'health-cmd', type: 'string', placeholder: 'CMD', description: 'gate: a command run in the new release as the site user on each server; must exit 0' },
  { name: 'keep', type: 'integer', placeholder: 'N', default: 5, min: 2, description: 'releases kept on each deployed server (the current and the previous one always are)' },
]

export const COMMON_FLAGS = [
  // No literal default: the frame resolves --inventory, then ZXS_INVENTORY, then the project's inventory/inventory.yml.
  {
    name: 'inventory',
    type: 'string',
    placeholder: 'PATH',
    description: 'inventory file (default: $ZXS_INVENTORY, else inventory/inventory.yml of the project)',
  },
  { name: 'yes', alias: 'y', type: 'boolean', description: 'answer yes to confirmations' },
  { name: 'json', type: 'boolean', description: 'print one JSON document on stdout, nothing else there' },
  {
    name: 'verbose',
    alias: 'v',
    type: 'boolean',
    description: 'show remote commands (secrets redacted) and stack traces',
  },
  { name: 'quiet', alias: 'q', type: 'boolean', description: 'print only errors and the recap' },
  {
    name: 'timeout',
    type: 'integer',
    placeholder: 'SECONDS',
    description: 'SSH connect timeout',
    default: DEFAULT_TIMEOUT_SECONDS,
    min: 1,
  },
  // No literal default: the frame resolves --ssh-config, then ZXS_SSH_CONFIG, then the inventory's sshConfig, then ssh's own.
  {
    name: 'ssh-config',
    type: 'string',
    placeholder: 'PATH',
    description:
      "ssh config file for every ssh and rsync call (default: $ZXS_SSH_CONFIG, else the inventory's sshConfig, else ~/.ssh/config)",
  },
  {
    name: 'persist',
    type: 'boolean',
    negatable: true,
    default: true,
    description:
      'keep SSH connections open briefly after a run that ends well, for the next task (--no-persist: close them at exit)',
  },
  {
    name: 'parallel',
    type: 'integer',
    placeholder: 'N',
    description: 'servers worked on at once (their SSH connections are opened in turn)',
    default: DEFAULT_PARALLEL,
    min: 1,
    max: MAX_PARALLEL,
  },
  { name: 'help', alias: 'h', type: 'boolean', description: 'show this help' },
] as const satisfies readonly FlagSpec[]

/** The common flags a task may declare it uses (--help is always there). */
export type CommonFlagName = Exclude<(typeof COMMON_FLAGS)[number]['name'], 'help'>

/** Parses argv strictly: unknown flags, missing values and non-integers are errors naming the flag. */
export function parseFlags(specs: FlagSpec[], args: string[]): { flags: ParsedFlags; given: Set<string> } {
  const problems: Problem[] = []
  const known = new Map<string, FlagSpec>()
  for (const spec of specs) {
    known.set(spec.name, spec)
    if (spec.alias) known.set(spec.alias, spec)
  }
  const raw = minimist(attachNegativeNumbers(specs, args), {
    string: specs.filter((s) => s.type !== 'boolean').map((s) => s.name),
    boolean: specs.filter((s) => s.type === 'boolean').map((s) => s.name),
    alias: Object.fromEntries(specs.filter((s) => s.alias).map((s) => [s.name, s.alias as string])),
    unknown: (arg) => {
      if (!arg.startsWith('-')) return true
      const name = arg.replace(/^--?(no-)?/, '').split('=')[0] ?? ''
      if (!known.has(name))
        problems.push({
          field: arg.split('=')[0] ?? arg,
          value: arg,
          allowed: `one of ${[...new Set(specs.map((s) => `--${s.name}`))].join(', ')}`,
          hint: 'see --help',
        })
      return false
    },
  })
  const flags: ParsedFlags = { _: raw._.map(String) }
  const given = new Set<string>()
  for (const spec of specs) {
    const value: unknown = raw[spec.name]
    const wasGiven = args.some(
      (a) => flagNames(spec).some((n) => a === n || a.startsWith(`${n}=`)) || inShortGroup(spec, a),
    )
    if (wasGiven) given.add(spec.name)
    if (spec.type === 'list') {
      const values = value === undefined ? [] : [value].flat().map(String)
      flags[spec.name] = values
      if (values.includes(''))
        problems.push({
          field: `--${spec.name}`,
          value: '',
          allowed: 'a value',
          hint: `write --${spec.name}=${spec.placeholder ?? 'VALUE'}`,
        })
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
      problems.push({
        field: `--${spec.name}`,
        value: value ?? '',
        allowed: spec.type === 'integer' ? 'an integer' : 'a value',
        hint: `write --${spec.name}=${spec.placeholder ?? 'VALUE'}`,
      })
      continue
    }
    if (spec.type === 'integer') {
      const example = `for example --${spec.name}=${spec.default ?? spec.min ?? 1}`
      const range =
        spec.max === undefined
          ? spec.min === undefined
            ? ''
            : `, at least ${spec.min}`
          : ` from ${spec.min ?? 0} to ${spec.max}`
      if (!/^\d{1,9}$/.test(value))
        problems.push({
          field: `--${spec.name}`,
          value,
          allowed: `a whole number (digits only)${range}`,
          hint: example,
        })
      else if (
        (spec.min !== undefined && Number(value) < spec.min) ||
        (spec.max !== undefined && Number(value) > spec.max)
      )
        problems.push({ field: `--${spec.name}`, value, allowed: `a whole number${range}`, hint: example })
      else flags[spec.name] = Number(value)
      continue
    }
    flags[spec.name] = value
  }
  if (problems.length) throw new InputError(problems)
  return { flags, given }
}

/**
 * `--timeout -5` → `--timeout=-5` (also for value flags like `--max-fail -1`), so a negative number is refused as the
 * flag's value, not read as an unknown flag `-5`.
 */
function attachNegativeNumbers(specs: FlagSpec[], args: string[]): string[] {
  const integerFlags = new Set(specs.filter((s) => s.type === 'integer' || s.type === 'string').flatMap(flagNames))
  const joined: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const next = args[i + 1]
    if (integerFlags.has(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`)
      i++
    } else joined.push(arg)
  }
  return joined
}

/**
 * A task's flags as a plain object (`{ domain: 'a.test', dryRun: true, env: ['A=1'] }`) → the argv that says the same,
 * so `call()` gets exactly the parsing, validation and errors of the command line. camelCase keys name kebab flags.
 */
export function optionsToArgs(specs: FlagSpec[], options: Record<string, unknown>): string[] {
  const names = new Set(specs.map((s) => s.name))
  const args: string[] = []
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue
    const name = names.has(key) ? key : key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)
    if (value === true) args.push(`--${name}`)
    else if (value === false) args.push(`--no-${name}`)
    else for (const item of [value].flat()) args.push(`--${name}=${String(item)}`)
  }
  return args
}

/** `-n5` (a value attached to a one-letter alias) and `-fy` (grouped one-letter booleans), as minimist reads them. */
function inShortGroup(spec: FlagSpec, arg: string): boolean {
  if (spec.alias?.length !== 1 || !/^-[A-Za-z]/.test(arg) || arg.startsWith('--')) return false
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
  /** The exit codes this task can end with (SPEC §4); 3 only for tasks that compare servers with the inventory. */
  exitCodes: ExitCode[]
}

export type ExitCode = 0 | 1 | 2 | 3 | 130

/** SPEC §4's table, one line of --help. A task that contacts servers (it has an SSH --timeout) fails "on a server". */
export function formatExitCodes(codes: ExitCode[], contactsServers: boolean): string {
  const compares = codes.includes(3)
  const meanings: Record<ExitCode, string> = {
    0: compares ? 'every server is as the inventory wants' : 'done',
    1: `failed${contactsServers ? ' on a server' : ''}${compares ? ' (1 beats 3)' : ''}`,
    2: 'bad input or inventory, nothing written or sent',
    3: 'not as the inventory wants (a process not running, drift, a change pending)',
    130: 'interrupted',
  }
  return `Exit codes: ${[...codes]
    .sort((a, b) => a - b)
    .map((code) => `${code} ${meanings[code]}`)
    .join(', ')}.`
}

/** The --help text: usage, every flag with its default, examples. */
export function formatHelp(meta: TaskMeta): string {
  const rows = meta.flags.map((spec) => {
    const names = [
      spec.alias ? (spec.alias.length === 1 ? `-${spec.alias}, ` : `--${spec.alias}, `) : '    ',
      spec.negatable ? `--[no-]${spec.name}` : `--${spec.name}`,
    ].join('')
    const value =
      spec.type === 'boolean'
        ? ''
        : ` ${spec.placeholder ?? (spec.type === 'integer' ? 'N' : 'VALUE')}${spec.type === 'list' ? ' (repeatable)' : ''}`
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
    formatExitCodes(
      meta.exitCodes,
      meta.flags.some((spec) => spec.name === 'timeout'),
    ),
  ].join('\n')
}
