import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { replayCommand } from '../../lib/cli/program-answers.ts'
import { parseInventory } from '../../lib/inventory/load.ts'
import { addProgram } from '../../lib/inventory/program-edits.ts'
import { validateInventory } from '../../lib/inventory/validate.ts'
import { displayEnvironment, fingerprintKeyPath, fingerprintValue, loadFingerprintKey } from '../../lib/redact.ts'
import { renderProgramFiles } from '../../lib/render/program-files.ts'
import { resolveEnvironmentRefs, resolveScopeEnvironment, sameIgnoringUnknown } from '../../lib/secrets.ts'
import type { Inventory, Problem, Server } from '../../lib/types.ts'
import { inputError } from '../helpers/input-error.ts'

const KEY_DIR = mkdtempSync(join(tmpdir(), 'zxs-secrets-test-'))
const TEMPLATES = new URL('../../templates/', import.meta.url).pathname
const ENV_FIELD = 'sites[0].supervisors[0].environment.STRIPE_SECRET'

const withEnvironment = (environment: Record<string, unknown>) => ({
  servers: [
    { name: 'web-1', host: '203.0.113.10' },
    { name: 'web-2', host: '203.0.113.11' },
  ],
  sites: [
    { domain: 'a.test', server: 'web-1', supervisors: [{ program: 'billing', script: 'billing.sh', environment }] },
    {
      domain: 'b.test',
      server: 'web-2',
      supervisors: [
        { program: 'mailer', script: 'mailer.sh', environment: { SMTP_PASSWORD: { from_env: 'SMTP_PASSWORD' } } },
      ],
    },
  ],
})

function load(environment: Record<string, unknown>): { inventory: Inventory; problems: Problem[] } {
  return validateInventory(withEnvironment(environment))
}

const problemAt = (problems: Problem[], field: string) => problems.find((problem) => problem.field.startsWith(field))

test.after(() => rmSync(KEY_DIR, { recursive: true, force: true }))

// --- The rulebook, through the loader ------------------------------------------------------------------------

test('{ from_env: NAME } loads as a reference; a plain string stays a literal', () => {
  const { inventory, problems } = load({ STRIPE_SECRET: { from_env: 'STRIPE_SECRET' }, QUEUE: 'from_env' })
  assert.equal(problems, [])
  assert.equal(inventory.sites[0]?.supervisors[0]?.environment, {
    STRIPE_SECRET: { fromEnv: 'STRIPE_SECRET' },
    QUEUE: 'from_env',
  })
})

test('a reference with a bad variable name is refused, the name shown only as a fingerprint', () => {
  for (const name of ['STRIPE-SECRET', '1ABC', '', 'sk_live has spaces']) {
    const problem = problemAt(load({ STRIPE_SECRET: { from_env: name } }).problems, `${ENV_FIELD}.from_env`)
    assert.ok(problem, `refused: ${name}`)
    assert.match(String(problem?.value), /^\[REDACTED [0-9a-f]{8}\]$/)
    assert.match(problem?.allowed ?? '', 'from_env: VAR')
  }
})

test('a reference mapping with other keys is refused, every value in it fingerprinted', () => {
  const problem = problemAt(
    load({ STRIPE_SECRET: { from_env: 'STRIPE_SECRET', default: 'sk_live_123' } }).problems,
    ENV_FIELD,
  )
  assert.ok(problem)
  assert.not.match(JSON.stringify(problem), 'sk_live_123')
  assert.match(problem?.hint ?? '', 'the one key from_env (got from_env, default)')
  const misspelt = problemAt(load({ STRIPE_SECRET: { fromEnv: 'STRIPE_SECRET' } }).problems, ENV_FIELD)
  assert.match(misspelt?.hint ?? '', 'write from_env, not fromEnv')
})

test('a reference to a non-string, and a list, are refused with the reference form in what is allowed', () => {
  for (const value of [{ from_env: 42 }, { from_env: null }, { from_env: ['A'] }]) {
    const problem = problemAt(load({ STRIPE_SECRET: value }).problems, `${ENV_FIELD}.from_env`)
    assert.ok(problem, JSON.stringify(value))
    assert.match(String(problem?.value), /^\[REDACTED /)
  }
  const list = problemAt(load({ STRIPE_SECRET: ['sk_live_123'] }).problems, ENV_FIELD)
  assert.match(list?.allowed ?? '', '{ from_env: VAR }')
  assert.not.match(JSON.stringify(list), 'sk_live_123')
})

// --- Keyed fingerprints --------------------------------------------------------------------------------------

test('fingerprints are keyed: same value and key → same; another key → different; not the plain SHA-256', () => {
  const one = Buffer.alloc(32, 1)
  const two = Buffer.alloc(32, 2)
  assert.is(fingerprintValue('hunter2', one), fingerprintValue('hunter2', one))
  assert.is.not(fingerprintValue('hunter2', one), fingerprintValue('hunter2', two))
  assert.is.not(fingerprintValue('hunter2', one), fingerprintValue('hunter3', one))
  assert.is.not(fingerprintValue('hunter2', one), '[REDACTED f52fbd32]', 'not sha256("hunter2")')
})

test('the key file is created on first use: 32 random bytes, mode 0600, in a 0700 directory; then reused', () => {
  const file = join(KEY_DIR, 'fresh', 'fingerprint.key')
  const key = loadFingerprintKey(file)
  assert.is(key.length, 32)
  assert.is((statSync(file).mode & 0o777).toString(8), '600')
  assert.is((statSync(join(KEY_DIR, 'fresh')).mode & 0o777).toString(8), '700')
  assert.equal(loadFingerprintKey(file), key)
  assert.equal(readFileSync(file), key)
})

test('a key file others can read, or a too-short one, is refused with the fix', () => {
  const file = join(KEY_DIR, 'shared.key')
  writeFileSync(file, Buffer.alloc(32, 7))
  chmodSync(file, 0o644)
  const error = inputError(() => loadFingerprintKey(file))
  assert.match(error.message, 'mode 0644')
  assert.match(error.message, `chmod 600 ${file}`)
  const short = join(KEY_DIR, 'short.key')
  writeFileSync(short, 'abc', { mode: 0o600 })
  assert.match(inputError(() => loadFingerprintKey(short)).message, 'at least 32 bytes')
})

test('the key lives in ~/.config/zx-supervisor unless $ZXS_FINGERPRINT_KEY_FILE names one', () => {
  assert.match(fingerprintKeyPath({}), /\/\.config\/zx-supervisor\/fingerprint\.key$/)
  assert.is(fingerprintKeyPath({ ZXS_FINGERPRINT_KEY_FILE: '/srv/k' }), '/srv/k')
})

test('a diff shows the same fingerprint as a refusal of the same value (decoded: quotes and %% undone)', () => {
  const key = Buffer.alloc(32, 3)
  const line = `environment=A="100%% sure",B='say "hi"',C="unknown (STRIPE_SECRET unset)"`
  assert.is(
    displayEnvironment(line, () => false, key),
    `environment=A=${fingerprintValue('100% sure', key)},B=${fingerprintValue('say "hi"', key)},C=unknown (STRIPE_SECRET unset)`,
  )
})

// --- Resolution -------------------------------------------------------------------------------------------------

test('require: an unset variable is an InputError naming the variable, the field and the program', () => {
  const { inventory } = load({ STRIPE_SECRET: { from_env: 'STRIPE_SECRET' } })
  const error = inputError(() => resolveEnvironmentRefs(inventory, [inventory.sites[0]!], {}, { mode: 'require' }))
  assert.is(error.problems.length, 1)
  assert.is(error.problems[0]?.field, ENV_FIELD)
  assert.match(error.message, '$STRIPE_SECRET is not set')
  assert.match(error.message, 'a.test-billing')
  const empty = inputError(() =>
    resolveEnvironmentRefs(inventory, [inventory.sites[0]!], { STRIPE_SECRET: '' }, { mode: 'require' }),
  )
  assert.match(empty.message, 'set but empty')
})

test("only the sites given are resolved: a run of site A does not need B's variables", () => {
  const { inventory } = load({ STRIPE_SECRET: { from_env: 'STRIPE_SECRET' }, QUEUE: 'high' })
  const { sites, unknown } = resolveEnvironmentRefs(
    inventory,
    [inventory.sites[0]!],
    { STRIPE_SECRET: 'sk_test_1' },
    { mode: 'require' },
  )
  assert.equal(unknown, [])
  assert.equal(sites[0]?.supervisors[0]?.environment, { STRIPE_SECRET: 'sk_test_1', QUEUE: 'high' })
  assert.equal(
    inventory.sites[0]?.supervisors[0]?.environment.STRIPE_SECRET,
    { fromEnv: 'STRIPE_SECRET' },
    'the inventory model is not changed',
  )
  const scope = { servers: inventory.servers.filter((s) => s.name === 'web-1'), sitesOn: () => [inventory.sites[0]!] }
  const scoped = resolveScopeEnvironment(inventory, scope, { STRIPE_SECRET: 'sk_test_1' }, { mode: 'require' })
  assert.equal(scoped.sitesOn(inventory.servers[0]!)[0]?.supervisors[0]?.environment.STRIPE_SECRET, 'sk_test_1')
  // With every server in scope, site B's unset variable is needed too.
  const sitesOn = (s: Server) => inventory.sites.filter((site) => site.servers.includes(s.name))
  const everyServer = { servers: inventory.servers, sitesOn }
  inputError(() => resolveScopeEnvironment(inventory, everyServer, { STRIPE_SECRET: 'x' }, { mode: 'require' }))
})

test('allow-unknown: the value renders as "unknown (VAR unset)" and is listed; nothing is thrown', () => {
  const { inventory } = load({ STRIPE_SECRET: { from_env: 'STRIPE_SECRET' } })
  const { sites, unknown } = resolveEnvironmentRefs(inventory, [inventory.sites[0]!], {}, { mode: 'allow-unknown' })
  assert.equal(unknown, [
    { field: ENV_FIELD, program: 'a.test-billing', key: 'STRIPE_SECRET', variable: 'STRIPE_SECRET', reason: 'unset' },
  ])
  const [conf] = renderProgramFiles({
    templatesDir: TEMPLATES,
    server: inventory.servers[0]!,
    site: sites[0]!,
    program: sites[0]!.supervisors[0]!,
  })
  assert.match(conf?.content ?? '', 'STRIPE_SECRET="unknown (STRIPE_SECRET unset)"')
})

test('a resolved value is checked by the rulebook like a literal, and shown only as its fingerprint', () => {
  const { inventory } = load({ STRIPE_SECRET: { from_env: 'STRIPE_SECRET' } })
  for (const mode of ['require', 'allow-unknown'] as const) {
    const error = inputError(() =>
      resolveEnvironmentRefs(inventory, [inventory.sites[0]!], { STRIPE_SECRET: 'sk ;live' }, { mode }),
    )
    assert.is(error.problems[0]?.field, ENV_FIELD)
    assert.is(error.problems[0]?.value, fingerprintValue('sk ;live'))
    assert.match(error.message, '(the value comes from $STRIPE_SECRET)')
    assert.not.match(error.message, 'sk ;live')
  }
})

test('rendering an unresolved reference is refused with the step to call', () => {
  const { inventory } = load({ STRIPE_SECRET: { from_env: 'STRIPE_SECRET' } })
  const error = inputError(() =>
    renderProgramFiles({
      templatesDir: TEMPLATES,
      server: inventory.servers[0]!,
      site: inventory.sites[0]!,
      program: inventory.sites[0]!.supervisors[0]!,
    }),
  )
  assert.match(error.message, 'resolveEnvironmentRefs')
})

test('comparing with unknown values masked: only what the run knows can differ', () => {
  const rendered =
    '[program:x]\nenvironment=HOME="/home/d",STRIPE_SECRET="unknown (STRIPE_SECRET unset)",QUEUE="high"\n'
  assert.ok(
    sameIgnoringUnknown('[program:x]\nenvironment=HOME="/home/d",STRIPE_SECRET="sk_live_1",QUEUE="high"\n', rendered),
  )
  assert.not.ok(
    sameIgnoringUnknown('[program:x]\nenvironment=HOME="/home/d",STRIPE_SECRET="sk_live_1",QUEUE="low"\n', rendered),
    'a known value differs',
  )
  assert.not.ok(
    sameIgnoringUnknown('[program:x]\nenvironment=HOME="/home/d",QUEUE="high"\n', rendered),
    'the variable is missing on the server',
  )
  assert.ok(sameIgnoringUnknown('a\n', 'a\n'))
  assert.not.ok(sameIgnoringUnknown('a\n', 'b\n'))
})

// --- Writing references ---------------------------------------------------------------------------------------

test('addProgram writes a reference as { from_env: VAR }, inline, and it loads back as the same reference', () => {
  const text =
    'servers:\n  - name: web-1\n    host: 203.0.113.10\nsites:\n  - domain: a.test\n    server: web-1\n    supervisors:\n      - program: one\n        script: one.sh\n'
  const loaded = { path: 'inventory.yml', text, ...parseInventory(text, 'inventory.yml') }
  const added = addProgram(loaded, 'a.test', {
    program: 'billing',
    script: 'billing.sh',
    autostart: true,
    autorestart: true,
    stopwaitsecs: 3600,
    numprocs: 1,
    environment: { QUEUE: 'high', STRIPE_SECRET: { fromEnv: 'STRIPE_LIVE_SECRET' } },
  })
  assert.ok(added.startsWith(text))
  assert.match(
    added,
    '        environment:\n          QUEUE: high\n          STRIPE_SECRET: { from_env: STRIPE_LIVE_SECRET }\n',
  )
  assert.equal(parseInventory(added, 'inventory.yml').inventory.sites[0]?.supervisors[1]?.environment, {
    QUEUE: 'high',
    STRIPE_SECRET: { fromEnv: 'STRIPE_LIVE_SECRET' },
  })
})

test('the replay command repeats a reference with --env-from-env (KEY alone when the names agree)', () => {
  const replay = replayCommand(
    'a.test',
    {
      program: 'b',
      script: 'b.sh',
      autostart: true,
      autorestart: true,
      stopwaitsecs: 1,
      numprocs: 1,
      environment: { STRIPE_SECRET: { fromEnv: 'STRIPE_SECRET' }, DB: { fromEnv: 'PROD_DB' } },
    },
    'inv.yml',
  )
  assert.match(replay, '--env-from-env STRIPE_SECRET --env-from-env DB=PROD_DB')
})

test.run()
