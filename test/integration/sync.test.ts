import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PROGRAM_FILES, SITE_FILES } from '../../lib/layout.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  editInventory,
  processesOn,
  snapshotDir,
  startSandbox,
  type TestSandbox,
  WORKER,
  writeAppDir,
} from '../helpers/sandbox.ts'

// What a first sync of a site with one program writes: the contract's site files and one program's files.
const ONE_PROGRAM_SITE_FILES = SITE_FILES.length + PROGRAM_FILES.length

// create → sync through the real tasks against two real sandbox servers.

const sync = suite<{ sandbox: TestSandbox; app: string }>('create + sync on sandbox servers')

sync.before(async (context) => {
  context.sandbox = await startSandbox(2)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER, 'other.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: app.test
    server: sandbox-1
    branch: main
    php_version: "8.3"
  - domain: app.test-b
    server: sandbox-1
`,
  )
  await deployApp(context.sandbox.host('sandbox-1'), 'app.test', { 'worker.sh': WORKER, 'other.sh': WORKER })
})

sync.after(async ({ sandbox }) => {
  await sandbox?.down()
})

sync('create adds the program to the inventory only, keeping the rest of the file', async ({ sandbox, app }) => {
  const before = await fs.readFile(sandbox.inventory, 'utf8')
  const run = await runTask('supervisor-create', [
    '--inventory',
    sandbox.inventory,
    '--domain',
    'app.test',
    '--program',
    'worker',
    '--script',
    'worker.sh',
    '--numprocs',
    '2',
    '--app-dir',
    app,
  ])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, "Supervisor 'worker' added to inventory")
  assert.match(run.stdout, 'supervisor-sync.mjs')
  const after = await fs.readFile(sandbox.inventory, 'utf8')
  assert.ok(after.startsWith(before.split('sites:')[0] as string), 'servers block and header comment kept')
  assert.match(
    after,
    /- program: worker\n\s+script: worker.sh\n\s+autostart: true\n\s+autorestart: true\n\s+stopwaitsecs: 3600\n\s+numprocs: 2/,
  )
  for (const name of ['sandbox-1', 'sandbox-2']) {
    assert.equal(await snapshotDir(sandbox.host(name), 'etc/supervisor/conf.d'), {}, `nothing sent to ${name} yet`)
  }
})

sync(
  'sync puts the program live on its server, with numprocs 2 → two running processes, and not on the other server',
  async ({ sandbox }) => {
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'sandbox-1  + /etc/supervisor/conf.d/app.test-worker.conf')
    assert.match(run.stdout, 'app.test-worker: added process group')
    assert.match(run.stdout, new RegExp(`sandbox-1\\s+ok=1 changed=${ONE_PROGRAM_SITE_FILES} failed=0`))
    const one = sandbox.host('sandbox-1')
    const processes = await waitFor('two RUNNING processes', async () => {
      const list = await processesOn(one)
      return list.filter((p) => p.group === 'app.test-worker' && p.state === 'RUNNING').length === 2 ? list : null
    })
    assert.equal((processes ?? []).map((p) => p.name).sort(), [
      'app.test-worker:app.test-worker_00',
      'app.test-worker:app.test-worker_01',
    ])
    const confs = await snapshotDir(one, 'etc/supervisor/conf.d')
    assert.equal(Object.keys(confs), ['app.test-worker.conf'])
    assert.match(confs['app.test-worker.conf'] as string, 'numprocs=2')
    assert.ok(await fs.stat(path.join(one.root, 'etc/logrotate.d/supervisor-app.test-worker.conf')))
    const runner = await fs.stat(path.join(one.root, 'home/deployer/sites/app.test/runner.sh'))
    assert.is((runner.mode & 0o777).toString(8), '755')
    const two = sandbox.host('sandbox-2')
    assert.equal(await snapshotDir(two, 'etc/supervisor/conf.d'), {})
    assert.equal(await processesOn(two), [])
    const log = await waitFor('the worker log', async () =>
      fs.readFile(path.join(one.root, 'var/log/supervisor/app.test-worker.log'), 'utf8').catch(() => ''),
    )
    assert.match(log, /worker app.test-worker_0[01] up in \/home\/deployer\/sites\/app.test\/releases\/r1/)
  },
)

sync('a second identical sync changes nothing and restarts nothing', async ({ sandbox }) => {
  const one = sandbox.host('sandbox-1')
  const pids = (await processesOn(one)).map((p) => p.pid)
  const confs = await snapshotDir(one, 'etc/supervisor/conf.d')
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, /sandbox-1\s+ok=1 changed=0 failed=0/)
  assert.equal(
    (await processesOn(one)).map((p) => p.pid),
    pids,
  )
  assert.equal(await snapshotDir(one, 'etc/supervisor/conf.d'), confs)
})

sync('--dry-run prints a diff and touches nothing', async ({ sandbox }) => {
  const text = await fs.readFile(sandbox.inventory, 'utf8')
  await fs.writeFile(sandbox.inventory, text.replace('numprocs: 2', 'numprocs: 3'))
  const one = sandbox.host('sandbox-1')
  const confs = await snapshotDir(one, 'etc/supervisor/conf.d')
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test', '--dry-run'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, '-numprocs=2\n+numprocs=3')
  assert.equal(await snapshotDir(one, 'etc/supervisor/conf.d'), confs)
  await fs.writeFile(sandbox.inventory, text)
})

sync(
  'a configuration supervisor rejects leaves conf.d byte-for-byte as before and the programs running',
  async ({ sandbox }) => {
    const text = await editInventory(sandbox.inventory, (doc) =>
      doc.addIn(['sites', 0, 'supervisors'], { program: 'broken', script: 'other.sh', user: 'nosuchuser' }),
    )
    const one = sandbox.host('sandbox-1')
    const before = {
      confs: await snapshotDir(one, 'etc/supervisor/conf.d'),
      logrotate: await snapshotDir(one, 'etc/logrotate.d'),
      processes: pidsOf(await processesOn(one)),
    }
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.stderr, 'supervisor rejected the new configuration; the previous files were restored')
    assert.match(run.stderr, 'Invalid user name nosuchuser')
    assert.match(run.stdout, /sandbox-1\s+ok=0 changed=0 failed=1/)
    assert.equal(await snapshotDir(one, 'etc/supervisor/conf.d'), before.confs)
    assert.equal(await snapshotDir(one, 'etc/logrotate.d'), before.logrotate)
    assert.equal(pidsOf(await processesOn(one)), before.processes)
    await fs.writeFile(sandbox.inventory, text)
  },
)

sync("pruning removes only this site's programs, never another site sharing the domain prefix", async ({ sandbox }) => {
  const one = sandbox.host('sandbox-1')
  const text = await editInventory(sandbox.inventory, (doc) =>
    doc.setIn(['sites', 1, 'supervisors'], doc.createNode([{ program: 'x', script: 'other.sh' }])),
  )
  let run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test-b'])
  assert.is(run.exitCode, 0, run.all)
  assert.ok((await snapshotDir(one, 'etc/supervisor/conf.d'))['app.test-b-x.conf'])
  // Remove every program of app.test: its files go, app.test-b's stay.
  await editInventory(sandbox.inventory, (doc) => doc.deleteIn(['sites', 0, 'supervisors']))
  run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, 'app.test-worker: removed process group')
  assert.equal(Object.keys(await snapshotDir(one, 'etc/supervisor/conf.d')), ['app.test-b-x.conf'])
  assert.not.ok((await snapshotDir(one, 'etc/logrotate.d'))['supervisor-app.test-worker.conf'])
  assert.equal(
    (await processesOn(one)).map((p) => p.group).filter((g) => g === 'app.test-worker'),
    [],
  )
  await fs.writeFile(sandbox.inventory, text)
})

sync(
  'two sites on one server: a second sync of both changes nothing, and present scripts are not reported missing',
  async ({ sandbox }) => {
    const text = await editInventory(sandbox.inventory, (doc) => {
      doc.addIn(['sites', 0, 'supervisors'], { program: 'other', script: 'other.sh' })
      doc.setIn(['sites', 1, 'supervisors'], doc.createNode([{ program: 'x', script: 'other.sh' }]))
    })
    const first = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--server', 'sandbox-1'])
    assert.is(first.exitCode, 0, first.all)
    assert.not.match(first.stderr, '/sites/app.test/current/', 'app.test has both scripts deployed')
    const second = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--server', 'sandbox-1'])
    assert.is(second.exitCode, 0, second.all)
    assert.match(second.stdout, /sandbox-1\s+ok=3 changed=0 failed=0/)
    await fs.writeFile(sandbox.inventory, text)
    const cleanup = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--server', 'sandbox-1'])
    assert.is(cleanup.exitCode, 0, cleanup.all)
  },
)

sync(
  'an unreachable server fails with a clear message and exit 1; the others are still synced',
  async ({ sandbox }) => {
    const text = await editInventory(sandbox.inventory, (doc) => {
      doc.setIn(['servers', 1, 'groups'], doc.createNode(['web']))
      doc.addIn(['servers'], { name: 'dead', host: '127.0.0.254', port: 2, username: 'deployer', groups: ['web'] })
    })
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--server', 'web'])
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.stderr, /dead: connection refused by 127\.0\.0\.254:2/)
    assert.match(run.stdout, /dead\s+ok=0 changed=0 failed=1/)
    assert.match(run.stdout, /sandbox-2\s+ok=0 changed=0 failed=0/)
    await fs.writeFile(sandbox.inventory, text)
  },
)

/** Which processes run, as name → state and pid (uptime moves on by itself). */
function pidsOf(processes: Array<{ name: string; state: string; pid?: number }>): string[] {
  return processes.map((p) => `${p.name} ${p.state} ${p.pid}`)
}

sync.run()
