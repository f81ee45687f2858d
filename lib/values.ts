// What a valid value is, in one place: the inventory loader, task flags, the renderer and the INI encoders all ask
// these checkers, so a value gets the same verdict wherever it comes in.
import { isIPv4, isIPv6 } from 'node:net'
import { InputError } from './errors.ts'
import { SCRIPTS_DIR } from './layout.ts'
import { fingerprintValue } from './redact.ts'
import type { AutoRestart, EnvReference, EnvValue, Problem, Server, Site } from './types.ts'

export type CheckResult<T> = { ok: true; value: T } | { ok: false; problem: Problem }

export interface CheckOptions {
  /** The value comes from a command-line flag: digit strings count as integers, boolean words as booleans. */
  fromFlag?: boolean
}

export type Check<T> = (value: unknown, field: string, options?: CheckOptions) => CheckResult<T>

export const NAME_PATTERN = /^[a-zA-Z0-9_-]+$/
export const NAME_MAX = 64
export const USERNAME_PATTERN = /^[a-z_][a-z0-9_-]*$/
export const USERNAME_MAX = 32
export const DOMAIN_LABEL_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/
export const DOMAIN_MAX = 253
export const LABEL_MAX = 63
// Host labels also allow '_' because ~/.ssh/config aliases often use it.
export const HOST_LABEL_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/
export const SCRIPT_SEGMENT_PATTERN = /^[A-Za-z0-9._-]+$/
export const SCRIPT_MAX = 255
export const PORT_MIN = 1
export const PORT_MAX = 65535
export const STOP_SIGNALS = ['TERM', 'HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2'] as const
export type StopSignal = (typeof STOP_SIGNALS)[number]
export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/
export const ENV_VALUE_MAX = 8192
/** Set by the tool itself in every program's environment: HOME and USER follow the program's `user:`. */
export const RESERVED_ENV_KEYS = ['HOME', 'USER'] as const
export const RESERVED_ENV_PREFIX = 'DEPLOYER_'
export const ABSOLUTE_PATH_PATTERN = /^\/[A-Za-z0-9._/-]+$/
export const ABSOLUTE_PATH_MAX = 1024
export const FILE_PATH_MAX = 4096
export const PHP_VERSION_PATTERN = /^\d+\.\d+$/
/** A template under templates/ (`supervisor/program.conf`): no segment starts with '.', so none leaves the folder. */
export const TEMPLATE_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/
export const BRANCH_MAX = 255
export const REPO_MAX = 1024
export const CONNECTIONS = ['ssh', 'local'] as const
export type ConnectionKind = (typeof CONNECTIONS)[number]

// C0/C1 controls, DEL and the Unicode line/paragraph separators: each can end a line somewhere.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const NOT_CONTROL_CHAR = /[^\u0000-\u001f\u007f-\u009f\u2028\u2029]/
// Python's str.isspace() decides what counts as whitespace before an inline comment; \s covers it.
const INLINE_COMMENT = /\s[;#]/u
const EDGE_WHITESPACE = /^\s|\s$/u
const HERE_EXPANSION = '%(here)s'
export const INI_NAME_PATTERN = /^[A-Za-z0-9._-]+$/
const FLAG_TRUE = ['true', 'yes', 'on', '1']
const FLAG_FALSE = ['false', 'no', 'off', '0']

export function pass<T>(value: T): CheckResult<T> {
  return { ok: true, value }
}

export function fail(field: string, value: unknown, allowed: string, hint?: string): CheckResult<never> {
  return { ok: false, problem: hint ? { field, value, allowed, hint } : { field, value, allowed } }
}

/** The value a rule accepts, or an InputError with its problem (exit 2): for a single flag or step input. */
export function requireValid<T>(check: Check<T>, value: unknown, field: string, options?: CheckOptions): T {
  const checked = check(value, field, options)
  if (!checked.ok) throw new InputError([checked.problem])
  return checked.value
}

/** "a list", "a map", "a number"… for messages about a value of the wrong YAML type. */
export function describeType(value: unknown): string {
  if (value === null) return 'an empty value (null)'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'boolean') return 'true/false'
  return `a ${typeof value}`
}

/** Why a value that is not a string was refused, with the fix for the usual YAML slip. */
function notAString(field: string, value: unknown, allowed: string, options?: CheckOptions): CheckResult<never> {
  if (value === undefined) return fail(field, value, allowed, 'this value is required')
  if (value === null) return fail(field, value, allowed, 'the value is empty; write a value or remove the key')
  if (typeof value === 'number' || typeof value === 'boolean') {
    const hint = options?.fromFlag
      ? 'the flag parser read it as a number/boolean; declare the flag as a string'
      : `write it in quotes so YAML keeps it as text: '${String(value)}'`
    return fail(field, value, allowed, hint)
  }
  return fail(field, value, allowed, `expected one value, got ${describeType(value)}`)
}

/** Names the first character of `text` that `allowedChar` refuses, so the user sees what to remove. */
export function describeBadChar(text: string, allowedChar: RegExp): string | undefined {
  for (const [index, char] of [...text].entries()) {
    if (allowedChar.test(char)) continue
    return `${nameChar(char)} at position ${index + 1} is not allowed`
  }
  return undefined
}

function nameChar(char: string): string {
  const named: Record<string, string> = {
    '\n': 'the newline',
    '\r': 'the carriage return',
    '\t': 'the tab',
    '\0': 'the NUL byte',
    ' ': 'the space',
  }
  const code = char.codePointAt(0) ?? 0
  const unicode = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  if (named[char]) return named[char]
  if (CONTROL_CHARS.test(char)) return `the control character ${unicode}`
  if (code > 0x7e) return `the non-ASCII character '${char}' (${unicode}; look-alikes of Latin letters are refused)`
  return `'${char}'`
}

function hasControlChar(text: string): boolean {
  return CONTROL_CHARS.test(text)
}

/** A string of allowed characters within a length limit: the shape of every name. */
function checkPatternString(
  value: unknown,
  field: string,
  options: CheckOptions | undefined,
  rule: { pattern: RegExp; char: RegExp; max: number; allowed: string; shapeHint?: string },
): CheckResult<string> {
  if (typeof value !== 'string') return notAString(field, value, rule.allowed, options)
  if (value === '') return fail(field, value, rule.allowed, 'the value is empty')
  if (value.length > rule.max) return fail(field, value, rule.allowed, `it is ${value.length} characters long`)
  if (!rule.pattern.test(value)) {
    return fail(
      field,
      value,
      rule.allowed,
      describeBadChar(value, rule.char) ?? rule.shapeHint ?? 'see what is allowed',
    )
  }
  return pass(value)
}

const NAME_ALLOWED = `letters, digits, '_' and '-', not starting with '-' (${NAME_MAX} characters at most)`

// A leading '-' would make `--server -x` / `--program -x` read as a flag.
function checkName(
  value: unknown,
  field: string,
  options: CheckOptions | undefined,
  allowed: string,
): CheckResult<string> {
  const result = checkPatternString(value, field, options, {
    pattern: NAME_PATTERN,
    char: /[a-zA-Z0-9_-]/,
    max: NAME_MAX,
    allowed,
  })
  if (result.ok && result.value.startsWith('-')) return fail(field, value, allowed, 'it must not start with "-"')
  return result
}

export const checkServerName: Check<string> = (value, field, options) => checkName(value, field, options, NAME_ALLOWED)

/** A server group (`groups: [web]`): same rules as a server name. */
export const checkGroupName: Check<string> = checkServerName

export const RELEASE_NAME_PATTERN = /^[A-Za-z0-9._-]+$/
export const RELEASE_NAME_MAX = 255

/** A release: one directory under <site root>/releases/, named in remote paths (a leading '.' would hide it). */
export const checkReleaseName: Check<string> = (value, field, options) => {
  const allowed = `letters, digits, '.', '_' and '-', not starting with '.' (${RELEASE_NAME_MAX} characters at most)`
  const rule = { pattern: RELEASE_NAME_PATTERN, char: /[A-Za-z0-9._-]/, max: RELEASE_NAME_MAX, allowed }
  const result = checkPatternString(value, field, options, rule)
  const hidden = result.ok && result.value.startsWith('.')
  const refused = hidden ? fail(field, value, allowed, "it must not start with '.'") : result
  if (refused.ok || !options?.fromFlag) return refused
  const hint = refused.problem.hint ?? 'see what is allowed'
  return fail(field, value, allowed, `${hint}; or leave the flag out for a UTC timestamp`)
}

/** A shell command run by `sh -c` on a server (a health command): one line, so it cannot smuggle a second one. */
export const checkCommandLine: Check<string> = (value, field, options) => {
  const allowed = 'a shell command on one line'
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value.trim() === '') return fail(field, value, allowed, 'the value is empty')
  const hint = 'join the lines with && or ;, or put them in a script in the release'
  if (/[\r\n\0]/.test(value)) return fail(field, value, allowed, hint)
  return pass(value)
}

export const checkProgramName: Check<string> = (value, field, options) => {
  const result = checkName(value, field, options, `${NAME_ALLOWED}, not "all"`)
  if (result.ok && result.value.toLowerCase() === 'all') {
    return fail(field, value, `${NAME_ALLOWED}, not "all"`, '"all" is a reserved word of supervisorctl')
  }
  return result
}

export const checkUsername: Check<string> = (value, field, options) => {
  const allowed = `a Linux user name: lowercase letters, digits, '_' and '-', starting with a letter or '_' (${USERNAME_MAX} characters at most)`
  const result = checkPatternString(value, field, options, {
    pattern: USERNAME_PATTERN,
    char: /[a-z0-9_-]/,
    max: USERNAME_MAX,
    allowed,
  })
  if (result.ok || typeof value !== 'string' || value === '') return result
  if (/^[0-9-]/.test(value)) return fail(field, value, allowed, 'it must not start with a digit or "-"')
  if (value !== value.toLowerCase() && USERNAME_PATTERN.test(value.toLowerCase())) {
    return fail(field, value, allowed, `use lowercase: '${value.toLowerCase()}'`)
  }
  return result
}

export const checkDomain: Check<string> = (value, field, options) => {
  const allowed = `a lowercase domain name: labels of a-z, 0-9 and '-' separated by dots, ${DOMAIN_MAX} characters at most, not "all"`
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value === '') return fail(field, value, allowed, 'the value is empty')
  if (value.length > DOMAIN_MAX) return fail(field, value, allowed, `it is ${value.length} characters long`)
  if (/^[a-z]+:\/\//i.test(value) || value.includes('/')) {
    return fail(field, value, allowed, 'write the bare domain, without scheme or path (example.com)')
  }
  if (value === 'all') return fail(field, value, allowed, '"all" is a reserved word of supervisorctl')
  const badChar = describeBadChar(value, /[a-z0-9.-]/)
  if (badChar) {
    const lower = value.toLowerCase()
    const hint =
      lower !== value && describeBadChar(lower, /[a-z0-9.-]/) === undefined ? `use lowercase: '${lower}'` : badChar
    return fail(field, value, allowed, hint)
  }
  if (value.startsWith('.') || value.endsWith('.'))
    return fail(field, value, allowed, 'remove the leading/trailing dot')
  const labelHint = labelProblem(value, DOMAIN_LABEL_PATTERN, 'it has an empty label ("..")')
  return labelHint ? fail(field, value, allowed, labelHint) : pass(value)
}

export const checkHost: Check<string> = (value, field, options) => {
  const allowed = 'an IPv4/IPv6 address, a hostname, an alias from ~/.ssh/config, or "local"'
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value === '') return fail(field, value, allowed, 'the value is empty')
  if (value.length > DOMAIN_MAX) return fail(field, value, allowed, `it is ${value.length} characters long`)
  if (value === 'local' || isIPv4(value) || isIPv6(value)) return pass(value)
  if (/^\[.*\]$/.test(value)) return fail(field, value, allowed, 'write the IPv6 address without brackets')
  if (value.includes('@')) return fail(field, value, allowed, 'put the login user in `username:`, not in host')
  if (/^[^:]+:\d+$/.test(value)) return fail(field, value, allowed, 'put the port in `port:`, not in host')
  if (/^[0-9.]+$/.test(value)) return fail(field, value, allowed, 'it is not a valid IPv4 address')
  if (value.startsWith('-')) return fail(field, value, allowed, 'it must not start with "-"')
  const badChar = describeBadChar(value, /[A-Za-z0-9._-]/)
  if (badChar) return fail(field, value, allowed, badChar)
  const labelHint = labelProblem(value, HOST_LABEL_PATTERN, 'it has an empty label (leading, trailing or double dot)')
  return labelHint ? fail(field, value, allowed, labelHint) : pass(value)
}

/** What is wrong with the first bad dot-separated label of a domain or host name, if any. */
function labelProblem(value: string, labelPattern: RegExp, emptyHint: string): string | undefined {
  for (const label of value.split('.')) {
    if (label === '') return emptyHint
    if (label.length > LABEL_MAX) return `the label '${label}' is longer than ${LABEL_MAX}`
    if (!labelPattern.test(label)) return `the label '${label}' starts or ends with '-'`
  }
  return undefined
}

interface IntegerRule {
  min: number
  max?: number
  allowed: string
}

/** Integers only: YAML numbers, or (from flags) strings of digits, where "03" means 3 as in DeployerPHP. */
export function checkInteger(
  value: unknown,
  field: string,
  rule: IntegerRule,
  options?: CheckOptions,
): CheckResult<number> {
  const max = rule.max ?? Number.MAX_SAFE_INTEGER
  let number: number
  if (typeof value === 'number') {
    number = value
  } else if (typeof value === 'string' && options?.fromFlag) {
    if (!/^[0-9]+$/.test(value)) return fail(field, value, rule.allowed, 'digits only, e.g. 3')
    number = Number(value)
  } else if (typeof value === 'string' && /^[0-9]+$/.test(value)) {
    return fail(field, value, rule.allowed, `write the number without quotes: ${value}`)
  } else if (value === undefined || value === null) {
    return fail(field, value, rule.allowed, value === null ? 'the value is empty' : 'this value is required')
  } else {
    return fail(field, value, rule.allowed, `expected a whole number, got ${describeType(value)}`)
  }
  if (!Number.isInteger(number)) return fail(field, value, rule.allowed, 'it must be a whole number')
  if (number < rule.min) return fail(field, value, rule.allowed, `it must be at least ${rule.min}`)
  if (number > max) return fail(field, value, rule.allowed, `it must be at most ${max}`)
  return pass(number)
}

export const checkPort: Check<number> = (value, field, options) =>
  checkInteger(
    value,
    field,
    { min: PORT_MIN, max: PORT_MAX, allowed: `an integer from ${PORT_MIN} to ${PORT_MAX}` },
    options,
  )

/** numprocs, stopwaitsecs: DeployerPHP's "must be a positive integer". */
export const checkPositiveInt: Check<number> = (value, field, options) =>
  checkInteger(value, field, { min: 1, allowed: 'a positive integer (1 or more)' }, options)

/** startsecs, startretries, priority (supervisor takes a negative priority too, but no flag can spell one). */
export const checkNonNegativeInt: Check<number> = (value, field, options) =>
  checkInteger(value, field, { min: 0, allowed: 'an integer, 0 or more' }, options)

function flagBoolean(value: unknown, options?: CheckOptions): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (!options?.fromFlag || (typeof value !== 'string' && typeof value !== 'number')) return undefined
  const word = String(value).toLowerCase()
  if (FLAG_TRUE.includes(word)) return true
  if (FLAG_FALSE.includes(word)) return false
  return undefined
}

/** YAML booleans must be real `true`/`false`; flags also accept yes/no/on/off/1/0. */
export const checkBoolean: Check<boolean> = (value, field, options) => {
  const allowed = options?.fromFlag ? 'true or false (also yes/no, on/off, 1/0)' : 'true or false'
  const bool = flagBoolean(value, options)
  if (bool !== undefined) return pass(bool)
  if (typeof value === 'string' && [...FLAG_TRUE, ...FLAG_FALSE].includes(value.toLowerCase())) {
    const word = FLAG_TRUE.includes(value.toLowerCase()) ? 'true' : 'false'
    return fail(field, value, allowed, `'${value}' is text here, not a boolean; write ${word}`)
  }
  if (value === null || value === undefined) return fail(field, value, allowed, 'write true or false')
  return fail(field, value, allowed, `expected true or false, got ${describeType(value)}`)
}

export const checkAutorestart: Check<AutoRestart> = (value, field, options) => {
  const allowed = 'true, false or "unexpected" (restart only after an unexpected exit code)'
  if (typeof value === 'string' && value.toLowerCase() === 'unexpected') return pass('unexpected')
  const result = checkBoolean(value, field, options)
  return result.ok ? result : fail(field, value, allowed, result.problem.hint)
}

/** Accepts TERM or SIGTERM in any case; returns the bare upper-case name supervisor documents. */
export const checkStopSignal: Check<StopSignal> = (value, field, options) => {
  const allowed = `one of ${STOP_SIGNALS.join(', ')} (with or without SIG)`
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  const name = value.toUpperCase().replace(/^SIG/, '')
  const signal = STOP_SIGNALS.find((known) => known === name)
  return signal ? pass(signal) : fail(field, value, allowed, 'write the signal name, e.g. TERM or SIGQUIT')
}

export const checkEnvKey: Check<string> = (value, field, options) =>
  checkPatternString(value, field, options, {
    pattern: ENV_KEY_PATTERN,
    char: /[A-Za-z0-9_]/,
    max: 255,
    shapeHint: 'it must not start with a digit',
    allowed: "an environment variable name: letters, digits and '_', not starting with a digit",
  })

export function isReservedEnvKey(key: string): boolean {
  return (RESERVED_ENV_KEYS as readonly string[]).includes(key) || key.startsWith(RESERVED_ENV_PREFIX)
}

/** A key of a program's `environment`: a valid name the tool does not set itself. */
export const checkProgramEnvKey: Check<string> = (value, field, options) => {
  const result = checkEnvKey(value, field, options)
  if (!result.ok || !isReservedEnvKey(result.value)) return result
  return fail(
    field,
    value,
    `a name other than ${RESERVED_ENV_KEYS.join(', ')} and ${RESERVED_ENV_PREFIX}*`,
    'the tool sets HOME and USER from the user the program runs as, and the DEPLOYER_* variables from the site; rename the variable, or set `user:` for a different HOME',
  )
}

const ENV_VALUE_ALLOWED = `one line of text (${ENV_VALUE_MAX} characters at most) without a whitespace-preceded ';' or '#' or '%(here)s', not starting or ending with a quote, not containing both ' and "`

/**
 * A value supervisor's `environment=` can carry unchanged (ENV_VALUE_ALLOWED above). '%' is fine: the encoder doubles
 * it. Shell characters are fine too: supervisor hands the value to the program without a shell. A refused value is
 * shown only as a fingerprint: it may be a secret (DB_PASSWORD), and errors reach stderr, --json and CI logs.
 */
export const checkEnvValue: Check<string> = (value, field, options) => {
  const result = envValueVerdict(value, field, options)
  if (result.ok) return result
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  return { ok: false, problem: { ...result.problem, value: fingerprintValue(text) } }
}

function envValueVerdict(value: unknown, field: string, options?: CheckOptions): CheckResult<string> {
  let text: string
  if (typeof value === 'string') text = value
  else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) text = String(value)
  else if (value === null) return fail(field, value, ENV_VALUE_ALLOWED, "write '' for an empty value")
  else return notAString(field, value, ENV_VALUE_ALLOWED, options)
  if (text.length > ENV_VALUE_MAX) return fail(field, value, ENV_VALUE_ALLOWED, `it is ${text.length} characters long`)
  const trap = iniTrap(text) ?? envQuoteTrap(text)
  return trap ? fail(field, value, ENV_VALUE_ALLOWED, trap) : pass(text)
}

export const ENV_REFERENCE_KEY = 'from_env'
const ENV_REFERENCE_ALLOWED = `{ ${ENV_REFERENCE_KEY}: VAR }, VAR the name of a variable of the environment the run starts in (letters, digits and '_', not starting with a digit)`

/** An environment value of the inventory: a literal (checkEnvValue), or `{ from_env: VAR }` read at run time. */
export const checkEnvEntry: Check<EnvValue> = (value, field, options) => {
  if (isPlainMap(value)) return checkEnvReference(value, field, options)
  const literal = checkEnvValue(value, field, options)
  if (literal.ok || typeof value === 'string') return literal
  return fail(
    field,
    literal.problem.value,
    `${literal.problem.allowed}; or ${ENV_REFERENCE_ALLOWED}`,
    literal.problem.hint,
  )
}

/**
 * `{ from_env: VAR }` and nothing else. Whatever sits in a refused mapping may be a secret pasted in the wrong place,
 * so it is shown with every value fingerprinted.
 */
function checkEnvReference(
  value: Record<string, unknown>,
  field: string,
  options?: CheckOptions,
): CheckResult<EnvReference> {
  const keys = Object.keys(value)
  if (keys.length !== 1 || keys[0] !== ENV_REFERENCE_KEY) {
    const misspelt = keys.length === 1 && keys[0]?.toLowerCase().replace(/[_-]/g, '') === 'fromenv'
    const hint = misspelt
      ? `write ${ENV_REFERENCE_KEY}, not ${keys[0]}`
      : `a reference has the one key ${ENV_REFERENCE_KEY} (got ${keys.join(', ') || 'none'}); a literal value is written as plain text`
    return fail(field, fingerprintedMap(value), ENV_REFERENCE_ALLOWED, hint)
  }
  const name = checkEnvVariableName(value[ENV_REFERENCE_KEY], `${field}.${ENV_REFERENCE_KEY}`, options)
  return name.ok ? pass({ fromEnv: name.value }) : name
}

/** The variable a reference reads: a portable name. A refused one is fingerprinted, as it may be a value pasted there. */
export const checkEnvVariableName: Check<string> = (value, field, options) => {
  const result = checkEnvKey(value, field, options)
  if (result.ok) return result
  return fail(
    field,
    fingerprintValue(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))),
    ENV_REFERENCE_ALLOWED,
    result.problem.hint,
  )
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fingerprintedMap(map: Record<string, unknown>): string {
  const pairs = Object.entries(map).map(
    ([key, value]) =>
      `${key}: ${fingerprintValue(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)))}`,
  )
  return `{ ${pairs.join(', ')} }`
}

/** `{ from_env: VAR }`, as the inventory spells a reference: how messages show one. */
export function describeEnvReference(reference: EnvReference): string {
  return `{ ${ENV_REFERENCE_KEY}: ${reference.fromEnv} }`
}

/** Why supervisor's INI parser would read `text` differently from what was written; undefined when it would not. */
function iniTrap(text: string): string | undefined {
  if (hasControlChar(text)) {
    return `${describeBadChar(text, NOT_CONTROL_CHAR)}: supervisor reads one line per option, and a new line could start a new [program:x] section`
  }
  if (INLINE_COMMENT.test(text)) {
    return "supervisor cuts the value at a ';' or '#' that follows whitespace, even inside quotes; remove the space before it"
  }
  if (text.includes(HERE_EXPANSION)) {
    return `supervisor replaces '${HERE_EXPANSION}' with the config directory before any escaping, so it cannot be written literally`
  }
  return undefined
}

/** Why a quoted `environment=` value would come out changed; undefined when it would not. */
function envQuoteTrap(text: string): string | undefined {
  if (/^['"]|['"]$/.test(text)) return 'supervisor strips quote characters at either end of an environment value'
  if (text.includes("'") && text.includes('"')) {
    return 'supervisor 4.2 cannot express a value with both quote kinds (Supervisor #328); pass such a value in a file the script reads'
  }
  return undefined
}

/** A plain `key=value` INI value (templates' {{ini}}, command=): '%' is fine, the encoder doubles it. */
export const checkIniValue: Check<string> = (value, field, options) => {
  const allowed =
    "one line of text without leading or trailing whitespace, a whitespace-preceded ';' or '#', or '%(here)s'"
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  const trap =
    iniTrap(value) ??
    (EDGE_WHITESPACE.test(value)
      ? 'the INI parser strips whitespace at either end, so the program would see a different value'
      : undefined)
  return trap ? fail(field, value, allowed, trap) : pass(value)
}

/** A section or program name in supervisor's config (`[program:<name>]`). */
export const checkIniName: Check<string> = (value, field, options) => {
  const allowed = "letters, digits, '.', '_' and '-' ([A-Za-z0-9._-])"
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (INI_NAME_PATTERN.test(value)) return pass(value)
  const why = value === '' ? 'the value is empty' : describeBadChar(value, /[A-Za-z0-9._-]/)
  return fail(
    field,
    value,
    allowed,
    `${why}: supervisor refuses spaces, ':' and '/' in names, and '[' or ']' would break the section header`,
  )
}

/** A relative path under .deployer/supervisors/ in the app repository, safe in supervisor's command=. */
export const checkScript: Check<string> = (value, field, options) => {
  const allowed = `a path relative to ${SCRIPTS_DIR}/: segments of letters, digits, '.', '_' and '-' separated by '/' (${SCRIPT_MAX} characters at most)`
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value === '') return fail(field, value, allowed, 'the value is empty')
  if (value.length > SCRIPT_MAX) return fail(field, value, allowed, `it is ${value.length} characters long`)
  if (value.startsWith(`${SCRIPTS_DIR}/`)) {
    return fail(field, value, allowed, `leave out the ${SCRIPTS_DIR}/ prefix: '${value.slice(SCRIPTS_DIR.length + 1)}'`)
  }
  if (value.startsWith('/'))
    return fail(field, value, allowed, `absolute paths are refused; give the path inside ${SCRIPTS_DIR}/`)
  for (const segment of value.split('/')) {
    if (segment === '') return fail(field, value, allowed, "it has an empty segment ('//' or a trailing '/')")
    if (segment === '.' || segment === '..') return fail(field, value, allowed, `'${segment}' segments are refused`)
    if (segment.startsWith('-')) return fail(field, value, allowed, `the segment '${segment}' starts with '-'`)
    if (!SCRIPT_SEGMENT_PATTERN.test(segment))
      return fail(field, value, allowed, describeBadChar(segment, /[A-Za-z0-9._-]/))
  }
  return pass(value)
}

/** sitesPath and site roots: absolute, normalised, no characters that need quoting anywhere. */
export const checkAbsolutePath: Check<string> = (value, field, options) => {
  const allowed = `an absolute path of letters, digits, '.', '_', '-' and '/' without '.', '..', '//' or a trailing '/' (${ABSOLUTE_PATH_MAX} characters at most)`
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value.length > ABSOLUTE_PATH_MAX) return fail(field, value, allowed, `it is ${value.length} characters long`)
  if (!value.startsWith('/')) return fail(field, value, allowed, 'it must start with /')
  const badChar = describeBadChar(value, /[A-Za-z0-9._/-]/)
  if (badChar || !ABSOLUTE_PATH_PATTERN.test(value))
    return fail(field, value, allowed, badChar ?? 'the path is only "/"')
  if (value.includes('//')) return fail(field, value, allowed, "replace '//' with '/'")
  if (value.endsWith('/')) return fail(field, value, allowed, "remove the trailing '/'")
  const odd = value.split('/').find((segment) => segment === '.' || segment === '..')
  if (odd) return fail(field, value, allowed, `'${odd}' segments are refused; write the normalised path`)
  return pass(value)
}

/** privateKeyPath, knownHostsFile: a local file path, handed to ssh as one argument. */
export const checkFilePath: Check<string> = (value, field, options) => {
  const allowed = `a file path on this machine (~ allowed), one line, not starting with '-' (${FILE_PATH_MAX} characters at most)`
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value === '') return fail(field, value, allowed, 'the value is empty')
  if (value.length > FILE_PATH_MAX) return fail(field, value, allowed, `it is ${value.length} characters long`)
  if (hasControlChar(value)) return fail(field, value, allowed, describeBadChar(value, NOT_CONTROL_CHAR))
  if (value.startsWith('-')) return fail(field, value, allowed, `it must not start with "-"; write ./${value}`)
  return pass(value)
}

export const checkPhpVersion: Check<string> = (value, field, options) => {
  const allowed = 'a PHP version as text: major.minor, e.g. "8.3"'
  if (typeof value === 'number') {
    return fail(field, value, allowed, `write it in quotes: '${String(value)}' (unquoted, 8.10 would read as 8.1)`)
  }
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  return PHP_VERSION_PATTERN.test(value) ? pass(value) : fail(field, value, allowed, 'e.g. 8.3 or 8.4')
}

/** The basics of git-check-ref-format for a branch name, which also travels as DEPLOYER_BRANCH in environment=. */
export const checkBranch: Check<string> = (value, field, options) => {
  const allowed = `a git branch name: no whitespace, control characters, '~ ^ : ? * [ \\', '..', '@{' or '%(here)s', not both quote kinds nor a quote at either end (${BRANCH_MAX} characters at most)`
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value === '') return fail(field, value, allowed, 'the value is empty')
  if (value.length > BRANCH_MAX) return fail(field, value, allowed, `it is ${value.length} characters long`)
  const badChar = describeBadChar(value, /[^\s\u0000-\u001f\u007f-\u009f\u2028\u2029~^:?*[\\]/)
  if (badChar) return fail(field, value, allowed, badChar)
  if (value.startsWith('-')) return fail(field, value, allowed, 'it must not start with "-"')
  if (value.includes('..') || value.includes('@{') || value === '@') {
    return fail(field, value, allowed, "'..', '@{' and a lone '@' are not allowed in git refs")
  }
  if (value.startsWith('/') || value.endsWith('/') || value.includes('//')) {
    return fail(field, value, allowed, "no leading, trailing or double '/'")
  }
  if (value.endsWith('.') || value.endsWith('.lock') || value.split('/').some((part) => part.startsWith('.'))) {
    return fail(field, value, allowed, "no part may start with '.', and the name may not end with '.' or '.lock'")
  }
  const trap = iniTrap(value) ?? envQuoteTrap(value)
  if (trap) return fail(field, value, allowed, `${trap}; programs get the branch as DEPLOYER_BRANCH`)
  return pass(value)
}

/** A git remote URL or path; git's command-running transports are refused. */
export const checkRepo: Check<string> = (value, field, options) => {
  const allowed = `a git repository URL or path without whitespace or control characters (${REPO_MAX} characters at most)`
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (value === '') return fail(field, value, allowed, 'the value is empty')
  if (value.length > REPO_MAX) return fail(field, value, allowed, `it is ${value.length} characters long`)
  const badChar = describeBadChar(value, /[^\s\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
  if (badChar) return fail(field, value, allowed, badChar)
  if (value.startsWith('-')) return fail(field, value, allowed, 'it must not start with "-"')
  if (/^(ext|fd)::/i.test(value))
    return fail(field, value, allowed, 'the ext:: and fd:: transports run commands; use ssh or https')
  return pass(value)
}

/** A program's `template: queue/high-memory`: a template name without the extension, so without any '.'. */
export const checkTemplateName: Check<string> = (value, field, options) => {
  const rule = {
    pattern: TEMPLATE_NAME_PATTERN,
    char: /[a-zA-Z0-9_/-]/,
    max: 255,
    shapeHint: "folders are separated by a single '/', with none at the start or end",
    allowed: "a template name: letters, digits, '_' and '-', optionally in folders (queue/high-memory)",
  }
  const result = checkPatternString(value, field, options, rule)
  const dot = result.ok ? describeBadChar(result.value, rule.char) : undefined
  return dot ? fail(field, value, rule.allowed, dot) : result
}

export const checkConnection: Check<ConnectionKind> = (value, field, options) => {
  const allowed = 'ssh or local'
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  const connection = CONNECTIONS.find((known) => known === value)
  return connection ? pass(connection) : fail(field, value, allowed, 'local runs on this machine without SSH')
}

/** The inventory's `id:`, written into every ownership marker: the same shape as a server name. */
export const checkInventoryId: Check<string> = (value, field, options) => checkName(value, field, options, NAME_ALLOWED)

// --- Whole entries -------------------------------------------------------------------------------------------

/** The rule of each key of a site (inventory key names). */
export const SITE_RULES = {
  domain: checkDomain,
  repo: checkRepo,
  branch: checkBranch,
  php_version: checkPhpVersion,
  user: checkUsername,
  root: checkAbsolutePath,
} as const

/** The problems among check results, so a caller checking many values reports them all at once. */
export function problemsOf(results: ReadonlyArray<CheckResult<unknown>>): Problem[] {
  return results.flatMap((result) => (result.ok ? [] : [result.problem]))
}

/** Every problem of the values a site's files are rendered from: its own, and the server defaults it falls back on. */
export function siteValueProblems(server: Server, site: Site, path: string): Problem[] {
  const serverPath = `servers[${server.name}]`
  const results: CheckResult<unknown>[] = [
    SITE_RULES.domain(site.domain, `${path}.domain`),
    site.root !== undefined
      ? SITE_RULES.root(site.root, `${path}.root`)
      : checkAbsolutePath(server.sitesPath, `${serverPath}.sitesPath`),
    site.user !== undefined
      ? SITE_RULES.user(site.user, `${path}.user`)
      : checkUsername(server.siteUser, `${serverPath}.siteUser`),
  ]
  if (site.branch !== undefined) results.push(SITE_RULES.branch(site.branch, `${path}.branch`))
  if (site.phpVersion !== undefined) results.push(SITE_RULES.php_version(site.phpVersion, `${path}.php_version`))
  return problemsOf(results)
}

/** A server's supervisor `serverurl`: a UNIX socket path or an HTTP address, as supervisorctl takes it. */
export const checkServerUrl: Check<string> = (value, field, options) => {
  const allowed = "unix:///absolute/path.sock, or http://host:port (letters, digits, '.', '_', '-', '/' and ':' only)"
  if (typeof value !== 'string') return notAString(field, value, allowed, options)
  if (/^unix:\/\//.test(value)) {
    const socket = checkAbsolutePath(value.slice('unix://'.length), field, options)
    return socket.ok
      ? pass(value)
      : fail(field, value, allowed, describeBadChar(value, /[A-Za-z0-9._/:-]/) ?? socket.problem.hint)
  }
  if (/^https?:\/\/[A-Za-z0-9._-]+(:\d{1,5})?\/?$/.test(value)) return pass(value)
  return fail(
    field,
    value,
    allowed,
    describeBadChar(value, /[A-Za-z0-9._/:-]/) ?? 'e.g. unix:///run/supervisor/supervisor.sock',
  )
}

/** `supervisor:` on a server: overrides for a non-standard install. */
export const SUPERVISOR_OVERRIDE_RULES = {
  config: checkAbsolutePath,
  include_dir: checkAbsolutePath,
  serverurl: checkServerUrl,
} as const

/** controlPersist (inventory) and ZXS_CONTROL_PERSIST: how long an idle SSH master outlives a run; 0 or false: not at all. */
export const checkControlPersist: Check<number | false> = (value, field, options) => {
  const allowed = 'a number of seconds from 0 to 86400, or false (0 and false close SSH masters at exit)'
  if (value === false || (options?.fromFlag && typeof value === 'string' && FLAG_FALSE.includes(value.toLowerCase())))
    return pass(false)
  if (value === true) return fail(field, value, allowed, 'say how long, e.g. 60')
  const seconds = checkInteger(value, field, { min: 0, max: 86_400, allowed }, options)
  return seconds.ok && seconds.value === 0 ? pass(false) : seconds
}
