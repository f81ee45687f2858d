import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  checkLogFilter,
  escapeExtended,
  filteredFollowArgv,
  filteredReadArgv,
  grepPatternList,
  whyNotExtendedRegex,
} from '../../lib/logs/grep.ts'
import { inputError } from '../helpers/input-error.ts'

// --grep and --regex: what is refused before any connection (and why), and the two remote filters run here on files
// of this machine with the system's own sh, grep and tail.

const goodRegexes = [
  'Job failed',
  'tick (1|2)$',
  '^\\[2024-[0-9]{2}-[0-9]{2}',
  'SIG(TERM|KILL)',
  'a+b*c?',
  'x{3}',
  'x{2,}',
  'x{2,5}',
  'x{0,255}',
  '[]a]',
  '[^]a]',
  '[a-z0-9_-]+',
  '[-a]',
  '[[:alpha:]][[:digit:]]*',
  '[\\]',
  '\\.\\[\\(\\)\\|\\*\\+\\?\\{\\\\\\^\\$',
  '}',
  ']',
  'a^b',
  '(a|b)(c|d)*',
  '((a))',
  'é',
  '(é)+',
  'ü.*ö',
  '[%--]',
]
for (const pattern of goodRegexes) {
  test(`--regex ${JSON.stringify(pattern)} is accepted, as grep -E here accepts it`, async () => {
    assert.is(whyNotExtendedRegex(pattern), undefined)
    assert.equal(checkLogFilter(pattern, true), { pattern, syntax: 'extended' })
    const grep = await execa('grep', ['-E', '-e', pattern], { input: 'x\n', reject: false, env: { LC_ALL: 'C' } })
    assert.ok(grep.exitCode === 0 || grep.exitCode === 1, `grep -E: ${grep.stderr}`)
  })
}

const badRegexes: Array<[string, string]> = [
  ['(a', '"(" at character 1 is never closed'],
  ['a)', '")" at character 2 closes no "("'],
  ['[a', '"[" at character 1 is never closed'],
  ['[]', '"[" at character 1 is never closed'],
  ['a\\', 'a trailing backslash escapes nothing'],
  ['*a', '"*" at character 1 has nothing to repeat'],
  ['+', 'nothing to repeat'],
  ['a|*b', 'nothing to repeat'],
  ['(*a)', 'nothing to repeat'],
  ['^*', 'nothing to repeat'],
  ['a**', 'two repeats in a row'],
  ['a+?', 'two repeats in a row'],
  ['a{2}{3}', 'two repeats in a row'],
  ['a{', '"{" at character 2 starts no {m}, {m,} or {m,n}'],
  ['a{1', 'starts no {m}'],
  ['a{,3}', 'starts no {m}'],
  ['a{x}', 'starts no {m}'],
  ['{1}', '"{" at character 1 has nothing to repeat'],
  ['a{3,2}', 'the largest count is below the smallest'],
  ['a{256}', 'counts above 255'],
  ['a|', 'an empty alternative'],
  ['|a', 'an empty alternative at the start'],
  ['a||b', 'an empty alternative'],
  ['()', 'empty "()"'],
  ['(a|)', 'an empty alternative'],
  ['\\d+', '\\d is not defined in POSIX extended regular expressions; write [0-9]'],
  ['\\w', 'write [[:alnum:]_]'],
  ['\\s', 'write [[:space:]]'],
  ['\\bword', 'word boundaries'],
  ['\\<word\\>', 'word boundaries'],
  ['(a)\\1', 'back-reference \\1'],
  ['\\n', 'a log line never holds a newline'],
  ['\\q', '\\q is not defined'],
  ['[[:foo:]]', '[:foo:] is not a character class'],
  ['[[:alpha:]', 'is never closed'],
  ['[[:alpha]', '"[:" at character 2 is never closed with ":]"'],
  ['[[.a.]]', 'collating symbols and equivalence classes'],
  ['[[=a=]]', 'collating symbols and equivalence classes'],
  ['[z-a]', 'the range z-a is out of order'],
  ['[a-c-e]', '"-" right after a range'],
  ['[a-[:alpha:]]', 'ends in a class or symbol'],
  ['[é]', 'holds a non-ASCII character'],
  ['[a-é]', 'has a non-ASCII end'],
  ['é+', 'repeats only its last byte; group it: (é)+'],
]
for (const [pattern, why] of badRegexes) {
  test(`--regex ${JSON.stringify(pattern)} is refused: ${why}`, () => {
    assert.match(whyNotExtendedRegex(pattern) ?? '', why)
    const error = inputError(() => checkLogFilter(pattern, true))
    assert.is(error.problems[0]?.field, '--grep')
    assert.is(error.problems[0]?.value, pattern)
    assert.match(error.message, 'allowed: a POSIX extended regular expression (grep -E)')
  })
}

test('what grep -E itself refuses is refused here too', async () => {
  for (const pattern of ['(a', 'a)', '[a', 'a\\', 'a{3,2}', '[[:foo:]]', '[z-a]']) {
    const grep = await execa('grep', ['-E', '-e', pattern], { input: '', reject: false, env: { LC_ALL: 'C' } })
    // GNU grep reads a lone ")" as a character: the check is stricter than one grep, never looser.
    if (pattern !== 'a)') assert.is(grep.exitCode, 2, `grep -E ${pattern}`)
    assert.ok(whyNotExtendedRegex(pattern), pattern)
  }
})

const badFilters: Array<[unknown, boolean, string, string]> = [
  ['', false, '--grep', 'an empty pattern matches every line'],
  ['a\nb', false, '--grep', 'a log line never holds a newline'],
  ['a\rb', true, '--grep', 'a log line never holds a newline'],
  ['a\0b', false, '--grep', 'a NUL cannot be searched for'],
  ['x'.repeat(1001), false, '--grep', 'it has 1001 characters'],
  [undefined, true, '--regex', "--regex says how to read --grep's pattern; add --grep"],
]
for (const [grep, regex, field, hint] of badFilters) {
  test(`--grep ${JSON.stringify(grep)?.slice(0, 20)}${regex ? ' --regex' : ''} is exit 2 on ${field}: ${hint}`, () => {
    const error = inputError(() => checkLogFilter(grep, regex))
    assert.is(error.problems[0]?.field, field)
    assert.match(error.message, hint)
  })
}

test('--grep without --regex is a fixed string: regex characters are plain', () => {
  assert.equal(checkLogFilter('a(b[c*', false), { pattern: 'a(b[c*', syntax: 'fixed' })
  assert.is(checkLogFilter(undefined, false), undefined)
})

test("one -e argument: the pattern, then a multi-file tail's headers, exact in either syntax", () => {
  const headers = ['==> /var/log/a.log <==', '==> /var/log/b+c.log <==']
  assert.is(grepPatternList({ pattern: 'x', syntax: 'fixed' }, headers), `x\n${headers.join('\n')}`)
  assert.is(
    grepPatternList({ pattern: 'x|y', syntax: 'extended' }, headers),
    'x|y\n^==> /var/log/a\\.log <==$\n^==> /var/log/b\\+c\\.log <==$',
  )
  assert.is(escapeExtended('a.b*c[d](e)|f?g+h{i}^$\\'), 'a\\.b\\*c\\[d]\\(e\\)\\|f\\?g\\+h\\{i}\\^\\$\\\\')
})

let dir = ''
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-grep-'))
})
test.after(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const run = (argv: string[]) => execa(argv[0]!, argv.slice(1), { reject: false })

test('the filtered read: the last N matching lines, found by the remote sh, grep and tail', async () => {
  const log = path.join(dir, 'ten-thousand.log')
  const lines = Array.from({ length: 10_000 }, (_, i) => (i % 100 === 7 ? `job ${i} FAILED: x` : `job ${i} done`))
  await fs.writeFile(log, `${lines.join('\n')}\n`)
  const fixed = await run(filteredReadArgv({ pattern: 'FAILED', syntax: 'fixed' }, 3, ['cat', '--', log]))
  assert.is(fixed.exitCode, 0, fixed.stderr)
  assert.is(fixed.stdout, 'job 9707 FAILED: x\njob 9807 FAILED: x\njob 9907 FAILED: x')
  const all = await run(filteredReadArgv({ pattern: 'FAILED', syntax: 'fixed' }, 1000, ['cat', '--', log]))
  assert.is(all.stdout.split('\n').length, 100)
  const extended = await run(
    filteredReadArgv({ pattern: '^job 9[89]0[0-9] ', syntax: 'extended' }, 1000, ['cat', '--', log]),
  )
  assert.is(extended.stdout.split('\n').length, 20)
  const none = await run(filteredReadArgv({ pattern: 'nothing like it', syntax: 'fixed' }, 5, ['cat', '--', log]))
  assert.equal([none.exitCode, none.stdout], [0, ''], 'no match is no line, not a failure')
  const dots = await run(filteredReadArgv({ pattern: 'job 1.', syntax: 'fixed' }, 5, ['cat', '--', log]))
  assert.is(dots.stdout, '', '-F: a dot is a dot')
})

test('the filtered read keeps the source command failing: a missing file says so, a refused pattern too', async () => {
  const missing = await run(
    filteredReadArgv({ pattern: 'x', syntax: 'fixed' }, 5, ['cat', '--', path.join(dir, 'no.log')]),
  )
  assert.is(missing.exitCode, 1)
  assert.match(missing.stderr, 'No such file or directory')
  await fs.writeFile(path.join(dir, 'one.log'), 'a\n')
  const refused = await run(
    filteredReadArgv({ pattern: 'a{3,2}', syntax: 'extended' }, 5, ['cat', '--', path.join(dir, 'one.log')]),
  )
  assert.is(refused.exitCode, 2)
  assert.match(refused.stderr, 'grep')
})

test('the filtered follow: matching lines as they are written; TERM ends tail and grep, and nothing else', async () => {
  const log = path.join(dir, `follow-${process.pid}.log`)
  await fs.writeFile(log, 'old match\nold other\n')
  const argv = filteredFollowArgv({ pattern: 'match', syntax: 'fixed' }, ['tail', '-n', '5', '-F', '--', log])
  const child = execa(argv[0]!, argv.slice(1), { reject: false, timeout: 20_000 })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  await until(() => out === 'old match\n')
  await fs.appendFile(log, 'new other\nnew match\n')
  await until(() => out === 'old match\nnew match\n')
  assert.ok(await running(log), 'tail runs')
  child.kill('SIGTERM')
  await child
  await until(async () => !(await running(log)))
})

async function running(file: string): Promise<boolean> {
  return (await execa('pgrep', ['-f', file], { reject: false })).exitCode === 0
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

test.run()
