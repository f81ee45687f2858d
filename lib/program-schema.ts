// The keys of a supervisor program, declared once. The inventory loader, supervisor-create (its flags, questions and
// replay), the inventory text editor and the renderer all walk PROGRAM_SCHEMA, so adding a supervisor option is one
// entry here plus its line in templates/supervisor/program.conf.hbs. `environment` is the one key outside it: a map
// with its own reader (inventory/validate.ts), flags (--env, --env-from-env) and encoder (the templates' `env`).
import type { FlagSpec } from './cli/flags.ts'
import type { EnvReference, Problem, Program } from './types.ts'
import {
  type Check,
  type CheckResult,
  checkAbsolutePath,
  checkAutorestart,
  checkBoolean,
  checkEnvValue,
  checkNonNegativeInt,
  checkPositiveInt,
  checkProgramEnvKey,
  checkProgramName,
  checkScript,
  checkStopSignal,
  checkTemplateName,
  checkUsername,
  describeEnvReference,
  fail,
  problemsOf,
} from './values.ts'

/** supervisor-create's flag for a key: it is named after the key. */
export type ProgramFlag = Pick<FlagSpec, 'type' | 'description'> & Partial<Pick<FlagSpec, 'placeholder' | 'negatable'>>

export interface ProgramKeySpec<T = unknown> {
  /** The rulebook's checker (lib/values.ts): the loader, the flags, the questions and the renderer all ask it. */
  check: Check<T>
  /** The inventory must give it. */
  required?: true
  /** The value when the inventory leaves the key out; without one the key stays unset: supervisor decides. */
  default?: T
  /** supervisor's own default for an unset key: shown in --help, used by steps that need the effective value. */
  supervisorDefault?: T
  /** supervisor-create's flag; a key without one is written by another task only (supervisor-import's imported_from). */
  flag?: ProgramFlag
  /** A second flag that sets the key to one value (`--autorestart-unexpected`). */
  valueFlag?: ProgramFlag & { name: string; sets: T }
  /** supervisor-create's question on a terminal, offering `default`; without one only the flag sets the key. */
  prompt?: string
  /**
   * The key the option sets in the conf (`stopwaitsecs=`): templates get its value under the inventory key's name, null
   * when unset. Keys whose conf lines the renderer derives (program, script, user, template) have none.
   */
  iniKey?: string
}

// biome-ignore lint/suspicious/noExplicitAny: each entry has its own value type; ProgramKeySpec<T> keeps it per key
export type ProgramSchema = Record<string, ProgramKeySpec<any>>

// In the order supervisor-create writes them: DeployerPHP's (dehydrateSupervisorDTO), then this project's own.
export const PROGRAM_SCHEMA = {
  program: {
    check: checkProgramName,
    required: true,
    flag: {
      type: 'string',
      placeholder: 'NAME',
      description: 'program name, unique per site: letters, digits, _ and -',
    },
    prompt: 'Program name (unique identifier):',
  },
  script: {
    check: checkScript,
    required: true,
    flag: { type: 'string', placeholder: 'FILE', description: 'script under .deployer/supervisors/ of the app' },
  },
  autostart: {
    check: checkBoolean,
    default: true,
    flag: { type: 'boolean', negatable: true, description: 'start when supervisord starts' },
    supervisorDefault: true,
    prompt: 'Start on supervisord start?',
    iniKey: 'autostart',
  },
  autorestart: {
    check: checkAutorestart,
    default: true,
    flag: { type: 'boolean', negatable: true, description: 'restart when it exits' },
    valueFlag: {
      name: 'autorestart-unexpected',
      sets: 'unexpected',
      type: 'boolean',
      description: 'restart only on an unexpected exit code (autorestart: unexpected)',
    },
    supervisorDefault: 'unexpected',
    prompt: 'Restart on exit?',
    iniKey: 'autorestart',
  },
  stopwaitsecs: {
    check: checkPositiveInt,
    default: 3600,
    supervisorDefault: 10,
    flag: { type: 'integer', description: 'seconds to wait for a graceful stop before SIGKILL' },
    prompt: 'Stop wait seconds:',
    iniKey: 'stopwaitsecs',
  },
  numprocs: {
    check: checkPositiveInt,
    default: 1,
    supervisorDefault: 1,
    flag: { type: 'integer', description: 'number of processes' },
    prompt: 'Number of processes:',
    iniKey: 'numprocs',
  },
  startsecs: {
    check: checkNonNegativeInt,
    supervisorDefault: 1,
    flag: { type: 'integer', description: 'seconds a process must stay up to count as started' },
    iniKey: 'startsecs',
  },
  startretries: {
    check: checkNonNegativeInt,
    supervisorDefault: 3,
    flag: { type: 'integer', description: 'start attempts before FATAL' },
    iniKey: 'startretries',
  },
  stopsignal: {
    check: checkStopSignal,
    supervisorDefault: 'TERM',
    flag: { type: 'string', placeholder: 'SIGNAL', description: 'TERM, INT, QUIT, HUP, KILL, USR1 or USR2' },
    iniKey: 'stopsignal',
  },
  priority: {
    check: checkNonNegativeInt,
    supervisorDefault: 999,
    flag: { type: 'integer', description: 'start order, lower first' },
    iniKey: 'priority',
  },
  user: {
    check: checkUsername,
    flag: { type: 'string', placeholder: 'USER', description: 'run as this user instead of the site user' },
  },
  template: {
    check: checkTemplateName,
    flag: {
      type: 'string',
      placeholder: 'NAME',
      description: 'conf template templates/supervisor/NAME.hbs instead of program.conf',
    },
  },
  // supervisor-import: the server file the program came from; the next `supervisor-sync --adopt` removes that file
  // (keeping a copy) when it is not the conf sync writes, so supervisor never runs the program twice.
  imported_from: {
    check: checkAbsolutePath,
  },
} as const satisfies ProgramSchema

/** The program key that is a map of variables, outside the schema. */
export const ENVIRONMENT_KEY = 'environment'

/** Every key a program entry may have, in the order supervisor-create writes them. */
export const PROGRAM_KEYS: readonly string[] = [...Object.keys(PROGRAM_SCHEMA), ENVIRONMENT_KEY]

// A key the rulebook narrows to names (stopsignal) stays text in the model: a Program may come from a pipeline rather
// than the loader, and the renderer checks it again.
type ValueOf<Spec> = Spec extends { check: Check<infer T> } ? ([T] extends [string] ? string : T) : never
type AlwaysSet<Spec> = Spec extends { required: true } ? true : Spec extends { default: unknown } ? true : false

/** A program's values as the schema declares them: required and defaulted keys are always set, the others optional. */
export type ProgramValues<Schema extends ProgramSchema = typeof PROGRAM_SCHEMA> = {
  -readonly [K in keyof Schema as AlwaysSet<Schema[K]> extends true ? K : never]: ValueOf<Schema[K]>
} & {
  -readonly [K in keyof Schema as AlwaysSet<Schema[K]> extends true ? never : K]?: ValueOf<Schema[K]>
}

/** What templates get of the supervisor options (the keys with an `iniKey`): an unset one is null. */
export type ProgramOptionData<Schema extends ProgramSchema = typeof PROGRAM_SCHEMA> = {
  -readonly [K in keyof Schema as Schema[K] extends { iniKey: string } ? K : never]: AlwaysSet<Schema[K]> extends true
    ? ValueOf<Schema[K]>
    : ValueOf<Schema[K]> | null
}

/** The schema's entries in order, typed for code that walks every key. */
export function programKeySpecs(): Array<[string, ProgramKeySpec]> {
  return Object.entries(PROGRAM_SCHEMA)
}

/** The optional keys' entries (not `required`, with a flag): what supervisor-create asks or takes from flags after the names. */
export function programOptionSpecs(): Array<[string, ProgramKeySpec]> {
  return programKeySpecs().filter(([, spec]) => !spec.required && spec.flag)
}

/** The supervisor options' values for templates, by key: unset ones are null. */
export function programOptionData(program: Program): ProgramOptionData {
  const values = program as unknown as Record<string, unknown>
  const options = programKeySpecs().filter(([, spec]) => spec.iniKey !== undefined)
  return Object.fromEntries(options.map(([key]) => [key, values[key] ?? null])) as ProgramOptionData
}

/** Every problem of a program's values, for a Program that may not have come through the loader (the renderer). */
export function programValueProblems(program: Program, path: string): Problem[] {
  const values = program as unknown as Record<string, unknown>
  const results: CheckResult<unknown>[] = []
  for (const [key, spec] of programKeySpecs()) {
    const value = values[key]
    const alwaysSet = spec.required || spec.default !== undefined
    if (value !== undefined || alwaysSet) results.push(spec.check(value, `${path}.${key}`))
  }
  for (const [key, value] of Object.entries(program.environment)) {
    const field = `${path}.${ENVIRONMENT_KEY}.${key}`
    const checked = typeof value === 'string' ? checkEnvValue(value, field) : unresolvedReference(value, field)
    results.push(checkProgramEnvKey(key, field), checked)
  }
  return problemsOf(results)
}

// Rendering writes values, never references: a pipeline of lib/ steps must resolve them first (lib/secrets.ts).
function unresolvedReference(reference: EnvReference, field: string): CheckResult<never> {
  return fail(
    field,
    describeEnvReference(reference),
    'a value resolved on the control machine before rendering',
    'call resolveEnvironmentRefs (lib/secrets.ts) on the sites before rendering them',
  )
}
