import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type InputError, showValue } from '../../lib/errors.ts'
import { fingerprintValue } from '../../lib/redact.ts'
import { shellQuote } from '../../lib/remote/quote.ts'
import { assertIniName, encodeEnvironment, encodeIniCommand, encodeIniValue } from '../../lib/render/ini.ts'
import { inputError } from '../helpers/input-error.ts'

/** Runs `fn`, expecting an InputError whose message names `field`, shows `value` and says why (`allowed`). */
function assertRejected(fn: () => unknown, field: string, value: string, allowed: RegExp): InputError {
  const error = inputError(fn)
  const named = error.message.includes(`${field}: got ${showValue(value)}`)
  assert.ok(named, `message names field and value: ${error.message}`)
  assert.match(error.message, allowed)
  return error
}

const FIELD = 'sites[0].supervisors[1].stopsignal'

const acceptedValues: Array<[string, string]> = [
  ['plain', 'plain'],
  ['a;b', 'a;b'],
  ['pre#hash;x', 'pre#hash;x'],
  ['100%', '100%%'],
  ['%(program_name)s', '%%(program_name)s'],
  ['it\'s "quoted"', 'it\'s "quoted"'],
  ['in side', 'in side'],
  ['', ''],
  ['é ü ✓', 'é ü ✓'],
]

for (const [value, encoded] of acceptedValues) {
  test(`encodeIniValue encodes ${showValue(value)}`, () => {
    assert.is(encodeIniValue(value, FIELD), encoded)
  })
}

const ONE_LINE = /one line per option/
const INLINE_COMMENT = /';' or '#' that follows whitespace/
const hostileValues: Array<[string, string, RegExp]> = [
  ['newline injection', 'x\n[program:evil]\ncommand=/bin/touch /tmp/pwned', ONE_LINE],
  ['carriage return', 'x\r[program:evil]', ONE_LINE],
  ['NUL', 'a\0b', ONE_LINE],
  ['tab', 'a\tb', ONE_LINE],
  ['unicode line separator', 'a\u2028b', ONE_LINE],
  ['space semicolon', 'sh -c a ;b', INLINE_COMMENT],
  ['space hash', 'value #comment', INLINE_COMMENT],
  ['no-break space semicolon', 'a\u00a0;b', INLINE_COMMENT],
  ['leading space', ' lead', /strips whitespace at either end/],
  ['trailing space', 'trail ', /strips whitespace at either end/],
  ['here expansion', 'in %(here)s', /'%\(here\)s'/],
]

for (const [name, value, allowed] of hostileValues) {
  test(`encodeIniValue rejects ${name}`, () => {
    assertRejected(() => encodeIniValue(value, FIELD), FIELD, value, allowed)
  })
}

test('encodeIniValue names the trap that bites first', () => {
  const error = assertRejected(() => encodeIniValue(' a ;b\n', FIELD), FIELD, ' a ;b\n', ONE_LINE)
  assert.is(error.problems.length, 1)
})

const ENV = 'sites[0].supervisors[1].environment'

const acceptedEnvironments: Array<[string, Array<[string, string]>, string]> = [
  ['comma inside quotes', [['QUEUES', 'high,low']], 'QUEUES="high,low"'],
  ['double quotes use single quotes', [['G', 'say "hi" now']], `G='say "hi" now'`],
  ['single quote inside double quotes', [['N', "it's"]], `N="it's"`],
  ['percent doubled', [['R', '100% of %(x)s']], 'R="100%% of %%(x)s"'],
  ['empty value', [['E', '']], 'E=""'],
  ['spaces kept inside quotes', [['P', ' x ']], 'P=" x "'],
  ['equals and colon', [['K', 'v=1:2']], 'K="v=1:2"'],
  ['shell characters are plain text', [['S', '$HOME `id` \\n']], 'S="$HOME `id` \\n"'],
  [
    'order kept and comma joined',
    [
      ['B', '2'],
      ['A', '1'],
      ['_c9', '3'],
    ],
    'B="2",A="1",_c9="3"',
  ],
  ['no pairs', [], ''],
]

for (const [name, pairs, encoded] of acceptedEnvironments) {
  test(`encodeEnvironment: ${name}`, () => {
    assert.is(encodeEnvironment(pairs, ENV), encoded)
  })
}

const hostileEnvironments: Array<[string, string, string, RegExp]> = [
  ['newline injection', 'A', 'x"\n[program:evil]\ncommand=/bin/touch /tmp/pwned', ONE_LINE],
  ['carriage return', 'A', 'x\ry', ONE_LINE],
  ['NUL', 'A', 'x\0y', ONE_LINE],
  ['space semicolon', 'A', 'a ;b', INLINE_COMMENT],
  ['space hash', 'A', 'a #b', INLINE_COMMENT],
  ['both quote kinds', 'A', `it's "x" here`, /both quote kinds/],
  ['leading double quote', 'A', '"x', /quote characters at either end/],
  ['trailing single quote', 'A', "x'", /quote characters at either end/],
  ['here expansion', 'A', 'q%(here)s/x', /'%\(here\)s'/],
  ['one character over the length limit', 'A', 'x'.repeat(8193), /8193 characters long/],
]

// An environment value may be a secret: the error shows its fingerprint, never the value.
for (const [name, key, value, allowed] of hostileEnvironments) {
  test(`encodeEnvironment rejects ${name}`, () => {
    const error = assertRejected(
      () => encodeEnvironment([[key, value]], ENV),
      `${ENV}.${key}`,
      fingerprintValue(value),
      allowed,
    )
    assert.not.ok(error.message.includes(value.slice(0, 8)), `the value stays out of the message: ${error.message}`)
    assert.match(error.message, /8192 characters at most/)
  })
}

const badKeys = ['1A', 'A-B', 'A B', '', 'A=B', 'É']

for (const key of badKeys) {
  test(`encodeEnvironment rejects key ${showValue(key)}`, () => {
    assertRejected(() => encodeEnvironment([[key, 'v']], ENV), `${ENV}.${key}`, key, /environment variable name/)
  })
}

test('encodeEnvironment lists every bad pair at once', () => {
  const error = inputError(() =>
    encodeEnvironment(
      [
        ['GOOD', 'fine'],
        ['A', 'x\ny'],
        ['1B', `"q'`],
      ],
      ENV,
    ),
  )
  assert.equal(
    error.problems.map((p) => p.field),
    [`${ENV}.A`, `${ENV}.1B`, `${ENV}.1B`],
  )
})

const NAME = 'sites[0].supervisors[0].program'

for (const name of ['example.com-queue_worker', 'a', 'A.B-9_z']) {
  test(`assertIniName accepts ${name}`, () => {
    assert.is(assertIniName(name, NAME), name)
  })
}

for (const name of ['my prog', 'a:b', 'a/b', 'a]', '[a', '', 'é', 'a\nb', 'a;b', 'a%b']) {
  test(`assertIniName rejects ${showValue(name)}`, () => {
    assertRejected(() => assertIniName(name, NAME), NAME, name, /\[A-Za-z0-9\._-\]/)
  })
}

const commands: Array<[string[], string]> = [
  [['/srv/runner.sh', '.deployer/supervisors/queue.sh'], '/srv/runner.sh .deployer/supervisors/queue.sh'],
  [['/srv/runner.sh', '.deployer/supervisors/my worker.sh'], "/srv/runner.sh '.deployer/supervisors/my worker.sh'"],
  [['/srv/runner.sh', "it's"], `/srv/runner.sh 'it'"'"'s'`],
  [['/srv/runner.sh', '100%'], '/srv/runner.sh 100%%'],
  [['/srv/runner.sh', ''], "/srv/runner.sh ''"],
  [['/srv/runner.sh', '$(id)'], "/srv/runner.sh '$(id)'"],
]

for (const [args, encoded] of commands) {
  test(`encodeIniCommand ${showValue(args.join(' '))}`, () => {
    assert.is(encodeIniCommand(args, 'command'), encoded)
  })
}

test('encodeIniCommand still rejects an inline comment inside quotes', () => {
  assertRejected(
    () => encodeIniCommand(['/srv/runner.sh', 'a ;b'], 'command'),
    'command',
    "/srv/runner.sh 'a ;b'",
    INLINE_COMMENT,
  )
})

test('command arguments leave safe words alone', () => {
  assert.is(shellQuote('a-b_c.d/e:f,g+h=i@j%'), 'a-b_c.d/e:f,g+h=i@j%')
})

test.run()
