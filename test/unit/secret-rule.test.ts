import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { replayCommand } from '../../lib/cli/program-answers.ts'
import { displayValue, fingerprintValue, isSecretName, redactEnvironment } from '../../lib/redact.ts'

// The one rule of what output shows of a value (lib/redact.ts): a literal of the inventory in the clear, unless its
// key looks like a secret or it holds credentials in a URL; a { from_env } value or one of unknown origin, never.

// The replay fingerprints with the run's key: a key of the test's own, never the user's.
const KEY_DIR = mkdtempSync(join(tmpdir(), 'zxs-secret-rule-'))
process.env.ZXS_FINGERPRINT_KEY_FILE = join(KEY_DIR, 'fingerprint.key')
test.after(() => rmSync(KEY_DIR, { recursive: true, force: true }))

const KEY = Buffer.alloc(32, 9)
const fingerprint = (value: string) => fingerprintValue(value, KEY)

const names: Array<[string, boolean]> = [
  ['QUEUE', false],
  ['HOME', false],
  ['USER', false],
  ['DEPLOYER_BRANCH', false],
  ['PORT', false],
  ['APP_ENV', false],
  ['DATABASE_URL', false],
  ['APP_KEY', true],
  ['api_key', true],
  ['STRIPE_SECRET', true],
  ['client_secret', true],
  ['API_TOKEN', true],
  ['GITHUB_TOKEN', true],
  ['DB_PASSWORD', true],
  ['PASSPHRASE', true],
  ['SMTP_PASS', true],
  ['DB_PWD', true],
  ['AUTH_HEADER', true],
  ['OAUTH_CLIENT', true],
  ['AWS_CREDENTIALS', true],
  ['PRIVATE_PEM', true],
  ['SENTRY_DSN', true],
  ['Sentry_Dsn', true],
]

for (const [name, secret] of names) {
  test(`the secret-name rule: ${name} ${secret ? 'looks like a secret' : 'does not'}`, () => {
    assert.is(isSecretName(name), secret)
  })
}

const values: Array<[string, string, 'literal' | 'from_env', 'shown' | 'fingerprint']> = [
  ['QUEUE', 'high', 'literal', 'shown'],
  ['HOME', '/home/deployer', 'literal', 'shown'],
  ['SITE_URL', 'https://example.com/path?q=1', 'literal', 'shown'],
  ['GIT_REMOTE', 'git@github.com:org/app.git', 'literal', 'shown'],
  ['API_TOKEN', 'abc', 'literal', 'fingerprint'],
  ['APP_KEY', 'base64:xyz', 'literal', 'fingerprint'],
  ['DATABASE_URL', 'postgres://app:pw@db:5432/app', 'literal', 'fingerprint'],
  ['REDIS_URL', 'redis://:pw@cache:6379', 'literal', 'fingerprint'],
  ['UPSTREAM', 'see https://bot:pw@git.example.com/app.git', 'literal', 'fingerprint'],
  ['QUEUE', 'high', 'from_env', 'fingerprint'],
  ['DB_PASSWORD', 'hunter2', 'from_env', 'fingerprint'],
  ['STRIPE_SECRET', 'unknown (STRIPE_SECRET unset)', 'from_env', 'shown'],
]

for (const [name, value, origin, expected] of values) {
  test(`${name}=${value} (${origin}) is ${expected}`, () => {
    assert.is(displayValue(name, value, origin === 'literal', KEY), expected === 'shown' ? value : fingerprint(value))
  })
}

test("supervisor-create's replay shows literals, fingerprints secret-looking ones, and names references", () => {
  const environment = redactEnvironment({
    QUEUE: 'high',
    API_TOKEN: 'abc-123',
    DSN_URL: 'mysql://u:p@h/d',
    DB_PASSWORD: { fromEnv: 'PROD_DB' },
  })
  const replay = replayCommand(
    'a.test',
    { program: 'b', script: 'b.sh', autostart: true, autorestart: true, stopwaitsecs: 1, numprocs: 1, environment },
    'inv.yml',
  )
  assert.match(replay, '--env QUEUE=high ')
  assert.match(replay, /--env 'API_TOKEN=\[REDACTED [0-9a-f]{8}\]'/)
  assert.match(replay, /--env 'DSN_URL=\[REDACTED [0-9a-f]{8}\]'/)
  assert.match(replay, '--env-from-env DB_PASSWORD=PROD_DB')
  assert.not.match(replay, 'abc-123')
  assert.not.match(replay, 'u:p@h')
})

test.run()
