import type { Problem, Program, Site } from '../types.ts'
import { InputError } from '../errors.ts'
import { checkAutorestart, checkEnvKey, checkEnvValue, checkPositiveInt, checkProgramName, checkStopSignal, checkTemplateName, checkUsername, type Check, type CheckOptions } from '../values.ts'
import { findProgramConflicts } from '../inventory/validate.ts'
import type { ParsedFlags } from './flags.ts'
import { promptChoice, promptConfirm, promptText } from './prompt.ts'

// supervisor-create's questions: each answer comes from its flag, else a prompt on a terminal, else the default;
// every answer passes the same check as the inventory, and problems are reported all at once.

/** A program as the inventory stores it: environment only when given. */
export type ProgramEntry = Omit<Program, 'environment'> & { environment?: Record<string, string> }

export async function collectProgramEntry(site: Site, scripts: string[], flags: ParsedFlags, given: Set<string>, interactive: boolean): Promise<ProgramEntry> {
  const problems: Problem[] = []
  const take = <T>(check: Check<T>, value: unknown, field: string, options?: CheckOptions): T | undefined => {
    const result = check(value, field, options)
    if (result.ok) return result.value
    problems.push(result.problem)
    return undefined
  }
  const where = `.deployer/supervisors/ (${scripts.length ? scripts.join(', ') : 'none found; run tasks/scaffold-supervisors.mjs'})`

  let script: string | undefined = flags.script
  if (script === undefined && interactive && scripts.length) script = await promptChoice('Select supervisor script:', scripts)
  if (script === undefined) problems.push({ field: '--script', value: undefined, allowed: `a script in ${where}`, hint: 'pass --script NAME' })
  else if (!scripts.includes(script)) problems.push({ field: '--script', value: script, allowed: `a script in ${where}`, hint: `Supervisor script not found: .deployer/supervisors/${script}` })

  let name: unknown = flags.program
  if (name === undefined && interactive) name = await promptText('Program name (unique identifier):', script?.replace(/\.[^.\/]+$/, '').replaceAll('/', '-'))
  let program: string | undefined
  if (name === undefined) problems.push({ field: '--program', value: undefined, allowed: 'a name of letters, digits, _ and -', hint: 'pass --program NAME, e.g. --program queue-worker' })
  else program = take(checkProgramName, name, '--program')
  problems.push(...findProgramConflicts(site, { program: program ?? '', script: script ?? '' }, { program: '--program', script: '--script' }))

  const ask = async (flag: string, question: string, fallback: boolean) => (given.has(flag) ? Boolean(flags[flag]) : interactive ? promptConfirm(question, fallback) : fallback)
  const autostart = await ask('autostart', 'Start on supervisord start?', true)
  const autorestart = given.has('autorestart-unexpected') ? take(checkAutorestart, 'unexpected', '--autorestart-unexpected') : await ask('autorestart', 'Restart on exit?', true)
  const number = async (flag: string, question: string, fallback: number) => take(checkPositiveInt, given.has(flag) ? flags[flag] : interactive ? await promptText(question, String(fallback)) : fallback, `--${flag}`, { fromFlag: true })
  const stopwaitsecs = await number('stopwaitsecs', 'Stop wait seconds:', 3600)
  const numprocs = await number('numprocs', 'Number of processes:', 1)

  const entry: ProgramEntry = { program: program ?? '', script: script ?? '', autostart, autorestart: autorestart ?? true, stopwaitsecs: stopwaitsecs ?? 3600, numprocs: numprocs ?? 1 }
  for (const key of ['startsecs', 'startretries', 'priority'] as const) {
    if (given.has(key)) entry[key] = flags[key]
  }
  if (given.has('stopsignal')) entry.stopsignal = take(checkStopSignal, flags.stopsignal, '--stopsignal')
  if (given.has('user')) entry.user = take(checkUsername, flags.user, '--user')
  if (given.has('template')) entry.template = take(checkTemplateName, flags.template, '--template')
  const environment: Record<string, string> = {}
  for (const pair of flags.env ?? []) {
    const at = pair.indexOf('=')
    if (at <= 0) {
      problems.push({ field: '--env', value: pair, allowed: 'KEY=VALUE', hint: 'e.g. --env QUEUE=high (repeat --env for more)' })
      continue
    }
    const key = take(checkEnvKey, pair.slice(0, at), '--env')
    const value = take(checkEnvValue, pair.slice(at + 1), `--env ${pair.slice(0, at)}`)
    if (key !== undefined && value !== undefined) environment[key] = value
  }
  if (Object.keys(environment).length) entry.environment = environment
  if (problems.length) throw new InputError(problems)
  return entry
}

/** The non-interactive command that repeats this creation (printed after success, like DeployerPHP's replay). */
export function replayCommand(domain: string, entry: ProgramEntry, inventoryPath: string): string {
  const q = (v: string | number) => (/^[A-Za-z0-9_.\/:=@%+-]+$/.test(String(v)) ? String(v) : `'${String(v).replaceAll("'", `'\\''`)}'`)
  const parts = ['npx zx tasks/supervisor-create.mjs', `--inventory ${q(inventoryPath)}`, `--domain ${q(domain)}`, `--program ${q(entry.program)}`, `--script ${q(entry.script)}`,
    entry.autostart ? '--autostart' : '--no-autostart',
    entry.autorestart === 'unexpected' ? '--autorestart-unexpected' : entry.autorestart ? '--autorestart' : '--no-autorestart',
    `--stopwaitsecs ${entry.stopwaitsecs}`, `--numprocs ${entry.numprocs}`]
  for (const key of ['startsecs', 'startretries', 'stopsignal', 'priority', 'user', 'template'] as const) if (entry[key] !== undefined) parts.push(`--${key} ${q(entry[key] as string | number)}`)
  for (const [key, value] of Object.entries(entry.environment ?? {})) parts.push(`--env ${q(`${key}=${value}`)}`)
  return parts.join(' ')
}
