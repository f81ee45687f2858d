import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PROGRAM_FILES, SITE_FILES } from '../../lib/layout.ts'
import { hostExec } from '../../sandbox/index.ts'
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
} from '../helpers/sandbox.ts'

// What a first sync of a site with one program writes: the contract's site files and one program's files.
const ONE_PROGRAM_SITE_FILES = SITE_FILES.length + PROGRAM_FILES.length

// Ownership through the real tasks: sync changes only files whose marker names this inventory, refuses files that
// are not ours (or adopts unmarked ones with --adopt), removes leftovers of sites taken off a server, and the
// servers match the inventory.

const owned = suite<{ sandbox: TestSandbox }>('ownership and leftovers on sandbox servers')

owned.before(async (context) => {
  context.sandbox = await startSandbox(2)
  await addSites(
    context.sandbox.inventory,
    `
  - domain: o.test
    server: [sandbox-1, sandbox-2]
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
`,
  )
  for (const name of ['sandbox-1', 'sandbox-2'])
    await deployApp(context.sandbox.host(name), 'o.test', { 'worker.sh': WORKER })
})

owned.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const CONF = 'etc/supervisor/conf.d/o.test-worker.conf'
const HAND_WRITTEN = '[program:o.test-worker]\ncommand=/bin/sleep 100000\nuser=deployer\n'

async function sync(sandbox: TestSandbox, ...args: string[]) {
  return runTask('supervisor-sync', ['--inventory', sandbox.inventory, ...args])
}

owned(
  'an unmarked file at a path sync wants is refused, per server, and nothing on that server changes',
  async ({ sandbox }) => {
    const one = sandbox.host('sandbox-1')
    await fs.writeFile(path.join(one.root, CONF), HAND_WRITTEN)
    const dry = await sync(sandbox, '--domain', 'o.test', '--dry-run')
    assert.is(dry.exitCode, 1, dry.all)
    assert.match(
      dry.stderr,
      'sandbox-1: refused: /etc/supervisor/conf.d/o.test-worker.conf (owner: no zx-supervisor marker',
    )
    const run = await sync(sandbox, '--domain', 'o.test')
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.stderr, '--adopt')
    assert.is(await fs.readFile(path.join(one.root, CONF), 'utf8'), HAND_WRITTEN)
    assert.not.ok(
      (await snapshotDir(one, 'etc/logrotate.d'))['supervisor-o.test-worker.conf'],
      'nothing else was written on sandbox-1',
    )
    assert.match(
      run.stdout,
      new RegExp(`sandbox-2\\s+ok=1 changed=${ONE_PROGRAM_SITE_FILES} failed=0`),
      'the other server is synced',
    )
  },
)

owned('--adopt --dry-run shows the adoption; --adopt takes the unmarked file over', async ({ sandbox }) => {
  const one = sandbox.host('sandbox-1')
  const dry = await sync(sandbox, '--domain', 'o.test', '--adopt', '--dry-run')
  assert.is(dry.exitCode, 0, dry.all)
  assert.match(dry.stdout, 'sandbox-1  would adopt (unmarked) /etc/supervisor/conf.d/o.test-worker.conf')
  assert.is(await fs.readFile(path.join(one.root, CONF), 'utf8'), HAND_WRITTEN)
  const run = await sync(sandbox, '--domain', 'o.test', '--adopt')
  assert.is(run.exitCode, 0, run.all)
  assert.match(
    await fs.readFile(path.join(one.root, CONF), 'utf8'),
    /^; zx-supervisor inventory=default site=o.test program=worker\n/,
  )
  await waitFor('the worker running', async () =>
    (await processesOn(one)).some((p) => p.group === 'o.test-worker' && p.state === 'RUNNING'),
  )
})

owned(
  'an adoption supervisor rejects is undone whole: the hand-written file back, no kept copy left',
  async ({ sandbox }) => {
    const one = sandbox.host('sandbox-1')
    const adopted = path.join(one.root, 'var/lib/zx-supervisor/adopted')
    const keptBefore = (await fs.readdir(adopted).catch(() => [])).sort()
    await fs.writeFile(path.join(one.root, CONF), HAND_WRITTEN)
    const text = await editInventory(sandbox.inventory, (doc) =>
      doc.addIn(['sites', 0, 'supervisors'], { program: 'broken', script: 'other.sh', user: 'nosuchuser' }),
    )
    const run = await sync(sandbox, '--domain', 'o.test', '--adopt', '--server', 'sandbox-1')
    await fs.writeFile(sandbox.inventory, text)
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.stderr, 'supervisor rejected the new configuration; the previous files were restored')
    assert.is(await fs.readFile(path.join(one.root, CONF), 'utf8'), HAND_WRITTEN)
    assert.equal((await fs.readdir(adopted).catch(() => [])).sort(), keptBefore)
    const again = await sync(sandbox, '--domain', 'o.test', '--adopt')
    assert.is(again.exitCode, 0, again.all)
    assert.match(
      again.stdout,
      /sandbox-1  \+ \(adopted\) \/etc\/supervisor\/conf\.d\/o\.test-worker\.conf \(original kept in \/var\/lib\/zx-supervisor\/adopted\/\d{8}T\d{6}Z-[0-9a-f]{6}\/etc\/supervisor\/conf\.d\/o\.test-worker\.conf\)/,
    )
  },
)

owned("another inventory's file is refused, even with --adopt", async ({ sandbox }) => {
  const one = sandbox.host('sandbox-1')
  const theirs = (await fs.readFile(path.join(one.root, CONF), 'utf8')).replace('inventory=default', 'inventory=blog')
  await fs.writeFile(path.join(one.root, CONF), theirs)
  const run = await sync(sandbox, '--domain', 'o.test', '--adopt')
  assert.is(run.exitCode, 1, run.all)
  assert.match(run.stderr, "owner: inventory 'blog', site o.test, program worker")
  assert.is(await fs.readFile(path.join(one.root, CONF), 'utf8'), theirs)
})

owned('a marker without an inventory id counts as ours and is upgraded on the next sync', async ({ sandbox }) => {
  const one = sandbox.host('sandbox-1')
  const legacy = (await fs.readFile(path.join(one.root, CONF), 'utf8')).replace('inventory=blog ', '')
  await fs.writeFile(path.join(one.root, CONF), legacy)
  const run = await sync(sandbox, '--domain', 'o.test')
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, '~ /etc/supervisor/conf.d/o.test-worker.conf')
  assert.match(
    await fs.readFile(path.join(one.root, CONF), 'utf8'),
    /^; zx-supervisor inventory=default site=o.test program=worker\n/,
  )
})

owned(
  'a server taken off a site: --domain leaves it (with a hint), status shows leftovers, --server removes them',
  async ({ sandbox }) => {
    const two = sandbox.host('sandbox-2')
    const text = await editInventory(sandbox.inventory, (doc) => doc.setIn(['sites', 0, 'server'], 'sandbox-1'))
    const domain = await sync(sandbox, '--domain', 'o.test')
    assert.is(domain.exitCode, 0, domain.all)
    assert.match(domain.stdout, "hint: --domain visits only o.test's servers (sandbox-1)")
    assert.ok(
      (await snapshotDir(two, 'etc/supervisor/conf.d'))['o.test-worker.conf'],
      '--domain did not visit sandbox-2',
    )

    const status = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-2',
      '--json',
    ])
    assert.is(status.exitCode, 3, status.all)
    const leftovers = JSON.parse(status.stdout)
      .servers[0].leftovers.map((l: { path: string }) => l.path)
      .sort()
    assert.equal(leftovers, [
      '/etc/logrotate.d/supervisor-o.test-worker.conf',
      '/etc/supervisor/conf.d/o.test-worker.conf',
      '/home/deployer/sites/o.test/runner.sh',
    ])

    const dry = await sync(sandbox, '--server', 'sandbox-2', '--dry-run')
    assert.is(dry.exitCode, 0, dry.all)
    assert.match(
      dry.stdout,
      'would remove /etc/supervisor/conf.d/o.test-worker.conf (site o.test is no longer placed on this server by the inventory)',
    )
    assert.match(dry.stdout, '--- /etc/supervisor/conf.d/o.test-worker.conf')
    const run = await sync(sandbox, '--server', 'sandbox-2')
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'o.test-worker: removed process group')
    assert.equal(await snapshotDir(two, 'etc/supervisor/conf.d'), {})
    assert.equal(
      (await processesOn(two)).filter((p) => p.group === 'o.test-worker'),
      [],
    )
    const clean = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--server', 'sandbox-2'])
    assert.is(clean.exitCode, 0, clean.all)
    await fs.writeFile(sandbox.inventory, text)
  },
)

owned('a site removed from the inventory altogether: --all removes its programs everywhere', async ({ sandbox }) => {
  const all = await sync(sandbox, '--all')
  assert.is(all.exitCode, 0, all.all)
  const text = await editInventory(sandbox.inventory, (doc) => doc.deleteIn(['sites', 0]))
  const run = await sync(sandbox, '--all')
  assert.is(run.exitCode, 0, run.all)
  for (const name of ['sandbox-1', 'sandbox-2']) {
    assert.equal(await snapshotDir(sandbox.host(name), 'etc/supervisor/conf.d'), {}, name)
    assert.equal(
      (await processesOn(sandbox.host(name))).filter((p) => p.group === 'o.test-worker'),
      [],
      name,
    )
  }
  await fs.writeFile(sandbox.inventory, text)
  const back = await sync(sandbox, '--all')
  assert.is(back.exitCode, 0, back.all)
})

owned(
  'status reports every differing file, runner.sh drift, and extra processes as drift (exit 3)',
  async ({ sandbox }) => {
    const one = sandbox.host('sandbox-1')
    await fs.appendFile(path.join(one.root, CONF), '; edited\n')
    await fs.appendFile(path.join(one.root, 'etc/logrotate.d/supervisor-o.test-worker.conf'), '# edited\n')
    await fs.chmod(path.join(one.root, 'home/deployer/sites/o.test/runner.sh'), 0o700)
    const run = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--json',
    ])
    assert.is(run.exitCode, 3, run.all)
    const server = JSON.parse(run.stdout).servers[0]
    const drift: string[] = server.programs[0].drift
    assert.ok(
      drift.some((d) => d.startsWith('/etc/supervisor/conf.d/o.test-worker.conf differs')),
      drift.join('\n'),
    )
    assert.ok(
      drift.some((d) => d.startsWith('/etc/logrotate.d/supervisor-o.test-worker.conf differs')),
      drift.join('\n'),
    )
    assert.match(
      server.siteDrift.join('\n'),
      '/home/deployer/sites/o.test/runner.sh has owner/mode deployer:deployer 0700, expected deployer:deployer 0755',
    )
    const fixed = await sync(sandbox, '--domain', 'o.test')
    assert.is(fixed.exitCode, 0, fixed.all)

    // A process supervisor runs beyond numprocs: lower numprocs in the conf on disk and apply it by hand.
    const text = await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 0, 'supervisors', 0, 'numprocs'], 2),
    )
    assert.is((await sync(sandbox, '--domain', 'o.test')).exitCode, 0)
    await fs.writeFile(sandbox.inventory, text)
    const extra = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--json',
    ])
    assert.is(extra.exitCode, 3, extra.all)
    const program = JSON.parse(extra.stdout).servers[0].programs[0]
    assert.ok(
      program.drift.some((d: string) => d.includes('more than numprocs 1: o.test-worker_01')),
      program.drift.join('\n'),
    )
    assert.is((await sync(sandbox, '--domain', 'o.test')).exitCode, 0)
  },
)

owned(
  'an interrupted sync leaves no staging directory; activation sweeps one left by a killed run, status does not',
  async ({ sandbox }) => {
    const one = sandbox.host('sandbox-1')
    const stale = path.join(one.root, 'var/tmp/zxs-stage-0123456789abcdef01234567')
    await fs.mkdir(stale, { mode: 0o700 })
    await fs.writeFile(path.join(stale, 'f0'), 'SECRET=1\n')
    await hostExec(one, ['chown', '-R', 'deployer:deployer', '/var/tmp/zxs-stage-0123456789abcdef01234567'])
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--server', 'sandbox-1'])
    assert.ok(await fs.stat(stale), `status never sweeps (exit ${status.exitCode})`)
    const text = await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 0, 'supervisors', 0, 'numprocs'], 2),
    )
    const run = await sync(sandbox, '--domain', 'o.test')
    assert.is(run.exitCode, 0, run.all)
    assert.is(await fs.stat(stale).catch(() => null), null, 'swept by activation')
    assert.equal(
      (await fs.readdir(path.join(one.root, 'var/tmp'))).filter((n) => n.startsWith('zxs-stage-')),
      [],
      'its own staging dir is gone too',
    )
    await fs.writeFile(sandbox.inventory, text)
    assert.is((await sync(sandbox, '--domain', 'o.test')).exitCode, 0)
  },
)

owned(
  'two entries of one inventory that would write the same files are exit 2, before any connection',
  async ({ sandbox }) => {
    const text = await editInventory(sandbox.inventory, (doc) => {
      doc.addIn(
        ['sites'],
        doc.createNode({
          domain: 'o.test-b',
          server: 'sandbox-2',
          supervisors: [{ program: 'other', script: 'other.sh' }],
        }),
      )
      doc.addIn(['sites', 0, 'supervisors'], doc.createNode({ program: 'b-other', script: 'other.sh' }))
    })
    let run = await sync(sandbox, '--all')
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, "'o.test-b-other'")
    await fs.writeFile(sandbox.inventory, text)
    await editInventory(sandbox.inventory, (doc) => {
      doc.addIn(
        ['sites'],
        doc.createNode({ domain: 'shared.test', server: 'sandbox-1', root: '/home/deployer/sites/o.test' }),
      )
    })
    run = await sync(sandbox, '--all')
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, 'a site root no other site uses on the same server')
    await fs.writeFile(sandbox.inventory, text)
  },
)

owned.run()
