// --grep: a filter that runs on the server (grep -F, or grep -E with --regex), so unmatched lines never cross the
// network. A --regex pattern is checked here first: only what POSIX defines for an extended regular expression is
// accepted, so every grep -E reads it the same way and none refuses it after the connection.

import { InputError } from '../errors.ts'

export interface LogFilter {
  pattern: string
  /** fixed: a plain string (grep -F); extended: a POSIX extended regular expression (grep -E). */
  syntax: 'fixed' | 'extended'
}

export const MAX_PATTERN_LENGTH = 1000
/** POSIX's smallest RE_DUP_MAX: a larger count in {m,n} is not accepted by every grep. */
export const MAX_REPEAT_COUNT = 255

const CLASS_NAMES = [
  'alnum',
  'alpha',
  'blank',
  'cntrl',
  'digit',
  'graph',
  'lower',
  'print',
  'punct',
  'space',
  'upper',
  'xdigit',
]
// The characters a backslash makes literal in an ERE (XBD 9.4.2); any other `\x` is undefined.
const QUOTABLE = new Set('^.[$()|*+?{\\')
const REPEAT = new Set(['*', '+', '?', '{'])
const ESCAPE_HINTS: Record<string, string> = {
  d: 'write [0-9] (\\d is not POSIX)',
  D: 'write [^0-9] (\\D is not POSIX)',
  w: 'write [[:alnum:]_] (\\w is not POSIX)',
  W: 'write [^[:alnum:]_] (\\W is not POSIX)',
  s: 'write [[:space:]] (\\s is not POSIX)',
  S: 'write [^[:space:]] (\\S is not POSIX)',
  b: 'word boundaries (\\b) are not POSIX; match the neighbouring characters instead',
  '<': 'word boundaries (\\<) are not POSIX; match the neighbouring characters instead',
  '>': 'word boundaries (\\>) are not POSIX; match the neighbouring characters instead',
  n: 'a log line never holds a newline',
  t: 'type the tab itself, or use [[:blank:]]',
}

/** --grep and --regex → the filter, or undefined without --grep; checked before any connection. */
export function checkLogFilter(grep: unknown, regex: unknown): LogFilter | undefined {
  if (grep === undefined || grep === false) {
    if (regex)
      throw new InputError([
        {
          field: '--regex',
          value: true,
          allowed: 'only with --grep PATTERN',
          hint: "--regex says how to read --grep's pattern; add --grep",
        },
      ])
    return undefined
  }
  const syntax = regex ? 'extended' : 'fixed'
  const field = '--grep'
  const allowed =
    syntax === 'extended'
      ? 'a POSIX extended regular expression (grep -E), one line, at most 1000 characters'
      : 'a fixed string (grep -F), one line, at most 1000 characters'
  if (typeof grep !== 'string' || grep === '')
    throw new InputError([{ field, value: grep, allowed, hint: 'an empty pattern matches every line: drop --grep' }])
  const why = whyUnusable(grep) ?? (syntax === 'extended' ? whyNotExtendedRegex(grep) : undefined)
  if (why) throw new InputError([{ field, value: grep, allowed, hint: why }])
  return { pattern: grep, syntax }
}

/** Text no grep takes as one pattern: a NUL cannot be passed, a newline would make two patterns. */
function whyUnusable(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `it has ${pattern.length} characters`
  if (pattern.includes('\0')) return 'a NUL cannot be searched for'
  if (/[\n\r]/.test(pattern)) return 'a log line never holds a newline; search for one line'
  return undefined
}

/**
 * Why a pattern is not a well-defined POSIX extended regular expression (XBD 9.4), or undefined when it is. Refused:
 * what grep -E rejects (unbalanced parentheses or brackets, a bad {m,n}, a trailing backslash, an unknown [:class:])
 * and what POSIX leaves undefined, where greps differ (a repeat with nothing before it or after another, an empty
 * alternative, `\x` escapes such as \d or \w, back-references, a stray `{`). Patterns run with LC_ALL=C: a non-ASCII
 * character is its bytes, so it is refused inside [ ] and right before a repeat (group it: (é)+).
 */
export function whyNotExtendedRegex(pattern: string): string | undefined {
  try {
    new EreChecker(pattern).check()
    return undefined
  } catch (error) {
    if (error instanceof EreProblem) return error.message
    throw error
  }
}

class EreProblem extends Error {}

/** A recursive-descent reader of XBD 9.5.3's ERE grammar that only says whether the pattern fits it. */
class EreChecker {
  private index = 0
  private readonly chars: string[]
  constructor(pattern: string) {
    this.chars = [...pattern]
  }

  check(): void {
    this.alternatives()
    if (this.index < this.chars.length) this.fail(`")" at character ${this.index + 1} closes no "("`)
  }

  private fail(message: string): never {
    throw new EreProblem(message)
  }

  private peek(): string | undefined {
    return this.chars[this.index]
  }

  private alternatives(): void {
    this.branch()
    while (this.peek() === '|') {
      this.index++
      this.branch()
    }
  }

  private branch(): void {
    const start = this.index
    // What a repeat would apply to: nothing yet, an anchor, or an atom (and whether it was already repeated).
    let last: 'none' | 'anchor' | 'atom' | 'repeated' | 'wide' = 'none'
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      if (REPEAT.has(c)) {
        if (c === '{' && !this.isInterval())
          this.fail(`"{" at character ${this.index + 1} starts no {m}, {m,} or {m,n}; write \\{ for the character`)
        if (last === 'none' || last === 'anchor')
          this.fail(`"${c}" at character ${this.index + 1} has nothing to repeat; write \\${c} for the character`)
        if (last === 'repeated')
          this.fail(`two repeats in a row at character ${this.index + 1} (POSIX leaves it undefined)`)
        if (last === 'wide')
          this.fail(
            `a repeat after a non-ASCII character repeats only its last byte; group it: (${this.chars[this.index - 1]})${c}`,
          )
        if (c === '{') this.interval()
        else this.index++
        last = 'repeated'
      } else if (c === '^' || c === '$') {
        this.index++
        last = 'anchor'
      } else if (c === '(') {
        const open = this.index++
        if (this.peek() === ')') this.fail(`empty "()" at character ${open + 1}`)
        this.alternatives()
        if (this.peek() !== ')') this.fail(`"(" at character ${open + 1} is never closed`)
        this.index++
        last = 'atom'
      } else if (c === '[') {
        this.bracket()
        last = 'atom'
      } else if (c === '\\') {
        this.escape()
        last = 'atom'
      } else {
        this.index++
        last = c.codePointAt(0)! > 0x7f ? 'wide' : 'atom'
      }
    }
    if (this.index === start) {
      const where = this.index === 0 ? 'at the start' : `at character ${this.index + 1}`
      this.fail(`an empty alternative ${where} (POSIX leaves "|" with nothing beside it undefined)`)
    }
  }

  private escape(): void {
    const next = this.chars[this.index + 1]
    if (next === undefined) this.fail('a trailing backslash escapes nothing')
    if (QUOTABLE.has(next)) {
      this.index += 2
      return
    }
    if (/[1-9]/.test(next)) this.fail(`back-reference \\${next}: not part of POSIX extended regular expressions`)
    this.fail(
      `\\${next} is not defined in POSIX extended regular expressions; ${ESCAPE_HINTS[next] ?? `write ${next} alone`}`,
    )
  }

  private isInterval(): boolean {
    const rest = this.chars.slice(this.index, this.index + 24).join('')
    return /^\{\d+(,\d*)?\}/.test(rest)
  }

  private interval(): void {
    const text = /^\{(\d+)(,(\d*))?\}/.exec(this.chars.slice(this.index, this.index + 24).join(''))!
    const min = Number(text[1])
    const max = text[3] === undefined || text[3] === '' ? undefined : Number(text[3])
    if (min > MAX_REPEAT_COUNT || (max !== undefined && max > MAX_REPEAT_COUNT))
      this.fail(`${text[0]}: counts above ${MAX_REPEAT_COUNT} are not accepted by every grep`)
    if (max !== undefined && max < min) this.fail(`${text[0]}: the largest count is below the smallest`)
    this.index += text[0].length
  }

  /** [...]: `]` first is literal, a backslash is literal, [:class:] by name, ranges between ASCII characters in order. */
  private bracket(): void {
    const open = this.index++
    if (this.peek() === '^') this.index++
    let first = true
    let previous: string | undefined // a single character that may start a range
    let afterRange = false
    for (;;) {
      const c = this.peek()
      if (c === undefined) this.fail(`"[" at character ${open + 1} is never closed; write \\[ for the character`)
      if (c === ']' && !first) {
        this.index++
        return
      }
      first = false
      if (c === '[' && [':', '=', '.'].includes(this.chars[this.index + 1] ?? '')) {
        this.bracketClass()
        previous = undefined
        afterRange = false
        continue
      }
      if (
        c === '-' &&
        previous !== undefined &&
        this.chars[this.index + 1] !== ']' &&
        this.chars[this.index + 1] !== undefined
      ) {
        const end = this.chars[this.index + 1]!
        if (end === '[') this.fail(`a range in [ ] at character ${this.index + 1} ends in a class or symbol`)
        if (previous.codePointAt(0)! > 0x7f || end.codePointAt(0)! > 0x7f)
          this.fail(
            `the range ${previous}-${end} has a non-ASCII end; list the characters, or group alternatives: (é|è)`,
          )
        if (end < previous) this.fail(`the range ${previous}-${end} is out of order`)
        this.index += 2
        previous = undefined
        afterRange = true
        continue
      }
      if (c === '-' && afterRange && this.chars[this.index + 1] !== ']')
        this.fail(`"-" right after a range at character ${this.index + 1} (POSIX leaves it undefined); put "-" last`)
      if (c.codePointAt(0)! > 0x7f)
        this.fail(
          `[ ] at character ${open + 1} holds a non-ASCII character, which it would take byte by byte; use (é|è)`,
        )
      previous = c
      afterRange = false
      this.index++
    }
  }

  private bracketClass(): void {
    const kind = this.chars[this.index + 1]!
    const close = this.chars
      .slice(this.index + 2)
      .join('')
      .indexOf(`${kind}]`)
    if (close < 0) this.fail(`"[${kind}" at character ${this.index + 1} is never closed with "${kind}]"`)
    const name = this.chars.slice(this.index + 2, this.index + 2 + close).join('')
    if (kind !== ':')
      this.fail(
        `[${kind}${name}${kind}] (collating symbols and equivalence classes) is not accepted here; write the character itself`,
      )
    if (!CLASS_NAMES.includes(name))
      this.fail(`[:${name}:] is not a character class; the classes are ${CLASS_NAMES.map((n) => `[:${n}:]`).join(' ')}`)
    this.index += 2 + [...name].length + 2
  }
}

/**
 * The one `-e` argument of grep: the user's pattern, and the header lines of a tail that follows several files (so
 * they survive the filter). grep reads a newline in a pattern list as "or" (POSIX), hence no newline in --grep.
 */
export function grepPatternList(filter: LogFilter, tailHeaders: string[] = []): string {
  const headers = tailHeaders.map((header) => (filter.syntax === 'fixed' ? header : `^${escapeExtended(header)}$`))
  return [filter.pattern, ...headers].join('\n')
}

export function grepSyntaxFlag(filter: LogFilter): '-F' | '-E' {
  return filter.syntax === 'fixed' ? '-F' : '-E'
}

/** A literal text as an ERE that matches exactly it. */
export function escapeExtended(text: string): string {
  return text.replace(/[\^.[$()|*+?{\\]/g, (c) => `\\${c}`)
}

/**
 * The last N lines of what a command prints that match, run on the server: `"$@" | grep | tail -n N`, with the
 * command's exit status kept (a missing file stays visible: cat says "No such file or directory" and exits 1), and a
 * pattern that this server's grep refuses reported as such. Arguments: -F|-E, pattern list, N, then the command.
 */
export const FILTERED_READ = [
  'export LC_ALL=C',
  'flag=$1 patterns=$2 lines=$3',
  'shift 3',
  'echo | grep "$flag" -e "$patterns" >/dev/null; [ $? -le 1 ] || exit 2',
  '{ status=$( { { "$@"; echo $? >&3; } | grep -a "$flag" -e "$patterns" | tail -n "$lines" >&4; } 3>&1 ); } 4>&1',
  '[ -n "$status" ] || status=1',
  'exit "$status"',
].join('\n')

/**
 * A followed command piped through grep on the server, kept to whole lines (--line-buffered). The pipeline runs in
 * a process group of its own (setsid), so when the stream's stdin watcher stops this script (TERM), tail and grep go
 * with it — and nothing else: on `host: local` the task itself shares this script's group. Arguments: -F|-E, the
 * pattern list, then the command.
 */
export const FILTERED_FOLLOW = [
  'export LC_ALL=C',
  // A grep without --line-buffered (BusyBox's) says so here, once, instead of holding lines back in its buffer.
  'echo | grep --line-buffered "$1" -e "$2" >/dev/null; [ $? -le 1 ] || exit 2',
  // Before setsid() has run there is no group yet, and no pipeline either: then the process itself is enough.
  'stop() { [ -z "$group" ] || kill -TERM "-$group" 2>/dev/null || kill -TERM "$group" 2>/dev/null; }',
  "trap 'stopped=1; stop' TERM",
  `setsid sh -c 'flag=$1 patterns=$2; shift 2; "$@" | grep -a --line-buffered "$flag" -e "$patterns"' sh "$@" &`,
  'group=$!',
  '[ -z "$stopped" ] || stop',
  'wait "$group"',
].join('\n')

export function filteredReadArgv(filter: LogFilter, lines: number, command: string[]): string[] {
  return ['sh', '-c', FILTERED_READ, 'sh', grepSyntaxFlag(filter), grepPatternList(filter), String(lines), ...command]
}

export function filteredFollowArgv(filter: LogFilter, command: string[], tailHeaders: string[] = []): string[] {
  return ['sh', '-c', FILTERED_FOLLOW, 'sh', grepSyntaxFlag(filter), grepPatternList(filter, tailHeaders), ...command]
}
