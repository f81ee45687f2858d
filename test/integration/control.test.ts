import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { runTask, runTaskOnTerminal, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  editInventory,
  processesOn,
  snapshotDir,
  startSandbox,
  type TestSandbox,
  WORKER,
} from '../helpers/sandbox.ts'

// delete, start/stop/restart (daemon and programs) and status, through the real tasks on two sandbox servers.

const control = suite<{ sandbox: TestSandbox }>('delete, start/stop/restart and status on sandbox servers')

const running = async (sandbox: TestSandbox, server: string, group: string) =>
  (await processesOn(sandbox.host(server))).filter((p) => p.group === group && p.state === 'RUNNING')
const states = async (sandbox: TestSandbox, server: string, group: string) =>
  (await processesOn(sandbox.host(server))).filter((p) => p.group === group).map((p) => `${p.process} ${p.state}`)

control.before(async (context) => {
  context.sandbox = await startSandbox(2)
  const { sandbox } = context
  await addSites(
    sandbox.inventory,
    `
  - domain: app.test
    server: sandbox-1
    supervisors:
      - program: worker
        script: worker.sh
        numprocs: 2
        stopwaitsecs: 5
      - program: other
        script: other.sh
        stopwaitsecs: 5
  - domain: b.test
    server: sandbox-2
    supervisors:
      - program: x
        script: worker.sh
        stopwaitsecs: 5
`,
  )
  await editInventory(sandbox.inventory, (doc) => doc.setIn(['servers', 1, 'groups'], doc.createNode(['workers'])))
  await deployApp(sandbox.host('sandbox-1'), 'app.test', { 'worker.sh': WORKER, 'other.sh': WORKER })
  await deployApp(sandbox.host('sandbox-2'), 'b.test', { 'worker.sh': WORKER })
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--all'])
  assert.is(run.exitCode, 0, run.all)
  await waitFor(
    'app.test-worker running',
    async () => (await running(sandbox, 'sandbox-1', 'app.test-worker')).length === 2,
  )
  await waitFor('b.test-x running', async () => (await running(sandbox, 'sandbox-2', 'b.test-x')).length === 1)
})

control.after(async ({ sandbox }) => {
  await sandbox?.down()
})

control('status: exit 0 when every expected process runs, table and --json', async ({ sandbox }) => {
  const run = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, /sandbox-1\s+app.test-worker\s+app.test-worker_01\s+RUNNING\s+\d+/)
  assert.match(run.stdout, /sandbox-2\s+b.test-x\s+b.test-x_00\s+RUNNING/)
  const json = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--json', '--server', 'sandbox-1'])
  const document = JSON.parse(json.stdout)
  assert.is(document.ok, true)
  assert.equal(
    document.servers[0].programs.map((p: { fullName: string; running: number }) => `${p.fullName}=${p.running}`),
    ['app.test-worker=2', 'app.test-other=1'],
  )
})

control(
  'stop / start / restart of one program act on every process of its numprocs group, and only on it',
  async ({ sandbox }) => {
    const other = (await running(sandbox, 'sandbox-1', 'app.test-other')).map((p) => p.pid)
    let run = await runTask('supervisor-stop', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'app.test',
      '--program',
      'worker',
    ])
    assert.is(run.exitCode, 0, run.all)
    assert.equal(await states(sandbox, 'sandbox-1', 'app.test-worker'), [
      'app.test-worker_00 STOPPED',
      'app.test-worker_01 STOPPED',
    ])
    assert.equal(
      (await running(sandbox, 'sandbox-1', 'app.test-other')).map((p) => p.pid),
      other,
    )

    run = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
    assert.is(run.exitCode, 3, 'status exits 3 when something is not running')
    assert.match(run.stdout, /app.test-worker_00\s+STOPPED/)

    run = await runTask('supervisor-start', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'app.test',
      '--program',
      'worker',
    ])
    assert.is(run.exitCode, 0, run.all)
    const started = await running(sandbox, 'sandbox-1', 'app.test-worker')
    assert.is(started.length, 2)

    run = await runTask('supervisor-restart', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'app.test',
      '--program',
      'worker',
    ])
    assert.is(run.exitCode, 0, run.all)
    const restarted = await running(sandbox, 'sandbox-1', 'app.test-worker')
    assert.is(restarted.length, 2)
    assert.ok(
      restarted.every((p) => !started.some((s) => s.pid === p.pid)),
      'new pids after restart',
    )
    assert.equal(
      (await running(sandbox, 'sandbox-1', 'app.test-other')).map((p) => p.pid),
      other,
    )
  },
)

control(
  'restart of a program whose inventory entry changed since the last sync warns that sync applies config',
  async ({ sandbox }) => {
    const text = await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 0, 'supervisors', 1, 'stopwaitsecs'], 7),
    )
    const run = await runTask('supervisor-restart', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'app.test',
      '--program',
      'other',
    ])
    assert.is(run.exitCode, 0, run.all)
    assert.match(
      run.stderr,
      /app.test-other: .*differs from the inventory.*restart does not apply config changes; supervisor-sync does/,
    )
    await fs.writeFile(sandbox.inventory, text)
  },
)

control('status reports drift after a hand edit of a conf on the server', async ({ sandbox }) => {
  const conf = path.join(sandbox.host('sandbox-1').root, 'etc/supervisor/conf.d/app.test-other.conf')
  const original = await fs.readFile(conf, 'utf8')
  await fs.writeFile(conf, original.replace('stopwaitsecs=5', 'stopwaitsecs=99'))
  const run = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--json'])
  assert.is(run.exitCode, 3, 'drift alone is exit 3')
  const other = JSON.parse(run.stdout).servers[0].programs.find(
    (p: { fullName: string }) => p.fullName === 'app.test-other',
  )
  assert.match(other.drift.join('\n'), 'differs from the inventory')
  const table = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
  assert.match(table.stdout, /app.test-other.*DRIFT/)
  await fs.writeFile(conf, original)
})

control(
  'the supervisord service: stop, start and restart with the end state verified on the server',
  async ({ sandbox }) => {
    const host = sandbox.host('sandbox-2')
    const daemonPid = async () => (await hostExec(host, ['supervisorctl', 'pid'])).stdout.trim()
    const before = await daemonPid()
    let run = await runTask('supervisor-stop', ['--inventory', sandbox.inventory, '--server', 'workers'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'sandbox-2  supervisord inactive (init)')
    assert.is((await hostExec(host, ['pgrep', '-x', 'supervisord'])).exitCode, 1, 'no supervisord left')

    run = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--server', 'sandbox-2'])
    assert.is(run.exitCode, 3)
    assert.match(run.stdout, 'DAEMON DOWN')

    run = await runTask('supervisor-start', ['--inventory', sandbox.inventory, '--server', 'sandbox-2'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'sandbox-2  supervisord active (init)')
    const afterStart = await daemonPid()
    assert.match(afterStart, /^\d+$/)
    assert.is.not(afterStart, before)

    run = await runTask('supervisor-restart', ['--inventory', sandbox.inventory, '--server', 'sandbox-2'])
    assert.is(run.exitCode, 0, run.all)
    const afterRestart = await daemonPid()
    assert.match(afterRestart, /^\d+$/, "Debian's init script alone would have left it stopped")
    assert.is.not(afterRestart, afterStart)
    await waitFor(
      'b.test-x running again (autostart)',
      async () => (await running(sandbox, 'sandbox-2', 'b.test-x')).length === 1,
    )

    run = await runTask('supervisor-start', ['--inventory', sandbox.inventory, '--server', 'sandbox-2'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, /ok=1 changed=0 failed=0/)
  },
)

const BAD: Array<[string, string, string[], RegExp]> = [
  ['unknown server', 'supervisor-start', ['--server', 'nope'], /--server: got "nope".*sandbox-1/s],
  ['unknown domain', 'supervisor-restart', ['--domain', 'nope.test'], /--domain: got "nope.test".*app.test/s],
  [
    'unknown program',
    'supervisor-stop',
    ['--domain', 'app.test', '--program', 'nope'],
    /--program: got "nope".*worker/s,
  ],
  [
    'a domain whose programs are on another server',
    'supervisor-restart',
    ['--domain', 'app.test', '--server', 'sandbox-2'],
    /--server: got "sandbox-2"; allowed: a server of app.test: sandbox-1/,
  ],
  [
    'delete without --yes and without a terminal',
    'supervisor-delete',
    ['--domain', 'app.test', '--program', 'other'],
    /--yes/,
  ],
  [
    'delete of an unknown program',
    'supervisor-delete',
    ['--domain', 'app.test', '--program', 'nope', '--yes'],
    /--program: got "nope"/,
  ],
]

for (const [name, task, args, message] of BAD) {
  control(`bad input, exit 2, nothing touched: ${name}`, async ({ sandbox }) => {
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    const processes = (await processesOn(sandbox.host('sandbox-1'))).map((p) => `${p.name} ${p.pid}`)
    const run = await runTask(task, ['--inventory', sandbox.inventory, ...args])
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, message)
    assert.is(await fs.readFile(sandbox.inventory, 'utf8'), inventory)
    assert.equal(
      (await processesOn(sandbox.host('sandbox-1'))).map((p) => `${p.name} ${p.pid}`),
      processes,
    )
  })
}

control(
  'delete on a terminal: a mistyped name cancels (exit 1), "No" cancels (exit 0), and nothing changes',
  async ({ sandbox }) => {
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    let run = await runTaskOnTerminal(
      'supervisor-delete',
      ['--inventory', sandbox.inventory, '--domain', 'app.test', '--program', 'other'],
      [["Type the program name 'other'", 'othr']],
    )
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.all, 'Program name does not match. Deletion cancelled.')
    run = await runTaskOnTerminal(
      'supervisor-delete',
      ['--inventory', sandbox.inventory, '--domain', 'app.test', '--program', 'other'],
      [
        ["Type the program name 'other'", 'other'],
        ['Are you absolutely sure?', ''],
      ],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.all, 'Cancelled deleting supervisor program')
    assert.is(await fs.readFile(sandbox.inventory, 'utf8'), inventory)
  },
)

control(
  "delete then sync removes the process and its files from the server, and only that program's",
  async ({ sandbox }) => {
    const run = await runTaskOnTerminal(
      'supervisor-delete',
      ['--inventory', sandbox.inventory, '--domain', 'app.test', '--program', 'other'],
      [
        ["Type the program name 'other'", 'other'],
        ['Are you absolutely sure?', 'y'],
      ],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.all, "Supervisor 'other' removed from inventory")
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    assert.not.match(inventory, 'program: other')
    assert.match(inventory, 'program: worker')
    const one = sandbox.host('sandbox-1')
    assert.ok(
      (await snapshotDir(one, 'etc/supervisor/conf.d'))['app.test-other.conf'],
      'the server is untouched until sync',
    )
    const sync = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--all'])
    assert.is(sync.exitCode, 0, sync.all)
    assert.equal(Object.keys(await snapshotDir(one, 'etc/supervisor/conf.d')), ['app.test-worker.conf'])
    assert.not.ok((await snapshotDir(one, 'etc/logrotate.d'))['supervisor-app.test-other.conf'])
    assert.equal(await states(sandbox, 'sandbox-1', 'app.test-other'), [])
    assert.is((await running(sandbox, 'sandbox-1', 'app.test-worker')).length, 2)
    assert.is((await running(sandbox, 'sandbox-2', 'b.test-x')).length, 1)
    assert.ok((await snapshotDir(sandbox.host('sandbox-2'), 'etc/supervisor/conf.d'))['b.test-x.conf'])
  },
)

control('status exits 1 when a server cannot be reached, and still reports the others', async ({ sandbox }) => {
  const text = await editInventory(sandbox.inventory, (doc) =>
    doc.addIn(['servers'], { name: 'gone', host: '127.0.0.254', port: 2, username: 'deployer' }),
  )
  const run = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
  assert.is(run.exitCode, 1, run.all)
  assert.match(run.stdout, /gone\s+-\s+-\s+UNREACHABLE\s+connection refused/)
  assert.match(run.stdout, /sandbox-1\s+app.test-worker\s+app.test-worker_00\s+RUNNING/)
  await fs.writeFile(sandbox.inventory, text)
})

control.run()
