import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { counted, recordStateCheck } from '../helpers/figure.ts'
import { runTask } from '../helpers/run-task.ts'
import { deployApp, editInventory, startSandbox, type TestSandbox, WORKER, writeAppDir } from '../helpers/sandbox.ts'
import { serverState } from '../helpers/server-state.ts'

// Security defaults: host keys checked, secrets out of --verbose and --json (literals shown by the one rule of
// lib/redact.ts), right owners and modes, no world-readable temp file with inventory content left behind.

const DOMAIN = 's.test'
const SECRET = 'tok-9f8e7d-very-secret'
const PLAIN = 'plain-value-4711'
/** Read from the environment ({ from_env }) under a name that does not look secret: hidden for where it comes from. */
const REFERENCED = 'ref-value-5150'

const security = suite<{ sandbox: TestSandbox; app: string }>('security defaults')

security.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  await deployApp(context.sandbox.host('sandbox-1'), DOMAIN, { 'worker.sh': WORKER })
  await editInventory(context.sandbox.inventory, (doc) =>
    doc.set('sites', doc.createNode([{ domain: DOMAIN, server: 'sandbox-1' }])),
  )
})

security.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const hostKeyCases: Array<[string, (line: string) => string, RegExp]> = [
  ['an unknown host key', () => '', /host key of .* is unknown or does not match known_hosts: refusing to connect/],
  [
    'a changed host key',
    (line) =>
      line.replace(
        /ssh-ed25519 \S+/,
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJ9Tq5nE1lG6Q3b0bqk1v0s6kq0m2vYyq1mY3zq2b7x',
      ),
    /host key of .* has CHANGED: refusing to connect/,
  ],
]

for (const [name, rewrite, message] of hostKeyCases) {
  security(
    `${name}: the connection is refused with a clear message, the server untouched`,
    counted(`host key: ${name}`, async ({ sandbox, app }) => {
      const host = sandbox.host('sandbox-1')
      const knownHosts = host.knownHosts
      const original = await fs.readFile(knownHosts, 'utf8')
      await editInventory(sandbox.inventory, (doc) =>
        doc.setIn(['sites', 0, 'supervisors'], doc.createNode([{ program: 'w', script: 'worker.sh' }])),
      )
      const before = await serverState(host, DOMAIN)
      await fs.writeFile(knownHosts, rewrite(original))
      try {
        const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', DOMAIN])
        assert.is(run.exitCode, 1, run.all)
        assert.match(run.stderr, message)
      } finally {
        await fs.writeFile(knownHosts, original)
      }
      const held = JSON.stringify(await serverState(host, DOMAIN)) === JSON.stringify(before)
      recordStateCheck(`${name}: server untouched`, held)
      assert.ok(held)
      void app
    }),
  )
}

security(
  'secret-looking and referenced values never reach --verbose or --json output; plain literals are shown for review',
  counted('redaction', async ({ sandbox, app }) => {
    await editInventory(sandbox.inventory, (doc) => doc.deleteIn(['sites', 0, 'supervisors']))
    const env = { ZXS_TEST_WORKER_MODE: REFERENCED }
    const outputs: string[] = []
    const create = await runTask('supervisor-create', [
      '--inventory',
      sandbox.inventory,
      '--app-dir',
      app,
      '--domain',
      DOMAIN,
      '--program',
      'w',
      '--script',
      'worker.sh',
      '--env',
      `API_TOKEN=${SECRET}`,
      '--env',
      `PLAIN=${PLAIN}`,
      '--env-from-env',
      'WORKER_MODE=ZXS_TEST_WORKER_MODE',
      '--json',
      '--verbose',
    ])
    assert.is(create.exitCode, 0, create.all)
    assert.match(
      create.all,
      /--env 'API_TOKEN=\[REDACTED [0-9a-f]{8}\]'/,
      'the replay fingerprints the secret-looking literal',
    )
    assert.match(create.all, `--env PLAIN=${PLAIN}`, 'and shows the plain one')
    outputs.push(create.all)
    const dryRuns: string[] = []
    for (const args of [['--verbose'], ['--json'], ['--dry-run', '--verbose'], ['--dry-run', '--json']]) {
      const dryRun = args[0] === '--dry-run'
      await editInventory(sandbox.inventory, (doc) => {
        doc.setIn(['sites', 0, 'supervisors', 0, 'numprocs'], dryRun ? 3 : 2)
        if (dryRun) doc.setIn(['sites', 0, 'supervisors', 0, 'environment', 'PLAIN'], `${PLAIN}-next`)
        if (dryRun) doc.setIn(['sites', 0, 'supervisors', 0, 'environment', 'API_TOKEN'], `${SECRET}-next`)
      })
      const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', DOMAIN, ...args], {
        env,
      })
      assert.is(run.exitCode, 0, run.all)
      outputs.push(run.all)
      if (dryRun) dryRuns.push(run.stdout)
    }
    const [diff, json] = dryRuns as [string, string]
    assert.match(diff, new RegExp(`^-environment=.*PLAIN=${PLAIN},`, 'm'), 'the diff shows the old plain value')
    assert.match(diff, new RegExp(`^\\+environment=.*PLAIN=${PLAIN}-next`, 'm'), 'and the new one')
    assert.match(diff, /^-environment=.*API_TOKEN=\[REDACTED [0-9a-f]{8}\]/m)
    assert.match(diff, /^-environment=.*WORKER_MODE=\[REDACTED [0-9a-f]{8}\]/m)
    const conf = (
      JSON.parse(json) as {
        servers: Array<{
          changes: Array<{
            path: string
            environment?: Array<{ key: string; before: string | null; after: string | null }>
          }>
        }>
      }
    ).servers[0]?.changes.find((c) => c.path.endsWith(`${DOMAIN}-w.conf`))
    assert.equal(
      conf?.environment?.find((e) => e.key === 'PLAIN'),
      { key: 'PLAIN', before: PLAIN, after: `${PLAIN}-next` },
    )
    assert.match(
      JSON.stringify(conf?.environment?.find((e) => e.key === 'API_TOKEN')),
      /"before":"\[REDACTED [0-9a-f]{8}\]","after":"\[REDACTED [0-9a-f]{8}\]"/,
    )
    for (const task of ['supervisor-status', 'supervisor-restart']) {
      const run = await runTask(task, ['--inventory', sandbox.inventory, '--domain', DOMAIN, '--json', '--verbose'], {
        env,
      })
      outputs.push(run.all)
    }
    // Back to what the server holds, without the reference: the later cases sync without its variable.
    await editInventory(sandbox.inventory, (doc) => {
      doc.setIn(['sites', 0, 'supervisors', 0, 'environment', 'PLAIN'], PLAIN)
      doc.setIn(['sites', 0, 'supervisors', 0, 'environment', 'API_TOKEN'], SECRET)
      doc.deleteIn(['sites', 0, 'supervisors', 0, 'environment', 'WORKER_MODE'])
    })
    const conf0 = await fs.readFile(
      path.join(sandbox.host('sandbox-1').root, `etc/supervisor/conf.d/${DOMAIN}-w.conf`),
      'utf8',
    )
    assert.match(conf0, SECRET, 'the value did reach the server')
    assert.match(conf0, REFERENCED, 'the referenced value did reach the server')
    for (const text of outputs) {
      assert.not.match(text, SECRET)
      assert.not.match(text, REFERENCED)
    }
  }),
)

security(
  'uploaded files get the right owner and mode; staged copies are private and removed',
  counted('owners and modes', async ({ sandbox }) => {
    const host = sandbox.host('sandbox-1')
    const deployer = Number((await hostExec(host, ['id', '-u', 'deployer'])).stdout.trim())
    const expect: Array<[string, number, number]> = [
      // The conf holds environment values (secrets): root only. The program's log: root's, not world-readable.
      [`etc/supervisor/conf.d/${DOMAIN}-w.conf`, 0, 0o600],
      [`etc/logrotate.d/supervisor-${DOMAIN}-w.conf`, 0, 0o644],
      [`var/log/supervisor/${DOMAIN}-w.log`, 0, 0o640],
      [`home/deployer/sites/${DOMAIN}/runner.sh`, deployer, 0o755],
    ]
    for (const [file, uid, mode] of expect) {
      const stat = await fs.stat(path.join(host.root, file))
      assert.is(stat.uid, uid, `${file} owner`)
      assert.is((stat.mode & 0o777).toString(8), mode.toString(8), `${file} mode`)
    }
    assert.equal(
      (await fs.readdir(path.join(host.root, 'var/tmp'))).filter((n) => n.startsWith('zxs-stage-')),
      [],
      'no staging dir left on the server',
    )
  }),
)

security(
  'no temporary file with inventory or conf content is left behind; the inventory keeps its private mode',
  counted('temp files', async ({ sandbox }) => {
    const leftovers = async () =>
      (await fs.readdir(os.tmpdir())).filter((n) => /^zxs-(stage|clone)-|^zxs-[A-Za-z0-9]{6}$/.test(n))
    const before = new Set(await leftovers())
    await editInventory(sandbox.inventory, (doc) => doc.setIn(['sites', 0, 'supervisors', 0, 'numprocs'], 1))
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', DOMAIN])
    assert.is(run.exitCode, 0, run.all)
    assert.equal(
      (await leftovers()).filter((n) => !before.has(n)),
      [],
      'temp dirs of the run are removed',
    )
    await fs.chmod(sandbox.inventory, 0o600)
    const app = await writeAppDir(path.join(sandbox.dir, 'app2'), { 'second.sh': WORKER })
    const create = await runTask('supervisor-create', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      DOMAIN,
      '--program',
      'w2',
      '--script',
      'second.sh',
      '--app-dir',
      app,
    ])
    assert.is(create.exitCode, 0, create.all)
    assert.is(
      ((await fs.stat(sandbox.inventory)).mode & 0o777).toString(8),
      '600',
      'the rewritten inventory is as private as before',
    )
    assert.equal(
      (await fs.readdir(path.dirname(sandbox.inventory))).filter((n) => n.endsWith('.tmp')),
      [],
      'no inventory temp file left',
    )
  }),
)

security.run()
