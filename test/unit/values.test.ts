import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatProblem, showValue } from '../../lib/errors.ts'
import { fingerprintValue } from '../../lib/redact.ts'
import {
  type Check,
  type CheckOptions,
  checkAbsolutePath,
  checkAutorestart,
  checkBoolean,
  checkBranch,
  checkConnection,
  checkDomain,
  checkEnvKey,
  checkEnvValue,
  checkFilePath,
  checkHost,
  checkIniName,
  checkIniValue,
  checkNonNegativeInt,
  checkPhpVersion,
  checkPort,
  checkPositiveInt,
  checkProgramEnvKey,
  checkProgramName,
  checkRepo,
  checkScript,
  checkServerName,
  checkStopSignal,
  checkTemplateName,
  checkUsername,
  describeBadChar,
} from '../../lib/values.ts'

const BAD = Symbol('bad')
type Case = [input: unknown, expected: unknown]

const CYRILLIC_E = '\u0435' // looks like Latin 'e'
const LONG = 'a'.repeat(300)
const WRONG_TYPES: Case[] = [
  [null, BAD],
  [undefined, BAD],
  [[], BAD],
  [{}, BAD],
  [['a'], BAD],
  [{ a: 1 }, BAD],
]
// Hostile strings no name, domain or path may contain.
const HOSTILE: Case[] = [
  'a\nb',
  'a\rb',
  'a\0b',
  'a\tb',
  'a ;b',
  'a #b',
  'a b',
  "a'b",
  'a"b',
  'a`id`',
  '$(id)',
  'a;b',
  'a|b',
  'a&b',
  '../x',
  'a:b',
  'a]b',
  'a[b',
  'a%b',
  'a\\b',
  'a\u2028b',
  `${CYRILLIC_E}xample`,
  '',
  ' a',
  'a ',
].map((value) => [value, BAD])

function table<T>(name: string, check: Check<T>, cases: Case[], options?: CheckOptions): void {
  test(name, () => {
    for (const [input, expected] of cases) {
      const result = check(input, 'field.path', options)
      const shown = JSON.stringify(input) ?? String(input)
      if (expected === BAD) {
        assert.not.ok(result.ok, `${name} accepted ${shown}`)
        if (!result.ok) {
          assert.is(result.problem.field, 'field.path')
          // An environment value may be a secret: it is shown only as its fingerprint.
          const shownValue =
            check === checkEnvValue
              ? fingerprintValue(typeof input === 'string' ? input : (JSON.stringify(input) ?? String(input)))
              : input
          assert.ok(Object.is(result.problem.value, shownValue), `${name}: problem value of ${shown}`)
          assert.ok(result.problem.allowed.length > 5, `${name}: no "allowed" for ${shown}`)
          assert.ok((result.problem.hint ?? '').length > 3, `${name}: no hint for ${shown}`)
          // The message names the field and the value, says what is allowed, and gives the hint.
          const { value, allowed, hint } = result.problem
          const message = `field.path: got ${showValue(value)}; allowed: ${allowed}. Hint: ${hint}`
          assert.is(formatProblem(result.problem), message)
        }
      } else {
        assert.ok(result.ok, `${name} refused ${shown}: ${result.ok ? '' : formatProblem(result.problem)}`)
        if (result.ok) assert.equal(result.value, expected, `${name}(${shown})`)
      }
    }
  })
}

const same = (...values: unknown[]): Case[] => values.map((value) => [value, value])
const bad = (...values: unknown[]): Case[] => values.map((value) => [value, BAD])

table('checkServerName', checkServerName, [
  ...same('production', 'web-1', 'WEB_2', 'a', 'x'.repeat(64), '007'),
  ...bad('x'.repeat(65), 'web.1', '-', '-web', 'a/b', 42, true, 'web 1', LONG),
  ...HOSTILE,
  ...WRONG_TYPES,
])

table('checkProgramName', checkProgramName, [
  ...same('queue-worker', 'ws_2', 'ALLx', 'x'.repeat(64)),
  ...bad('all', 'ALL', '-q', 'x'.repeat(65), 'queue.worker', 'queue worker', 3),
  ...HOSTILE,
  ...WRONG_TYPES,
])

table('checkUsername', checkUsername, [
  ...same('root', 'deployer', '_svc', 'www-data', 'a1', 'x'.repeat(32)),
  ...bad('Deployer', '1user', '-user', 'x'.repeat(33), 'dep.loyer', 'dep$', 0),
  ...HOSTILE,
  ...WRONG_TYPES,
])

table('checkDomain', checkDomain, [
  ...same(
    'example.com',
    'a.b.c.example.co.uk',
    'xn--e1afmkfd.xn--p1ai',
    'localhost',
    'app.test',
    '1.example.com',
    'a.com-b',
    `${'a'.repeat(63)}.com`,
  ),
  ...bad(
    'Example.com',
    'all',
    'https://example.com',
    'example.com/',
    '.example.com',
    'example.com.',
    'a..com',
    '-a.com',
    'a-.com',
    'a_b.com',
    '*.example.com',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}a`,
    `${CYRILLIC_E}xample.com`,
    'example.com:8080',
    'example.com\n',
    42,
  ),
  ...HOSTILE,
  ...WRONG_TYPES,
])

table('checkHost', checkHost, [
  ...same(
    '203.0.113.10',
    '::1',
    '2001:db8::1',
    'worker-1.example.net',
    'web_1',
    'prod',
    'local',
    'EXAMPLE.com',
    'a'.repeat(63),
  ),
  ...bad(
    '[::1]',
    'root@host',
    'host:22',
    '999.1.1.1',
    '1.2.3',
    '-oProxyCommand=id',
    'a..b',
    '.a',
    'a.',
    'a-.b',
    'x'.repeat(254),
    `${CYRILLIC_E}xample.com`,
    'host name',
    22,
  ),
  ...HOSTILE,
  ...WRONG_TYPES,
])

table('checkPort', checkPort, [
  ...same(22, 1, 65535, 2222),
  ...bad(0, 65536, -1, 22.5, '22', '22a', 'ssh', Infinity, NaN, true),
  ...WRONG_TYPES,
])
table(
  'checkPort (flag)',
  checkPort,
  [[22, 22], ['22', 22], ['022', 22], ...bad('22a', ' 22', '', '0x16', '2e1', '-22', '0')],
  { fromFlag: true },
)

table('checkPositiveInt', checkPositiveInt, [
  ...same(1, 2, 3600, Number.MAX_SAFE_INTEGER),
  ...bad(0, -1, 1.5, '3', '03', 'three', Infinity, Number.MAX_SAFE_INTEGER + 2, false),
  ...WRONG_TYPES,
])
// From flags "03" is 3, as DeployerPHP's ctype_digit check accepted it.
table(
  'checkPositiveInt (flag)',
  checkPositiveInt,
  [
    [3, 3],
    ['3', 3],
    ['03', 3],
    ['3600', 3600],
    ...bad('0', '', ' 3', '3 ', '+3', '-3', '3.0', '1e3', '0x10', '3;', '３'),
  ],
  { fromFlag: true },
)

table('checkNonNegativeInt', checkNonNegativeInt, [...same(0, 1, 999), ...bad(-1, 0.5, '0'), ...WRONG_TYPES])

table('checkBoolean', checkBoolean, [
  ...same(true, false),
  ...bad('true', 'false', 'yes', 'no', 'on', 'off', 1, 0, 'True'),
  ...WRONG_TYPES,
])
table(
  'checkBoolean (flag)',
  checkBoolean,
  [
    [true, true],
    [false, false],
    ['true', true],
    ['FALSE', false],
    ['yes', true],
    ['no', false],
    ['on', true],
    ['off', false],
    ['1', true],
    ['0', false],
    [1, true],
    [0, false],
    ...bad('maybe', '', 'y', 2),
  ],
  { fromFlag: true },
)

table('checkAutorestart', checkAutorestart, [
  ...same(true, false, 'unexpected'),
  ['UNEXPECTED', 'unexpected'],
  ...bad('true', 'always', 1, 'unexpected '),
  ...WRONG_TYPES,
])
table('checkAutorestart (flag)', checkAutorestart, [['false', false], ['unexpected', 'unexpected'], ...bad('x')], {
  fromFlag: true,
})

table('checkStopSignal', checkStopSignal, [
  ['TERM', 'TERM'],
  ['SIGTERM', 'TERM'],
  ['term', 'TERM'],
  ['SIGQUIT', 'QUIT'],
  ['HUP', 'HUP'],
  ['INT', 'INT'],
  ['KILL', 'KILL'],
  ['USR1', 'USR1'],
  ['sigusr2', 'USR2'],
  ...bad('15', 15, 'STOP', 'SIG', 'TERM ', 'TERM\n', 'SIGSIGTERM', ''),
  ...WRONG_TYPES,
])

table('checkEnvKey', checkEnvKey, [
  ...same('APP_ENV', '_X', 'a1', 'HOME', 'DEPLOYER_X'),
  ...bad('1A', 'A-B', 'A B', 'A=B', 'A.B', `${CYRILLIC_E}NV`, 'x'.repeat(256)),
  ...HOSTILE,
  ...WRONG_TYPES,
])
table('checkProgramEnvKey', checkProgramEnvKey, [
  ...same('APP_ENV', 'HOMEPAGE', 'USERNAME', 'DEPLOYERX'),
  ...bad('HOME', 'USER', 'DEPLOYER_PHP', 'DEPLOYER_', '1A'),
])

table('checkEnvValue', checkEnvValue, [
  ...same(
    'production',
    '',
    'a b',
    'high,default',
    '100%',
    '%(ENV_X)s',
    'a;b',
    'pre#hash;x',
    'a=b',
    'x:y',
    "it's",
    'say "hi" now',
    '$(id)',
    '`id`',
    '$HOME',
    'a\\b',
    '/usr/bin:/bin',
    `${CYRILLIC_E}`,
    'x'.repeat(8192),
  ),
  [8080, '8080'],
  [1.5, '1.5'],
  [true, 'true'],
  [false, 'false'],
  [0, '0'],
  ...bad(
    'a\nb',
    'a\rb',
    'a\0b',
    'a\tb',
    'a\u0007',
    'a\u2029b',
    'a\u0085b',
    'a ;b',
    'a #b',
    'a\t#b',
    'a ;',
    "'quoted'",
    '"quoted"',
    "'x",
    'x"',
    `it's "both"`,
    'x'.repeat(8193),
    'q%(here)s',
    NaN,
    Infinity,
  ),
  ...WRONG_TYPES,
])

table('checkScript', checkScript, [
  ...same('queue-worker.sh', 'workers/mail.sh', 'a/b/c.py', '.hidden.sh', 'v1.2_x-y', 'x'.repeat(255)),
  ...bad(
    '.deployer/supervisors/queue-worker.sh',
    '/etc/passwd',
    '../x.sh',
    'a/../b',
    './a',
    'a/./b',
    'a//b',
    'a/',
    '-x.sh',
    'a/-x',
    'my script.sh',
    'a;b',
    'a:b',
    'a$b',
    '~/x',
    'x'.repeat(256),
    7,
  ),
  ...HOSTILE,
  ...WRONG_TYPES,
])

table('checkAbsolutePath', checkAbsolutePath, [
  ...same('/home/deployer/sites', '/srv/example.com', '/a', '/var/www/app-1_x'),
  ...bad(
    'relative/path',
    '/',
    '/a/../b',
    '/a/./b',
    '/a//b',
    '/a/',
    '/a b',
    '/a:b',
    '~/sites',
    '/a;b',
    '/a\nb',
    `/${CYRILLIC_E}`,
    `/${'x'.repeat(1024)}`,
    '',
  ),
  ...HOSTILE,
  ...WRONG_TYPES,
])

table('checkFilePath', checkFilePath, [
  ...same('~/.ssh/id_ed25519', '/root/.ssh/key', 'keys/my key'),
  ...bad('', '-i', 'a\nb', 'a\0b', 'x'.repeat(4097), 3),
  ...WRONG_TYPES,
])

table('checkPhpVersion', checkPhpVersion, [
  ...same('8.3', '8.10', '7.4'),
  ...bad(8.3, 8, '8', '8.3.1', 'php8.3', ' 8.3', '8.x', ''),
  ...WRONG_TYPES,
])

table('checkBranch', checkBranch, [
  ...same('main', 'release/1.2', 'feature-x_y', 'v1.0.0', "it's-main", 'say"hi', '100%'),
  ...bad(
    '-main',
    'a b',
    'a..b',
    'a~1',
    'a^',
    'a:b',
    'a?',
    'a*',
    'a[b',
    'a\\b',
    '/a',
    'a/',
    'a//b',
    'a.',
    'a.lock',
    '.hidden',
    'a/.b',
    '@',
    'a@{1}',
    'a\nb',
    'x'.repeat(256),
    '',
    "'main",
    'main"',
    `it's"x`,
    'x%(here)s',
  ),
  ...WRONG_TYPES,
])

table('checkRepo', checkRepo, [
  ...same('git@github.com:acme/app.git', 'https://github.com/acme/app.git', '/srv/git/app.git', 'ssh://git@h:2222/a'),
  ...bad('', '-uhttps://x', 'ext::sh -c id', 'fd::3', 'a b', 'a\nb', 'x'.repeat(1025)),
  ...WRONG_TYPES,
])

table('checkTemplateName', checkTemplateName, [
  ...same('websockets', 'queue/high-memory', 'a_b'),
  ...bad('../x', '/abs', 'a/', 'a//b', 'a.hbs', 'a b'),
  ...WRONG_TYPES,
])

table('checkIniValue', checkIniValue, [
  ...same('plain', 'a;b', 'pre#hash;x', '100%', '%(program_name)s', `it's "quoted"`, 'in side', ''),
  ...bad('a\nb', 'a\0b', 'a\tb', 'a ;b', 'a #b', 'a\u00a0;b', ' lead', 'trail ', 'in %(here)s', 1),
])

table('checkIniName', checkIniName, [
  ...same('example.com-queue_worker', 'a', 'A.B-9_z'),
  ...bad('my prog', 'a:b', 'a/b', 'a]', '[a', '', 'é', 'a\nb', 'a;b', 'a%b'),
])

table('checkConnection', checkConnection, [...same('ssh', 'local'), ...bad('SSH', 'docker', '')])

test('problems explain the fix', () => {
  const hints: Array<[CheckResultHint, RegExp]> = [
    [checkDomain('Example.com', 'd'), /use lowercase: 'example.com'/],
    [checkDomain(`${CYRILLIC_E}xample.com`, 'd'), /non-ASCII character .*U\+0435/],
    [checkScript('.deployer/supervisors/a.sh', 's'), /leave out the \.deployer\/supervisors\/ prefix: 'a\.sh'/],
    [checkPositiveInt('3', 'n'), /without quotes/],
    [checkBoolean('yes', 'b'), /'yes' is text here, not a boolean; write true/],
    [checkServerName(123, 'n'), /in quotes/],
    [checkHost('root@h', 'h'), /username/],
    [checkEnvValue('a ;b', 'e'), /whitespace/],
    [checkEnvValue('a\nb', 'e'), /newline at position 2/],
    [checkPhpVersion(8.3, 'p'), /'8\.3'/],
    [checkProgramEnvKey('DEPLOYER_X', 'k'), /sets HOME and USER/],
    [checkProgramEnvKey('HOME', 'k'), /set `user:`/],
    [checkEnvValue('x'.repeat(8193), 'e'), /8193 characters long/],
    [checkServerName(undefined, 'n'), /required/],
  ]
  for (const [result, pattern] of hints) {
    assert.not.ok(result.ok)
    if (!result.ok) assert.match(result.problem.hint ?? '', pattern)
  }
})

type CheckResultHint = ReturnType<Check<unknown>>

test('a refused environment value never appears in the problem, only its fingerprint', () => {
  for (const secret of [
    's3cr3t-pass ;x',
    's3cr3t\npass',
    '"s3cr3t-pass"',
    `s3cr3t'"pass`,
    `s3cr3t-pass${'x'.repeat(9000)}`,
  ]) {
    const result = checkEnvValue(secret, 'sites[0].supervisors[0].environment.DB_PASSWORD')
    assert.not.ok(result.ok)
    if (result.ok) continue
    const printed = `${formatProblem(result.problem)}\n${JSON.stringify(result.problem)}`
    assert.not.ok(printed.includes('s3cr3t'), printed)
    assert.match(printed, /\[REDACTED [0-9a-f]{8}\]/)
    assert.match(printed, /8192 characters at most/)
  }
})

test('describeBadChar names invisible characters', () => {
  assert.is(describeBadChar('ab\0', /[a-z]/), 'the NUL byte at position 3 is not allowed')
  assert.is(describeBadChar('a b', /[a-z]/), 'the space at position 2 is not allowed')
  assert.is(describeBadChar('a\u0007', /[a-z]/), 'the control character U+0007 at position 2 is not allowed')
  assert.is(describeBadChar('abc', /[a-z]/), undefined)
})

test.run()
