import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InputError, showValue } from '../../lib/errors.ts'
import {
  assertIniName,
  encodeEnvironment,
  encodeIniCommand,
  encodeIniValue,
  environmentProblems,
  INI_RULES,
  shlexQuote,
} from '../../lib/render/ini.ts'

/** Runs `fn`, expecting an InputError whose message names `field` and shows `value`. */
function assertRejected(fn: () => unknown, field: string, value: string, allowed: RegExp): InputError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, InputError)
    const inputError = error as InputError
    assert.ok(inputError.message.includes(`${field}: got ${showValue(value)}`), `message names field and value: ${inputError.message}`)
    assert.match(inputError.message, allowed)
    assert.is(inputError.exitCode, 2)
    return inputError
  }
  assert.unreachable(`expected ${showValue(value)} to be rejected`)
  throw new Error('unreachable')
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

const hostileValues: Array<[string, string, RegExp]> = [
  ['newline injection', 'x\n[program:evil]\ncommand=/bin/touch /tmp/pwned', /control characters/],
  ['carriage return', 'x\r[program:evil]', /control characters/],
  ['NUL', 'a\0b', /control characters/],
  ['tab', 'a\tb', /control characters/],
  ['unicode line separator', 'a\u2028b', /control characters/],
  ['space semicolon', 'sh -c a ;b', /no ';' or '#' right after a space/],
  ['space hash', 'value #comment', /no ';' or '#' right after a space/],
  ['no-break space semicolon', 'a\u00a0;b', /no ';' or '#' right after a space/],
  ['leading space', ' lead', /no leading or trailing whitespace/],
  ['trailing space', 'trail ', /no leading or trailing whitespace/],
  ['here expansion', 'in %(here)s', /no '%\(here\)s'/],
]

for (const [name, value, allowed] of hostileValues) {
  test(`encodeIniValue rejects ${name}`, () => {
    assertRejected(() => encodeIniValue(value, FIELD), FIELD, value, allowed)
  })
}

test('encodeIniValue reports every problem of a value at once', () => {
  const error = assertRejected(() => encodeIniValue(' a ;b\n', FIELD), FIELD, ' a ;b\n', /control characters/)
  assert.equal(
    error.problems.map((p) => p.allowed.slice(0, 12)),
    ['text without', "no ';' or '#", 'no leading o'],
  )
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
  ['order kept and comma joined', [['B', '2'], ['A', '1'], ['_c9', '3']], 'B="2",A="1",_c9="3"'],
  ['no pairs', [], ''],
]

for (const [name, pairs, encoded] of acceptedEnvironments) {
  test(`encodeEnvironment: ${name}`, () => {
    assert.is(encodeEnvironment(pairs, ENV), encoded)
  })
}

const hostileEnvironments: Array<[string, string, string, RegExp]> = [
  ['newline injection', 'A', 'x"\n[program:evil]\ncommand=/bin/touch /tmp/pwned', /control characters/],
  ['carriage return', 'A', 'x\ry', /control characters/],
  ['NUL', 'A', 'x\0y', /control characters/],
  ['space semicolon', 'A', 'a ;b', /no ';' or '#' right after a space/],
  ['space hash', 'A', 'a #b', /no ';' or '#' right after a space/],
  ['both quote kinds', 'A', `it's "x" here`, /not both/],
  ['leading double quote', 'A', '"x', /does not start or end with a quote/],
  ['trailing single quote', 'A', "x'", /does not start or end with a quote/],
  ['here expansion', 'A', '%(here)s/x', /no '%\(here\)s'/],
]

for (const [name, key, value, allowed] of hostileEnvironments) {
  test(`encodeEnvironment rejects ${name}`, () => {
    assertRejected(() => encodeEnvironment([[key, value]], ENV), `${ENV}.${key}`, value, allowed)
  })
}

const badKeys = ['1A', 'A-B', 'A B', '', 'A=B', 'É']

for (const key of badKeys) {
  test(`encodeEnvironment rejects key ${showValue(key)}`, () => {
    assertRejected(() => encodeEnvironment([[key, 'v']], ENV), `${ENV}.${key}`, key, /\^\[A-Za-z_\]/)
  })
}

test('environmentProblems lists the problems of every pair', () => {
  const problems = environmentProblems(
    [
      ['GOOD', 'fine'],
      ['A', 'x\ny'],
      ['B', `"q'`],
    ],
    ENV,
  )
  assert.equal(
    problems.map((p) => p.field),
    [`${ENV}.A`, `${ENV}.B`, `${ENV}.B`],
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
  [['/srv/runner.sh', "it's"], "/srv/runner.sh 'it'\\''s'"],
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
  assertRejected(() => encodeIniCommand(['/srv/runner.sh', 'a ;b'], 'command'), 'command', "/srv/runner.sh 'a ;b'", /no ';'/)
})

test('shlexQuote leaves safe words alone', () => {
  assert.is(shlexQuote('a-b_c.d/e:f,g+h=i@j%'), 'a-b_c.d/e:f,g+h=i@j%')
})

test('INI_RULES describes each rule for the docs', () => {
  assert.ok(INI_RULES.length >= 8)
  for (const rule of INI_RULES) assert.type(rule, 'string')
})

test.run()
