import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployFlags, processesOn, startSandbox, type TestSandbox, writeAppDir } from '../helpers/sandbox.ts'

// The pipeline example: a rolling deploy to a site on two servers through tasks/deploy.mjs.

const deploy = suite<{ sandbox: TestSandbox; app: string }>('deploy pipeline on two sandbox servers')
const WORKER = '#!/bin/sh\necho "release $(basename "$DEPLOYER_RELEASE_PATH")"\nexec sleep 100000\n'

deploy.before(async (context) => {
  context.sandbox = await startSandbox(2)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: d.test
    server: [sandbox-1, sandbox-2]
    supervisors:
      - program: worker
        script: worker.sh
        numprocs: 2
        stopwaitsecs: 3
`,
  )
})

deploy.after(async ({ sandbox }) => {
  await sandbox?.down()
})

deploy(
  'a first deploy uploads the release, switches current, syncs and starts the programs on every server',
  async ({ sandbox, app }) => {
    const run = await runTask('deploy', [...deployFlags(sandbox, app, 'r1')])
    assert.is(run.exitCode, 0, run.all)
    for (const name of ['sandbox-1', 'sandbox-2']) {
      const host = sandbox.host(name)
      assert.is(await fs.readlink(path.join(host.root, 'home/deployer/sites/d.test/current')), 'releases/r1')
      assert.is((await processesOn(host)).filter((p) => p.state === 'RUNNING').length, 2)
      assert.match(run.stdout, new RegExp(`${name}\\s+release r1 live; 2 process\\(es\\) running`))
    }
  },
)

deploy('a second deploy restarts the unchanged programs on the new release', async ({ sandbox, app }) => {
  const before = (await processesOn(sandbox.host('sandbox-1'))).map((p) => p.pid)
  const run = await runTask('deploy', [...deployFlags(sandbox, app, 'r2')])
  assert.is(run.exitCode, 0, run.all)
  const host = sandbox.host('sandbox-1')
  const after = await processesOn(host)
  assert.ok(
    after.every((p) => p.state === 'RUNNING' && !before.includes(p.pid)),
    'restarted',
  )
  const log = await waitFor('a log line from r2', async () =>
    (await fs.readFile(path.join(host.root, 'var/log/supervisor/d.test-worker.log'), 'utf8')).includes('release r2'),
  )
  assert.ok(log)
})

deploy(
  'status names the release each process runs, and flags a stale one (exit 3) until a restart',
  async ({ sandbox }) => {
    const host = sandbox.host('sandbox-1')
    const current = path.join(host.root, 'home/deployer/sites/d.test/current')
    const fresh = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--json',
    ])
    assert.is(fresh.exitCode, 0, fresh.all)
    const running = JSON.parse(fresh.stdout).servers[0].programs[0].processes
    assert.equal(
      running.map((p: { release: string; stale: boolean }) => [p.release, p.stale]),
      [
        ['r2', false],
        ['r2', false],
      ],
    )
    // Point current back at r1 by hand, as a deploy that forgot to restart would leave it.
    await fs.rm(current)
    await fs.symlink('releases/r1', current)
    const stale = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--json',
    ])
    assert.is(stale.exitCode, 3, stale.all)
    const program = JSON.parse(stale.stdout).servers[0].programs[0]
    assert.equal(
      program.processes.map((p: { release: string; stale: boolean }) => [p.release, p.stale]),
      [
        ['r2', true],
        ['r2', true],
      ],
    )
    assert.match(program.drift.join('\n'), 'not the current r1: restart to pick up the deploy')
    const table = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--server', 'sandbox-1'])
    assert.match(table.stdout, /d\.test-worker_00\s+RUNNING.*r2 \(STALE\)/)
    const restart = await runTask('supervisor-restart', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'd.test',
      '--server',
      'sandbox-1',
    ])
    assert.is(restart.exitCode, 0, restart.all)
    const after = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--server', 'sandbox-1'])
    assert.is(after.exitCode, 0, after.all)
  },
)

deploy('bad input is exit 2 before anything is uploaded', async ({ sandbox, app }) => {
  const run = await runTask('deploy', [...deployFlags(sandbox, app, '../evil')])
  assert.is(run.exitCode, 2, run.all)
  assert.match(run.stderr, '--release: got "../evil"')
  assert.not.ok(await fs.stat(path.join(sandbox.host('sandbox-1').root, 'home/deployer/sites/evil')).catch(() => null))
})

deploy(
  "an app missing a program's script is refused before anything is uploaded or switched, naming the script",
  async ({ sandbox }) => {
    const app = await writeAppDir(path.join(sandbox.dir, 'no-worker'), { 'other.sh': WORKER })
    const current = path.join(sandbox.host('sandbox-1').root, 'home/deployer/sites/d.test/current')
    const before = await fs.readlink(current)
    const run = await runTask('deploy', [...deployFlags(sandbox, app, 'r9')])
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, '.deployer/supervisors/worker.sh (program worker)')
    assert.is(await fs.readlink(current), before, 'current not switched')
    assert.not.ok(
      await fs
        .stat(path.join(sandbox.host('sandbox-1').root, 'home/deployer/sites/d.test/releases/r9'))
        .catch(() => null),
      'nothing uploaded',
    )
  },
)

deploy.run()
