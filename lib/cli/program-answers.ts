import type { EnvValue, Problem, ProgramEntry, Site } from '../types.ts'
import { unusedScripts } from '../app/available-scripts.ts'
import { InputError } from '../errors.ts'
import { checkEnvValue, checkEnvVariableName, checkProgramEnvKey, PROGRAM_RULES, type Check, type CheckOptions } from '../values.ts'
import { fingerprintValue } from '../redact.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import { shellQuote } from '../remote/quote.ts'
import { findProgramConflicts } from '../inventory/validate.ts'
import type { ParsedFlags } from './flags.ts'
import { promptAsk, promptChoice, promptConfirm, type Verdict } from './prompt.ts'
import { asVerdict } from './ask.ts'

// supervisor-create's questions: each answer comes from its flag, else a prompt on a terminal, else the default;
// every answer passes the same check as the inventory, and problems are reported all at once.

export async function collectProgramEntry(site: Site, scripts: string[], flags: ParsedFlags, given: Set<string>, interactive: boolean): Promise<ProgramEntry> {
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
  else if (take(PROGRAM_RULES.script, script, '--script') !== undefined && !scripts.includes(script)) {
    problems.push({ field: '--script', value: script, allowed: `a script in ${where}`, hint: `Supervisor script not found: ${SCRIPTS_DIR}/${script}` })
  }

  let name: unknown = flags.program
  if (name === undefined && interactive) name = await promptAsk('Program name (unique identifier):', (answer) => programNameVerdict(site, answer), script?.replace(/\.[^.\/]+$/, '').replaceAll('/', '-'))
  let program: string | undefined
  if (name === undefined) problems.push({ field: '--program', value: undefined, allowed: 'a name of letters, digits, _ and -', hint: 'pass --program NAME, e.g. --program queue-worker' })
  else program = take(PROGRAM_RULES.program, name, '--program')
  problems.push(...findProgramConflicts(site, { program: program ?? '', script: script ?? '' }, { program: '--program', script: '--script' }))

  const ask = async (flag: string, question: string, fallback: boolean) => (given.has(flag) ? Boolean(flags[flag]) : interactive ? promptConfirm(question, fallback) : fallback)
  const autostart = await ask('autostart', 'Start on supervisord start?', true)
  const autorestart = given.has('autorestart-unexpected') ? take(PROGRAM_RULES.autorestart, 'unexpected', '--autorestart-unexpected') : await ask('autorestart', 'Restart on exit?', true)
  const number = async (flag: 'stopwaitsecs' | 'numprocs', question: string, fallback: number) => {
    if (given.has(flag) || !interactive) return take(PROGRAM_RULES[flag], given.has(flag) ? flags[flag] : fallback, `--${flag}`, { fromFlag: true })
    return promptAsk(question, (answer) => asVerdict(PROGRAM_RULES[flag](answer, `--${flag}`, { fromFlag: true })), String(fallback))
  }
  const stopwaitsecs = await number('stopwaitsecs', 'Stop wait seconds:', 3600)
  const numprocs = await number('numprocs', 'Number of processes:', 1)

  const entry: ProgramEntry = { program: program ?? '', script: script ?? '', autostart, autorestart: autorestart ?? true, stopwaitsecs: stopwaitsecs ?? 3600, numprocs: numprocs ?? 1 }
  for (const key of ['startsecs', 'startretries', 'priority'] as const) {
    if (given.has(key)) entry[key] = take(PROGRAM_RULES[key], flags[key], `--${key}`, { fromFlag: true })
  }
  if (given.has('stopsignal')) entry.stopsignal = take(PROGRAM_RULES.stopsignal, flags.stopsignal, '--stopsignal')
  if (given.has('user')) entry.user = take(PROGRAM_RULES.user, flags.user, '--user')
  if (given.has('template')) entry.template = take(PROGRAM_RULES.template, flags.template, '--template')
  const environment: Record<string, EnvValue> = {}
  const addVariable = (key: string, value: EnvValue, flag: string) => {
    if (key in environment) problems.push({ field: flag, value: key, allowed: 'each variable once across --env and --env-from-env', hint: `${key} is given twice; keep one` })
    else environment[key] = value
  }
  for (const pair of flags.env ?? []) {
    const at = pair.indexOf('=')
    if (at <= 0) {
      // '=x' is a value without its key: shown as a fingerprint, as every environment value.
      problems.push({ field: '--env', value: at === 0 ? fingerprintValue(pair) : pair, allowed: 'KEY=VALUE', hint: 'e.g. --env QUEUE=high (repeat --env for more)' })
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
  return entry
}

/** A typed program name: the inventory's rule, and not yet a program of the site. */
function programNameVerdict(site: Site, answer: string): Verdict<string> {
  const checked = PROGRAM_RULES.program(answer, '--program')
  if (!checked.ok) return asVerdict(checked)
  const taken = findProgramConflicts(site, { program: checked.value, script: '' }, { program: '--program', script: '--script' }).find((p) => p.field === '--program')
  return taken ? { ok: false, allowed: taken.allowed, ...(taken.hint ? { hint: taken.hint } : {}) } : checked
}

/** --script is missing: which scripts it may name (those no program of the site runs yet), or why there is none. */
function missingScript(site: Site, scripts: string[], free: string[]): Problem {
  const allowed = `a script in ${SCRIPTS_DIR}/ that no program of ${site.domain} runs yet`
  if (!scripts.length) return { field: '--script', value: undefined, allowed: `${allowed} (none found)`, hint: 'add scripts to the app (tasks/scaffold-supervisors.mjs writes examples), push them, then re-run' }
  if (!free.length) return { field: '--script', value: undefined, allowed: `${allowed} (none free: ${scripts.join(', ')} already run)`, hint: 'add a script to the app, or delete the program that runs one (tasks/supervisor-delete.mjs)' }
  return { field: '--script', value: undefined, allowed: `${allowed} (${free.join(', ')})`, hint: 'pass --script NAME' }
}

function scriptQuestion(scripts: string[], free: string[]): string {
  const used = scripts.filter((script) => !free.includes(script))
  return used.length ? `Select supervisor script (not offered, already run by a program of this site: ${used.join(', ')}):` : 'Select supervisor script:'
}

/** The non-interactive command that repeats this creation (printed after success, like DeployerPHP's replay). */
export function replayCommand(domain: string, entry: ProgramEntry, inventoryPath: string, appDir?: string): string {
  const q = (v: string | number) => shellQuote(String(v))
  const parts = ['npx zx tasks/supervisor-create.mjs', `--inventory ${q(inventoryPath)}`, `--domain ${q(domain)}`, ...(appDir === undefined ? [] : [`--app-dir ${q(appDir)}`]), `--program ${q(entry.program)}`, `--script ${q(entry.script)}`,
    entry.autostart ? '--autostart' : '--no-autostart',
    entry.autorestart === 'unexpected' ? '--autorestart-unexpected' : entry.autorestart ? '--autorestart' : '--no-autorestart',
    `--stopwaitsecs ${entry.stopwaitsecs}`, `--numprocs ${entry.numprocs}`]
  for (const key of ['startsecs', 'startretries', 'stopsignal', 'priority', 'user', 'template'] as const) if (entry[key] !== undefined) parts.push(`--${key} ${q(entry[key] as string | number)}`)
  for (const [key, value] of Object.entries(entry.environment ?? {})) {
    if (typeof value === 'string') parts.push(`--env ${q(`${key}=${value}`)}`)
    else parts.push(`--env-from-env ${q(value.fromEnv === key ? key : `${key}=${value.fromEnv}`)}`)
  }
  return parts.join(' ')
}
