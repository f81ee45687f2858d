import { unusedScripts } from '../app/available-scripts.ts'
import { InputError } from '../errors.ts'
import { findProgramConflicts } from '../inventory/validate.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import { PROGRAM_SCHEMA, type ProgramKeySpec, programKeySpecs, programOptionSpecs } from '../program-schema.ts'
import { fingerprintValue } from '../redact.ts'
import { shellQuote } from '../remote/quote.ts'
import type { EnvValue, Problem, ProgramEntry, Site } from '../types.ts'
import { type Check, type CheckOptions, checkEnvValue, checkEnvVariableName, checkProgramEnvKey } from '../values.ts'
import { asVerdict } from './ask.ts'
import type { FlagSpec, ParsedFlags } from './flags.ts'
import { promptAsk, promptChoice, promptConfirm, type Verdict } from './prompt.ts'

// supervisor-create's questions: each answer comes from its flag, else a prompt on a terminal, else the default;
// every answer passes the same check as the inventory, and problems are reported all at once. Flags, questions,
// defaults and the replay come from the program schema (lib/program-schema.ts).

/** supervisor-create's flags for the program's keys, in the schema's order, each named after its key. */
export function programFlags(): FlagSpec[] {
  return programKeySpecs().flatMap(([key, spec]) => {
    const { valueFlag } = spec
    if (!spec.flag) return []
    const help = spec.supervisorDefault === undefined ? '' : ` (supervisor: ${String(spec.supervisorDefault)})`
    const flag: FlagSpec = { name: key, ...spec.flag, description: `${spec.flag.description}${help}` }
    if (spec.default !== undefined) flag.default = spec.default as FlagSpec['default']
    if (!valueFlag) return [flag]
    const { sets: _sets, ...second } = valueFlag
    return [flag, second]
  })
}

export async function collectProgramEntry(
  site: Site,
  scripts: string[],
  flags: ParsedFlags,
  given: Set<string>,
  interactive: boolean,
): Promise<ProgramEntry> {
  const problems: Problem[] = []
  const take = <T>(check: Check<T>, value: unknown, field: string, options?: CheckOptions): T | undefined => {
    const result = check(value, field, options)
    if (result.ok) return result.value
    problems.push(result.problem)
    return undefined
  }
  const where = `${SCRIPTS_DIR}/ (${scripts.length ? scripts.join(', ') : 'none found; run tasks/scaffold-supervisors.mjs'})`
  const free = unusedScripts(site, scripts)

  let script: string | undefined = flags.script
  if (script === undefined && interactive) {
    // Nothing to pick from: say so now, not after the other questions.
    if (!free.length) throw new InputError([missingScript(site, scripts, free)])
    script = await promptChoice(scriptQuestion(scripts, free), free)
  }
  if (script === undefined) problems.push(missingScript(site, scripts, free))
  else if (take(PROGRAM_SCHEMA.script.check, script, '--script') !== undefined && !scripts.includes(script)) {
    problems.push({
      field: '--script',
      value: script,
      allowed: `a script in ${where}`,
      hint: `Supervisor script not found: ${SCRIPTS_DIR}/${script}`,
    })
  }

  let name: unknown = flags.program
  if (name === undefined && interactive) {
    const suggested = script?.replace(/\.[^./]+$/, '').replaceAll('/', '-')
    name = await promptAsk(PROGRAM_SCHEMA.program.prompt, (answer) => programNameVerdict(site, answer), suggested)
  }
  let program: string | undefined
  if (name === undefined)
    problems.push({
      field: '--program',
      value: undefined,
      allowed: 'a name of letters, digits, _ and -',
      hint: 'pass --program NAME, e.g. --program queue-worker',
    })
  else program = take(PROGRAM_SCHEMA.program.check, name, '--program')
  problems.push(
    ...findProgramConflicts(
      site,
      { program: program ?? '', script: script ?? '' },
      { program: '--program', script: '--script' },
    ),
  )

  const answer = async (key: string, spec: ProgramKeySpec): Promise<unknown> => {
    const { valueFlag } = spec
    if (valueFlag && given.has(valueFlag.name)) return take(spec.check, valueFlag.sets, `--${valueFlag.name}`)
    if (given.has(key)) return take(spec.check, flags[key], `--${key}`, { fromFlag: true })
    if (spec.default === undefined) return undefined
    if (!interactive || spec.prompt === undefined) return spec.default
    if (typeof spec.default === 'boolean') return promptConfirm(spec.prompt, spec.default)
    const verdict = (typed: string) => asVerdict(spec.check(typed, `--${key}`, { fromFlag: true }))
    return promptAsk(spec.prompt, verdict, String(spec.default))
  }
  const entry: Record<string, unknown> = { program: program ?? '', script: script ?? '' }
  for (const [key, spec] of programOptionSpecs()) {
    const value = (await answer(key, spec)) ?? spec.default
    if (value !== undefined) entry[key] = value
  }
  const environment: Record<string, EnvValue> = {}
  const addVariable = (key: string, value: EnvValue, flag: string) => {
    if (key in environment)
      problems.push({
        field: flag,
        value: key,
        allowed: 'each variable once across --env and --env-from-env',
        hint: `${key} is given twice; keep one`,
      })
    else environment[key] = value
  }
  for (const pair of flags.env ?? []) {
    const at = pair.indexOf('=')
    if (at <= 0) {
      // '=x' is a value without its key: shown as a fingerprint, as every environment value.
      problems.push({
        field: '--env',
        value: at === 0 ? fingerprintValue(pair) : pair,
        allowed: 'KEY=VALUE',
        hint: 'e.g. --env QUEUE=high (repeat --env for more)',
      })
      continue
    }
    const key = take(checkProgramEnvKey, pair.slice(0, at), '--env')
    const value = take(checkEnvValue, pair.slice(at + 1), `--env ${pair.slice(0, at)}`)
    if (key !== undefined && value !== undefined) addVariable(key, value, '--env')
  }
  // KEY=VAR, or KEY alone when the variable has the program's name for it.
  for (const pair of flags['env-from-env'] ?? []) {
    const [name = '', variableName = name] = pair.split(/=(.*)/s)
    const key = take(checkProgramEnvKey, name, '--env-from-env')
    const variable = take(checkEnvVariableName, variableName, `--env-from-env ${name}`, { fromFlag: true })
    if (key !== undefined && variable !== undefined) addVariable(key, { fromEnv: variable }, '--env-from-env')
  }
  if (Object.keys(environment).length) entry.environment = environment
  if (problems.length) throw new InputError(problems)
  return entry as ProgramEntry
}

/** A typed program name: the inventory's rule, and not yet a program of the site. */
function programNameVerdict(site: Site, answer: string): Verdict<string> {
  const checked = PROGRAM_SCHEMA.program.check(answer, '--program')
  if (!checked.ok) return asVerdict(checked)
  const taken = findProgramConflicts(
    site,
    { program: checked.value, script: '' },
    { program: '--program', script: '--script' },
  ).find((p) => p.field === '--program')
  return taken ? { ok: false, allowed: taken.allowed, ...(taken.hint ? { hint: taken.hint } : {}) } : checked
}

/** --script is missing: which scripts it may name (those no program of the site runs yet), or why there is none. */
function missingScript(site: Site, scripts: string[], free: string[]): Problem {
  const allowed = `a script in ${SCRIPTS_DIR}/ that no program of ${site.domain} runs yet`
  if (!scripts.length)
    return {
      field: '--script',
      value: undefined,
      allowed: `${allowed} (none found)`,
      hint: 'add scripts to the app (tasks/scaffold-supervisors.mjs writes examples), push them, then re-run',
    }
  if (!free.length)
    return {
      field: '--script',
      value: undefined,
      allowed: `${allowed} (none free: ${scripts.join(', ')} already run)`,
      hint: 'add a script to the app, or delete the program that runs one (tasks/supervisor-delete.mjs)',
    }
  return { field: '--script', value: undefined, allowed: `${allowed} (${free.join(', ')})`, hint: 'pass --script NAME' }
}

function scriptQuestion(scripts: string[], free: string[]): string {
  const used = scripts.filter((script) => !free.includes(script))
  return used.length
    ? `Select supervisor script (not offered, already run by a program of this site: ${used.join(', ')}):`
    : 'Select supervisor script:'
}

/** The non-interactive command that repeats this creation (printed after success, like DeployerPHP's replay). */
export function replayCommand(domain: string, entry: ProgramEntry, inventoryPath: string, appDir?: string): string {
  const q = (v: string | number) => shellQuote(String(v))
  const parts = [
    'npx zx tasks/supervisor-create.mjs',
    `--inventory ${q(inventoryPath)}`,
    `--domain ${q(domain)}`,
    ...(appDir === undefined ? [] : [`--app-dir ${q(appDir)}`]),
    `--program ${q(entry.program)}`,
    `--script ${q(entry.script)}`,
  ]
  const values = entry as Record<string, unknown>
  for (const [key, spec] of programOptionSpecs()) {
    const value = values[key]
    if (value === undefined) continue
    if (spec.valueFlag && value === spec.valueFlag.sets) parts.push(`--${spec.valueFlag.name}`)
    else if (typeof value === 'boolean') parts.push(value ? `--${key}` : `--no-${key}`)
    else parts.push(`--${key} ${q(value as string | number)}`)
  }
  for (const [key, value] of Object.entries(entry.environment ?? {})) {
    if (typeof value === 'string') parts.push(`--env ${q(`${key}=${value}`)}`)
    else parts.push(`--env-from-env ${q(value.fromEnv === key ? key : `${key}=${value.fromEnv}`)}`)
  }
  return parts.join(' ')
}
