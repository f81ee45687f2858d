import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ProcessStatus } from '../../lib/supervisor/process.ts'
import { hostExec } from '../../sandbox/index.ts'
import { runTask } from '../helpers/run-task.ts'
import {
  addSites,
  deployFlags,
  editInventory,
  processesOn,
  snapshotDir,
  startSandbox,
  type TestSandbox,
  writeAppDir,
} from '../helpers/sandbox.ts'

// Rolling deploys on one 6-server sandbox (shared by every test of this file, in order): gated batches, a failing
// batch rolled back while later batches stay untouched, --max-fail letting one failure pass, --restart none leaving
// the processes stale, and --keep pruning old releases but never current or previous.

const rollout = suite<{ sandbox: TestSandbox; good: string; bad: string }>(
  'rolling deploy in gated batches on six sandbox servers',
)
const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3', 'sandbox-4', 'sandbox-5', 'sandbox-6']
const SITE_ROOT = 'home/deployer/sites/d.test'
const CONF_DIR = 'etc/supervisor/conf.d'
const GOOD_WORKER = '#!/bin/sh\nexec sleep 100000\n'
const BAD_WORKER = '#!/bin/sh\necho "cannot start" >&2\nexit 1\n'

interface ServerReport {
  server: string
  ok: boolean
  outcome: string
  release: string | null
  batch?: number
  reason?: string
  switchedAt?: string
  gatePassedAt?: string
  pruned?: string[]
}
interface Report {
  ok: boolean
  batches: string[][]
  stoppedAfterBatch: number | null
  failures: number
  servers: ServerReport[]
}

rollout.before(async (context) => {
  context.sandbox = await startSandbox(6)
  context.good = await writeAppDir(path.join(context.sandbox.dir, 'good'), { 'worker.sh': GOOD_WORKER })
  context.bad = await writeAppDir(path.join(context.sandbox.dir, 'bad'), { 'worker.sh': BAD_WORKER })
  // Small startsecs/stopwaitsecs and one start retry keep the gates and the failures quick.
  await addSites(
    context.sandbox.inventory,
    `
  - domain: d.test
    server: [${SERVERS.join(', ')}]
    supervisors:
      - program: worker
        script: worker.sh
        numprocs: 1
        startsecs: 1
        startretries: 1
        stopwaitsecs: 1
`,
  )
})

rollout.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const deployRun = (sandbox: TestSandbox, app: string, release: string, extra: string[] = []) =>
  runTask(
    'deploy',
    [...deployFlags(sandbox, app, release), '--batch', '2', '--hold', '1', '--wait', '20', '--json', ...extra],
    { timeoutMs: 300_000 },
  )

const currentOf = (sandbox: TestSandbox, name: string) =>
  fs.readlink(path.join(sandbox.host(name).root, SITE_ROOT, 'current'))
const workerOf = async (sandbox: TestSandbox, name: string): Promise<ProcessStatus | undefined> =>
  (await processesOn(sandbox.host(name))).find((p) => p.group === 'd.test-worker')
/** The release directory a process really runs, from its environment (runner.sh exports it). */
async function releaseRunBy(sandbox: TestSandbox, name: string, pid: number): Promise<string> {
  const environ = await hostExec(sandbox.host(name), ['cat', `/proc/${pid}/environ`])
  return path.basename(/DEPLOYER_RELEASE_PATH=([^\0]*)/.exec(environ.stdout)?.[1] ?? '')
}
const byServer = (report: Report) => new Map(report.servers.map((s) => [s.server, s]))

rollout(
  'a good release goes out in three gated batches: each batch switches only after the previous batch passed its gate',
  async ({ sandbox, good }) => {
    const run = await deployRun(sandbox, good, 'r1')
    assert.is(run.exitCode, 0, run.all)
    const report = JSON.parse(run.stdout) as Report
    assert.equal(report.batches, [
      ['sandbox-1', 'sandbox-2'],
      ['sandbox-3', 'sandbox-4'],
      ['sandbox-5', 'sandbox-6'],
    ])
    for (const [index, batch] of report.batches.entries()) {
      const servers = report.servers.filter((s) => batch.includes(s.server))
      assert.ok(
        servers.every((s) => s.outcome === 'deployed' && s.release === 'r1' && s.batch === index + 1),
        JSON.stringify(servers),
      )
      const next = report.servers.filter((s) => report.batches[index + 1]?.includes(s.server))
      const gatesPassed = Math.max(...servers.map((s) => Date.parse(s.gatePassedAt as string)))
      for (const later of next)
        assert.ok(
          Date.parse(later.switchedAt as string) >= gatesPassed,
          `${later.server} switched at ${later.switchedAt}, before batch ${index + 1}'s gate passed`,
        )
    }
    // The human lines say the same: batch 2 starts after batch 1 is done.
    assert.ok(
      run.stderr.indexOf('batch 1/3 done: 2/2 passed the gate') < run.stderr.indexOf('batch 2/3: sandbox-3, sandbox-4'),
      run.stderr,
    )
    for (const name of SERVERS) {
      assert.is(await currentOf(sandbox, name), 'releases/r1')
      const worker = await workerOf(sandbox, name)
      assert.is(worker?.state, 'RUNNING')
      assert.is(await releaseRunBy(sandbox, name, worker?.pid as number), 'r1')
    }
    assert.match(run.stderr, /sandbox-1\s+ok=1 changed=1 failed=0\s+r1 \(new\)/)
  },
)

rollout(
  "a release whose worker exits at start fails its batch's gate and is rolled back; later batches are never touched",
  async ({ sandbox, bad }) => {
    const before = new Map(
      await Promise.all(
        SERVERS.map(
          async (name) =>
            [
              name,
              { conf: await snapshotDir(sandbox.host(name), CONF_DIR), pid: (await workerOf(sandbox, name))?.pid },
            ] as const,
        ),
      ),
    )
    // The release also changes the program's conf, so the rollback must put the old bytes back.
    const inventoryText = await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 0, 'supervisors', 0, 'environment'], { RELEASE_FLAVOUR: 'bad' }),
    )
    try {
      const run = await deployRun(sandbox, bad, 'r2')
      assert.is(run.exitCode, 1, run.all)
      const report = JSON.parse(run.stdout) as Report
      assert.equal([report.stoppedAfterBatch, report.failures], [1, 2])
      const servers = byServer(report)
      for (const name of ['sandbox-1', 'sandbox-2']) {
        const server = servers.get(name) as ServerReport
        assert.equal([server.outcome, server.release, server.ok], ['rolled-back', 'r1', false])
        assert.match(server.reason as string, /^d\.test-worker_00 (fatal|exited|backoff)/)
        const host = sandbox.host(name)
        assert.equal(
          await snapshotDir(host, CONF_DIR),
          before.get(name)?.conf,
          `${name}: conf.d as before the sync, byte for byte`,
        )
        assert.is(await currentOf(sandbox, name), 'releases/r1')
        const worker = await workerOf(sandbox, name)
        assert.is(worker?.state, 'RUNNING', `${name}: ${JSON.stringify(worker)}`)
        assert.is.not(worker?.pid, before.get(name)?.pid, `${name}: restarted`)
        assert.is(await releaseRunBy(sandbox, name, worker?.pid as number), 'r1')
        assert.match(
          run.stderr,
          new RegExp(`${name}\\s+ok=0 changed=1 failed=1\\s+r1 \\(rolled back: d\\.test-worker_00 `),
        )
      }
      for (const name of ['sandbox-3', 'sandbox-4', 'sandbox-5', 'sandbox-6']) {
        const server = servers.get(name) as ServerReport
        assert.equal(
          [server.outcome, server.release, server.reason],
          ['not-deployed', 'r1', 'rollout stopped after batch 1'],
        )
        assert.is(await currentOf(sandbox, name), 'releases/r1')
        assert.equal(await snapshotDir(sandbox.host(name), CONF_DIR), before.get(name)?.conf)
        assert.is((await workerOf(sandbox, name))?.pid, before.get(name)?.pid, `${name}: untouched, same pid`)
        assert.not.ok(
          await fs.stat(path.join(sandbox.host(name).root, SITE_ROOT, 'releases/r2')).catch(() => null),
          `${name}: nothing uploaded`,
        )
        assert.match(
          run.stderr,
          new RegExp(`${name}\\s+ok=0 changed=0 failed=0\\s+r1 \\(not deployed: rollout stopped after batch 1\\)`),
        )
      }
      // A rolled-back server differs from the inventory on purpose: status shows its conf as drift.
      const status = await runTask('supervisor-status', [
        '--inventory',
        sandbox.inventory,
        '--server',
        'sandbox-1',
        '--json',
      ])
      assert.is(status.exitCode, 3, status.all)
      assert.match(JSON.parse(status.stdout).servers[0].programs[0].drift.join('\n'), 'differs from the inventory')
    } finally {
      await fs.writeFile(sandbox.inventory, inventoryText)
    }
  },
)

rollout(
  '--max-fail 1 lets one failing server pass (--restart one-by-one): the rollout goes on, that server is rolled back, exit 1',
  async ({ sandbox, good }) => {
    await hostExec(sandbox.host('sandbox-4'), ['touch', '/tmp/zxs-fail-here'])
    const pidOn4 = (await workerOf(sandbox, 'sandbox-4'))?.pid
    try {
      const run = await deployRun(sandbox, good, 'r3', [
        '--max-fail',
        '1',
        '--restart',
        'one-by-one',
        '--health-cmd',
        'test ! -e /tmp/zxs-fail-here',
      ])
      assert.is(run.exitCode, 1, run.all)
      assert.match(run.stderr, /sandbox-1\s+restarted one by one: d\.test-worker/)
      const report = JSON.parse(run.stdout) as Report
      assert.equal([report.stoppedAfterBatch, report.failures], [null, 1])
      for (const server of report.servers) {
        if (server.server === 'sandbox-4') {
          assert.equal([server.outcome, server.release], ['rolled-back', 'r1'])
          assert.match(server.reason as string, /^health command exited 1: test ! -e \/tmp\/zxs-fail-here/)
        } else assert.equal([server.server, server.outcome, server.release], [server.server, 'deployed', 'r3'])
        assert.is(await currentOf(sandbox, server.server), `releases/${server.release}`)
      }
      const worker = await workerOf(sandbox, 'sandbox-4')
      assert.is(worker?.state, 'RUNNING')
      assert.is.not(worker?.pid, pidOn4)
      assert.is(await releaseRunBy(sandbox, 'sandbox-4', worker?.pid as number), 'r1')
      assert.match(run.stderr, /sandbox-4\s+ok=0 changed=1 failed=1\s+r1 \(rolled back: health command exited 1/)
    } finally {
      await hostExec(sandbox.host('sandbox-4'), ['rm', '-f', '/tmp/zxs-fail-here'])
    }
  },
)

rollout(
  '--restart none: the processes keep their release, status shows them stale (exit 3); --keep 2 never prunes current or previous',
  async ({ sandbox, good }) => {
    const pids = new Map(
      await Promise.all(SERVERS.map(async (name) => [name, (await workerOf(sandbox, name))?.pid] as const)),
    )
    const run = await deployRun(sandbox, good, 'r4', ['--restart', 'none', '--keep', '2'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stderr, /sandbox-1\s+--restart none: the programs keep running their release until restarted/)
    for (const name of SERVERS) {
      assert.is(await currentOf(sandbox, name), 'releases/r4')
      assert.is((await workerOf(sandbox, name))?.pid, pids.get(name), `${name}: not restarted`)
    }
    const status = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'd.test',
      '--json',
    ])
    assert.is(status.exitCode, 3, status.all)
    const processes = JSON.parse(status.stdout).servers.map(
      (s: { server: string; programs: Array<{ processes: Array<{ release: string; stale: boolean }> }> }) => [
        s.server,
        s.programs[0]?.processes.map((p) => [p.release, p.stale]),
      ],
    )
    assert.equal(
      processes,
      SERVERS.map((name) => [name, [[name === 'sandbox-4' ? 'r1' : 'r3', true]]]),
    )
    // sandbox-1 held r1, r2 (the failed one), r3 and r4: r4 (current) and r3 (previous) stay. sandbox-4 went back to r1
    // after r3 failed there, so r1 is its previous release and stays next to r4 and r3.
    const releases = async (name: string) =>
      (await fs.readdir(path.join(sandbox.host(name).root, SITE_ROOT, 'releases'))).sort()
    assert.equal(await releases('sandbox-1'), ['r3', 'r4'])
    assert.equal(await releases('sandbox-4'), ['r1', 'r3', 'r4'])
    assert.equal(await releases('sandbox-6'), ['r3', 'r4'])
    assert.equal(byServer(JSON.parse(run.stdout) as Report).get('sandbox-1')?.pruned, ['r2', 'r1'])
  },
)

rollout.run()
