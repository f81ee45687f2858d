// Turns values into text for supervisor's INI parser, which expands %(name)s. It only encodes: whether a value can be
// encoded is decided by the rulebook (lib/values.ts), asserted here so that nothing reaches a file unchecked.
import { InputError } from '../errors.ts'
import { shellQuote } from '../remote/quote.ts'
import { type CheckResult, checkEnvKey, checkEnvValue, checkIniName, checkIniValue, problemsOf } from '../values.ts'

/** Encodes one plain INI value (`key=<value>`): asserts it, then doubles every '%'. */
export function encodeIniValue(value: string, field: string): string {
  assertValid([checkIniValue(value, field)])
  return doublePercent(value)
}

/** Encodes `environment=` pairs as `KEY="value",KEY2='va"lue'`, in the order given. */
export function encodeEnvironment(pairs: ReadonlyArray<readonly [string, string]>, field: string): string {
  assertValid(
    pairs.flatMap(([key, value]) => [checkEnvKey(key, `${field}.${key}`), checkEnvValue(value, `${field}.${key}`)]),
  )
  return pairs.map(([key, value]) => `${key}=${quoteEnvValue(doublePercent(value))}`).join(',')
}

// Quotes are not escapes in supervisor's shlex (legacy mode): pick the kind the value does not contain.
function quoteEnvValue(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`
}

/** Asserts a section or program name and returns it unchanged. */
export function assertIniName(name: string, field: string): string {
  assertValid([checkIniName(name, field)])
  return name
}

/** Encodes `command=` from an argument list: each argument quoted for supervisor's shlex split, then INI-encoded. */
export function encodeIniCommand(args: readonly string[], field: string): string {
  return encodeIniValue(args.map(shellQuote).join(' '), field)
}

function doublePercent(value: string): string {
  return value.replaceAll('%', '%%')
}

/** Throws an InputError listing every problem among the rulebook's verdicts. */
function assertValid(results: ReadonlyArray<CheckResult<unknown>>): void {
  const problems = problemsOf(results)
  if (problems.length > 0) throw new InputError(problems)
}
