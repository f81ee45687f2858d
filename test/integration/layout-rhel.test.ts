import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  processesOn,
  snapshotDir,
  startSandbox,
  type TestSandbox,
  WORKER,
  writeAppDir,
} from '../helpers/sandbox.ts'

// create → sync → status → server-logs → delete + sync through the real tasks on a host with RHEL/EPEL's supervisor
// layout: /etc/supervisord.conf, [include] supervisord.d/*.ini, /run/supervisor/supervisor.sock. The tasks must find
// all of it from the server's own config; nothing may land where Debian keeps it.

const rhel = suite<{ sandbox: TestSandbox; app: string }>('the tasks on a RHEL-layout sandbox server')

const CONF = '/etc/supervisord.d/app.test-worker.ini'
const WORKER_LOG = '/var/log/supervisor/app.test-worker.log'
const GROUP = 'app.test-worker'

rhel.before(async (context) => {
  // uvu swallows an error thrown by a before hook (every test then just fails): show it.
  await setUp(context).catch((error) => {
    console.error('rhel layout suite set-up failed:', error)
    throw error
  })
})

async function setUp(context: { sandbox: TestSandbox; app: string }): Promise<void> {
  context.sandbox = await startSandbox(1, { layout: 'rhel' })
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: app.test
    server: sandbox-1
`,
  )
  await deployApp(context.sandbox.host('sandbox-1'), 'app.test', { 'worker.sh': WORKER })
}

rhel.after(async ({ sandbox }) => {
  await sandbox?.down()
})

/** True when the path exists as the host sees it (its private /etc overlay included). */
async function existsInHost(sandbox: TestSandbox, file: string): Promise<boolean> {
  return (await hostExec(sandbox.host('sandbox-1'), ['test', '-e', file])).exitCode === 0
}

async function machineHas(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  )
}

rhel("the host runs supervisord with RHEL's config; the machine's /etc has none of it", async ({ sandbox }) => {
  const host = sandbox.host('sandbox-1')
  const ps = await hostExec(host, ['ps', '-eo', 'args'])
  assert.match(ps.stdout, /supervisord -c \/etc\/supervisord\.conf/)
  const ctl = await hostExec(host, ['supervisorctl', '-c', '/etc/supervisord.conf', 'status'])
  assert.is(ctl.exitCode, 0, ctl.stdout + ctl.stderr)
  assert.not.ok(await existsInHost(sandbox, '/etc/supervisor'), "Debian's /etc/supervisor is hidden in the host")
  assert.not.ok(await machineHas('/etc/supervisord.conf'), "nothing created in the machine's /etc")
  assert.not.ok(await machineHas('/etc/supervisord.d'))
})

rhel(
  'create, then sync: the conf is /etc/supervisord.d/<domain>-<program>.ini (root 0600), and the program runs',
  async ({ sandbox, app }) => {
    const host = sandbox.host('sandbox-1')
    const create = await runTask('supervisor-create', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'app.test',
      '--program',
      'worker',
      '--script',
      'worker.sh',
      '--app-dir',
      app,
    ])
    assert.is(create.exitCode, 0, create.all)
    const sync = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
    assert.is(sync.exitCode, 0, sync.all)
    assert.match(sync.stdout, `sandbox-1  + ${CONF}`)
    assert.match(sync.stdout, `${GROUP}: added process group`)
    const stat = await hostExec(host, ['stat', '-c', '%U:%G %a', CONF])
    assert.is(stat.stdout, 'root:root 600', stat.stderr)
    assert.equal(
      Object.keys(await snapshotDir(host, 'etc/supervisord.d')),
      ['app.test-worker.ini'],
      "the overlay's upper dir holds it",
    )
    assert.ok(await existsInHost(sandbox, '/etc/logrotate.d/supervisor-app.test-worker.conf'))
    assert.not.ok(await existsInHost(sandbox, '/etc/supervisor/conf.d'), 'nothing written where Debian keeps confs')
    assert.not.ok(await machineHas(`/etc/supervisor/conf.d/${GROUP}.conf`))
    assert.not.ok(await machineHas('/etc/supervisord.d'))
    await waitFor('the worker RUNNING', async () =>
      (await processesOn(host)).some((p) => p.group === GROUP && p.state === 'RUNNING'),
    )
    const ctl = await hostExec(host, ['supervisorctl', '-c', '/etc/supervisord.conf', 'status', `${GROUP}:*`])
    assert.match(ctl.stdout, /app\.test-worker:app\.test-worker_00\s+RUNNING/)
  },
)

rhel('status: exit 0, the process RUNNING, no drift', async ({ sandbox }) => {
  const run = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, /sandbox-1\s+app.test-worker\s+app.test-worker_00\s+RUNNING\s+\d+/)
})

rhel("server-logs: the program's log from supervisord's log dir, and the daemon's own log", async ({ sandbox }) => {
  await waitFor('the worker log', async () =>
    (await fs.readFile(path.join(sandbox.host('sandbox-1').root, WORKER_LOG), 'utf8').catch(() => '')).includes(
      'worker',
    ),
  )
  const program = await runTask('server-logs', [
    '--inventory',
    sandbox.inventory,
    '--server',
    'sandbox-1',
    '--service',
    'supervisor:app.test/worker',
  ])
  assert.is(program.exitCode, 0, program.all)
  assert.match(program.stdout, `==> sandbox-1 supervisor:app.test/worker (${WORKER_LOG}) <==`)
  assert.match(program.stdout, /worker app\.test-worker_00 up in \/home\/deployer\/sites\/app\.test\/releases\/r1/)
  const daemon = await runTask('server-logs', [
    '--inventory',
    sandbox.inventory,
    '--server',
    'sandbox-1',
    '--service',
    'supervisor',
  ])
  assert.is(daemon.exitCode, 0, daemon.all)
  assert.match(daemon.stdout, '(/var/log/supervisor/supervisord.log) <==')
  assert.match(daemon.stdout, 'supervisord started')
})

rhel('delete, then sync: the .ini and the program are gone', async ({ sandbox }) => {
  const host = sandbox.host('sandbox-1')
  const remove = await runTask('supervisor-delete', [
    '--inventory',
    sandbox.inventory,
    '--domain',
    'app.test',
    '--program',
    'worker',
    '--force',
    '--yes',
  ])
  assert.is(remove.exitCode, 0, remove.all)
  const sync = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
  assert.is(sync.exitCode, 0, sync.all)
  assert.match(sync.stdout, `${GROUP}: removed process group`)
  assert.not.ok(await existsInHost(sandbox, CONF))
  assert.not.ok(await existsInHost(sandbox, '/etc/logrotate.d/supervisor-app.test-worker.conf'))
  assert.equal(
    (await processesOn(host)).filter((p) => p.group === GROUP),
    [],
  )
  assert.not.ok(await existsInHost(sandbox, '/etc/supervisor'), 'still nothing where Debian keeps confs')
})

rhel.run()
