// The one place that turns values into text for supervisor's INI parser (notes/supervisor.md §4).
// Every rule rejects: a value supervisor would read differently from what the inventory says is an error, never a
// silently changed file.
import { InputError } from '../errors.ts'
import type { Problem } from '../types.ts'

/** The encoding rules, for the README and `--help` texts. */
export const INI_RULES: readonly string[] = [
  'No control characters (newline, carriage return, NUL, tab, ...): a newline would start a new INI line, e.g. a new [program:x] section.',
  "No ';' or '#' right after whitespace: supervisor ends the value there (an inline comment), even inside quotes.",
  'No leading or trailing whitespace in plain values: the INI parser strips it (environment values are quoted and keep it).',
  "Every '%' is written as '%%': supervisor expands %(name)s in every value.",
  "No '%(here)s' anywhere: supervisor substitutes it before expanding, so it cannot be written literally.",
  'Environment keys match ^[A-Za-z_][A-Za-z0-9_]*$.',
  'Environment values are double-quoted, or single-quoted when they contain \'"\'; a value cannot contain both quote kinds, nor start or end with a quote character (supervisor strips them).',
  'Command arguments outside [A-Za-z0-9_./@%+=:,-] are single-quoted for the shlex split supervisor applies to command=.',
  'Section and program names use only [A-Za-z0-9._-].',
]

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u
// Python's str.isspace() decides what counts as whitespace before an inline comment; \s covers it.
const INLINE_COMMENT = /\s[;#]/u
const EDGE_WHITESPACE = /^\s|\s$/u
const HERE_EXPANSION = '%(here)s'
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
const INI_NAME = /^[A-Za-z0-9._-]+$/
const SHLEX_SAFE_ARG = /^[A-Za-z0-9_./@%+=:,-]+$/

/** Every reason `value` cannot go into an INI value as it is (rules shared by plain and quoted values). */
function textProblems(value: string, field: string): Problem[] {
  const problems: Problem[] = []
  if (CONTROL_CHARS.test(value)) {
    problems.push({
      field,
      value,
      allowed: 'text without control characters (newline, carriage return, NUL, tab, ...)',
      hint: 'a newline would start a new line in the supervisor config (for example a new [program:x] section); pass multi-line data in a file the script reads',
    })
  }
  if (INLINE_COMMENT.test(value)) {
    problems.push({
      field,
      value,
      allowed: "no ';' or '#' right after a space or tab",
      hint: "supervisor reads ' ;' and ' #' as the start of a comment, even inside quotes, and cuts the value there; drop the space before the character",
    })
  }
  if (value.includes(HERE_EXPANSION)) {
    problems.push({
      field,
      value,
      allowed: `no '${HERE_EXPANSION}'`,
      hint: `supervisor replaces '${HERE_EXPANSION}' with the config directory before any escaping applies, so it cannot be written literally`,
    })
  }
  return problems
}

/** Every reason `value` cannot be written as a plain (unquoted) INI value. */
export function iniValueProblems(value: string, field: string): Problem[] {
  const problems = textProblems(value, field)
  if (EDGE_WHITESPACE.test(value)) {
    problems.push({
      field,
      value,
      allowed: 'no leading or trailing whitespace',
      hint: 'the INI parser strips it, so the program would see a different value',
    })
  }
  return problems
}

/** Encodes one plain INI value (`key=<value>`): validates it, then doubles every '%'. */
export function encodeIniValue(value: string, field: string): string {
  throwIfAny(iniValueProblems(value, field))
  return doublePercent(value)
}

/** Every reason an environment pair cannot be written in `environment=`. */
export function environmentProblems(pairs: ReadonlyArray<readonly [string, string]>, field: string): Problem[] {
  return pairs.flatMap(([key, value]) => environmentPairProblems(key, value, `${field}.${key}`))
}

/** Every reason one `KEY=value` pair cannot be written in `environment=`; problems are reported under `field`. */
export function environmentPairProblems(key: string, value: string, field: string): Problem[] {
  const problems: Problem[] = []
  if (!ENV_KEY.test(key)) {
    problems.push({
      field,
      value: key,
      allowed: 'a variable name matching ^[A-Za-z_][A-Za-z0-9_]*$',
      hint: 'letters, digits and underscores, not starting with a digit',
    })
  }
  problems.push(...textProblems(value, field))
  if (value.includes('"') && value.includes("'")) {
    problems.push({
      field,
      value,
      allowed: 'a value with double quotes or single quotes, not both',
      hint: 'supervisor 4.2 has no escape for quotes in environment values (Supervisor #328); pass such a value in a file the script reads',
    })
  }
  if (/^["']|["']$/.test(value)) {
    problems.push({
      field,
      value,
      allowed: 'a value that does not start or end with a quote character',
      hint: 'supervisor strips quote characters from both ends of every environment value',
    })
  }
  return problems
}

/** Encodes `environment=` pairs as `KEY="value",KEY2='va"lue'`, in the order given. */
export function encodeEnvironment(pairs: ReadonlyArray<readonly [string, string]>, field: string): string {
  throwIfAny(environmentProblems(pairs, field))
  return pairs.map(([key, value]) => `${key}=${quoteEnvValue(doublePercent(value))}`).join(',')
}

// Quotes are not escapes in supervisor's shlex (legacy mode): pick the kind the value does not contain.
function quoteEnvValue(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`
}

/** Every reason `name` cannot be a section or program name. */
export function iniNameProblems(name: string, field: string): Problem[] {
  if (INI_NAME.test(name)) return []
  return [
    {
      field,
      value: name,
      allowed: 'letters, digits, dots, underscores and hyphens ([A-Za-z0-9._-])',
      hint: "supervisor rejects spaces, ':' and '/' in names, and '[' or ']' would break the section header",
    },
  ]
}

/** Checks a section or program name and returns it unchanged. */
export function assertIniName(name: string, field: string): string {
  throwIfAny(iniNameProblems(name, field))
  return name
}

/** Quotes one argument for the shlex.split() supervisor applies to `command=` (POSIX rules). */
export function shlexQuote(arg: string): string {
  return SHLEX_SAFE_ARG.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`
}

/** Encodes `command=` from an argument list: each argument shlex-quoted, then the line INI-encoded. */
export function encodeIniCommand(args: readonly string[], field: string): string {
  return encodeIniValue(args.map(shlexQuote).join(' '), field)
}

function doublePercent(value: string): string {
  return value.replaceAll('%', '%%')
}

function throwIfAny(problems: Problem[]): void {
  if (problems.length > 0) throw new InputError(problems)
}
