import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fingerprintValue, loadFingerprintKey } from '../../lib/redact.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  processesOn,
  startSandbox,
  type TestSandbox,
  WORKER,
  writeAppDir,
} from '../helpers/sandbox.ts'

// Environment values read from the operator's environment ({ from_env: VAR }), through the real tasks on a sandbox
// server: the value reaches the server without being in the inventory; unset, sync stops before any connection;
// status and --dry-run say "unknown (VAR unset)"; a changed value shows only as a keyed fingerprint, a literal as it is.

const secrets = suite<{
  sandbox: TestSandbox
  app: string
  env: Record<string, string>
  conf: string
  sshdLog: string
}>('environment values from the environment, on a sandbox server')
const FIRST = 'sk_test_first-value'
const SECOND = 'sk_test_second-value'

secrets.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.app = await writeAppDir(context.sandbox.dir, { 'billing.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: s.test
    server: sandbox-1
`,
  )
  const host = context.sandbox.host('sandbox-1')
  await deployApp(host, 's.test', { 'billing.sh': WORKER })
  // A key of the test's own, so fingerprints can be checked and no key is left in the user's home.
  context.env = { ZXS_FINGERPRINT_KEY_FILE: path.join(context.sandbox.dir, 'fingerprint.key') }
  context.conf = path.join(host.root, 'etc/supervisor/conf.d/s.test-billing.conf')
  context.sshdLog = path.join(host.root, 'var/log/sshd.log')
})

secrets.after(async ({ sandbox }) => {
  await sandbox?.down()
})

secrets(
  'supervisor-create --env-from-env writes { from_env: VAR } into the inventory, and the replay repeats the flag',
  async ({ sandbox, app, env }) => {
    const run = await runTask(
      'supervisor-create',
      [
        '--inventory',
        sandbox.inventory,
        '--domain',
        's.test',
        '--program',
        'billing',
        '--script',
        'billing.sh',
        '--app-dir',
        app,
        '--env',
        'QUEUE=high',
        '--env-from-env',
        'STRIPE_SECRET',
        '--env-from-env',
        'DB_PASSWORD=PROD_DB_PASSWORD',
        '--stopwaitsecs',
        '2',
      ],
      { env },
    )
    assert.is(run.exitCode, 0, run.all)
    const text = await fs.readFile(sandbox.inventory, 'utf8')
    assert.match(
      text,
      /environment:\n\s+QUEUE: high\n\s+STRIPE_SECRET: \{ from_env: STRIPE_SECRET \}\n\s+DB_PASSWORD: \{ from_env: PROD_DB_PASSWORD \}\n/,
    )
    assert.match(
      run.stdout,
      '--env QUEUE=high --env-from-env STRIPE_SECRET --env-from-env DB_PASSWORD=PROD_DB_PASSWORD',
    )
  },
)

secrets(
  'sync with a referenced variable unset: exit 2 naming the variable, the field and the program; nothing sent',
  async ({ sandbox, env, conf, sshdLog }) => {
    const sshdBefore = (await fs.stat(sshdLog)).size
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 's.test'], {
      env: { ...env, PROD_DB_PASSWORD: 'db-pass' },
    })
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, 'sites[0].supervisors[0].environment.STRIPE_SECRET')
    assert.match(run.stderr, '$STRIPE_SECRET is not set')
    assert.match(run.stderr, 's.test-billing')
    assert.not.match(run.all, 'db-pass')
    assert.is((await fs.stat(sshdLog)).size, sshdBefore, 'no connection reached the server (its sshd log did not grow)')
    assert.not.ok(await fs.stat(conf).catch(() => null), 'no conf was written')
  },
)

secrets(
  'sync with the variables set: the values arrive on the server, never in the output',
  async ({ sandbox, env, conf }) => {
    const run = await runTask(
      'supervisor-sync',
      ['--inventory', sandbox.inventory, '--domain', 's.test', '--verbose'],
      { env: { ...env, STRIPE_SECRET: FIRST, PROD_DB_PASSWORD: 'db-pass' } },
    )
    assert.is(run.exitCode, 0, run.all)
    const content = await fs.readFile(conf, 'utf8')
    assert.match(content, `STRIPE_SECRET="${FIRST}"`)
    assert.match(content, 'DB_PASSWORD="db-pass"')
    assert.not.match(run.all, FIRST)
    assert.not.match(run.all, 'db-pass')
    await waitFor('the program running', async () =>
      (await processesOn(sandbox.host('sandbox-1'))).some((p) => p.group === 's.test-billing' && p.state === 'RUNNING'),
    )
  },
)

secrets('status with the variables unset: "unknown (VAR unset)", no drift, exit 0', async ({ sandbox, env }) => {
  const run = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 's.test'], { env })
  assert.is(run.exitCode, 0, run.all)
  assert.match(
    run.stderr,
    'sites[0].supervisors[0].environment.STRIPE_SECRET (s.test-billing): unknown (STRIPE_SECRET unset)',
  )
  assert.match(run.stderr, 'unknown (PROD_DB_PASSWORD unset)')
  assert.not.match(run.stdout, 'DRIFT')
})

secrets(
  'status with a known value that differs from the server: drift (exit 3), the value not shown',
  async ({ sandbox, env }) => {
    const run = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 's.test'], {
      env: { ...env, STRIPE_SECRET: SECOND },
    })
    assert.is(run.exitCode, 3, run.all)
    assert.match(run.stdout, 'DRIFT: /etc/supervisor/conf.d/s.test-billing.conf differs from the inventory')
    assert.not.match(run.all, SECOND)
  },
)

secrets(
  '--dry-run with a changed value: the diff shows keyed fingerprints of both values, never a value',
  async ({ sandbox, env, conf }) => {
    const before = await fs.readFile(conf, 'utf8')
    const run = await runTask(
      'supervisor-sync',
      ['--inventory', sandbox.inventory, '--domain', 's.test', '--dry-run'],
      { env: { ...env, STRIPE_SECRET: SECOND, PROD_DB_PASSWORD: 'db-pass' } },
    )
    assert.is(run.exitCode, 0, run.all)
    const key = loadFingerprintKey(env.ZXS_FINGERPRINT_KEY_FILE as string)
    assert.match(run.stdout, `-environment=`)
    assert.match(run.stdout, `STRIPE_SECRET=${fingerprintValue(FIRST, key)}`)
    assert.match(run.stdout, `STRIPE_SECRET=${fingerprintValue(SECOND, key)}`)
    assert.match(run.stdout, /^-environment=.*QUEUE=high,/m, 'a literal of the inventory is shown')
    assert.not.match(run.all, FIRST)
    assert.not.match(run.all, SECOND)
    assert.not.match(run.all, 'db-pass')
    assert.is(await fs.readFile(conf, 'utf8'), before, 'nothing changed')
  },
)

secrets(
  '--dry-run and --check with the variable unset: an unknown value alone is no change (exit 0)',
  async ({ sandbox, env }) => {
    const run = await runTask(
      'supervisor-sync',
      ['--inventory', sandbox.inventory, '--domain', 's.test', '--dry-run'],
      { env: { ...env, PROD_DB_PASSWORD: 'db-pass' } },
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'sandbox-1  up to date, nothing to do')
    assert.match(run.stderr, 'unknown (STRIPE_SECRET unset); shown as such, a real sync needs it set')
    const check = await runTask(
      'supervisor-sync',
      ['--inventory', sandbox.inventory, '--domain', 's.test', '--check'],
      { env: { ...env, PROD_DB_PASSWORD: 'db-pass' } },
    )
    assert.is(check.exitCode, 0, check.all)
  },
)

secrets(
  '--dry-run with the variable unset and another change shows KEY=unknown (VAR unset) in the diff',
  async ({ sandbox, env }) => {
    const text = await fs.readFile(sandbox.inventory, 'utf8')
    await fs.writeFile(sandbox.inventory, text.replace('stopwaitsecs: 2', 'stopwaitsecs: 3'))
    const run = await runTask(
      'supervisor-sync',
      ['--inventory', sandbox.inventory, '--domain', 's.test', '--dry-run'],
      { env: { ...env, PROD_DB_PASSWORD: 'db-pass' } },
    )
    await fs.writeFile(sandbox.inventory, text)
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, /\+environment=.*STRIPE_SECRET=unknown \(STRIPE_SECRET unset\)/)
    assert.match(run.stdout, '+stopwaitsecs=3')
  },
)

secrets.run()
