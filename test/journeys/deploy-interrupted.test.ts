import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { startTask } from '../helpers/interrupt.ts'
import { PROJECT, runTask, waitFor } from '../helpers/run-task.ts'
import {
  addDeploySite,
  deployFlags,
  editInventory,
  processesOn,
  startSandbox,
  type TestSandbox,
  writeAppDir,
} from '../helpers/sandbox.ts'

// An operator deploys v1, then v2 (which also changes the worker's environment) and presses Ctrl-C in the middle of
// the first batch; looks at status; runs the command the summary printed; looks at status again. The server state
// and the exit code are checked at every step.

const journey = suite<{ sandbox: TestSandbox; app: string }>(
  'journey: deploy, Ctrl-C mid-batch, status, the same deploy again',
)
const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3']
const FIRST_BATCH = ['sandbox-1', 'sandbox-2']
const SITE_ROOT = 'home/deployer/sites/d.test'
const CONF = 'etc/supervisor/conf.d/d.test-worker.conf'
// The health command says it runs (the sync and restart are done), then waits until the test lets the gate pass.
const GATE_WAITING = '/tmp/zxs-gate-waiting'
const GATE_GO = '/tmp/zxs-gate-go'

journey.before(async (context) => {
  context.sandbox = await startSandbox(3)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': '#!/bin/sh\nexec sleep 100000\n' })
  await addDeploySite(context.sandbox.inventory, SERVERS)
})

journey.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const deployArgs = (sandbox: TestSandbox, app: string, release: string, batch = '2') => [
  ...deployFlags(sandbox, app, release),
  '--batch',
  batch,
  '--hold',
  '0',
  '--wait',
  '30',
  '--health-cmd',
  `touch ${GATE_WAITING}; until [ -e ${GATE_GO} ]; do sleep 0.2; done`,
]
const onEach = (sandbox: TestSandbox, names: string[], argv: string[]) =>
  Promise.all(names.map((name) => hostExec(sandbox.host(name), argv)))

/** Where current points, the release the worker runs (from its environment) and whether its conf has QUEUE. */
async function stateOf(
  sandbox: TestSandbox,
  name: string,
): Promise<{ current: string | null; runs: string | null; queue: boolean }> {
  const host = sandbox.host(name)
  const current = await fs.readlink(path.join(host.root, SITE_ROOT, 'current')).catch(() => null)
  const worker = (await processesOn(host)).find((p) => p.group === 'd.test-worker' && p.state === 'RUNNING')
  const environ = worker?.pid ? (await hostExec(host, ['cat', `/proc/${worker.pid}/environ`])).stdout : ''
  const runs = /DEPLOYER_RELEASE_PATH=[^\0]*\/releases\/([^\0/]+)/.exec(environ)?.[1] ?? null
  const queue = (await fs.readFile(path.join(host.root, CONF), 'utf8')).includes('QUEUE')
  return { current: current && path.basename(current), runs, queue }
}
const statesOf = async (sandbox: TestSandbox) =>
  Object.fromEntries(await Promise.all(SERVERS.map(async (name) => [name, await stateOf(sandbox, name)] as const)))
const strayLinks = async (sandbox: TestSandbox) =>
  (
    await Promise.all(
      SERVERS.map(async (name) =>
        (await fs.readdir(path.join(sandbox.host(name).root, SITE_ROOT))).filter((f) => f.startsWith('current.')),
      ),
    )
  ).flat()

interface StatusProgram {
  drift: string[]
  processes: Array<{ release: string; stale: boolean }>
}
const statusOf = (run: { stdout: string }) =>
  Object.fromEntries(
    (JSON.parse(run.stdout).servers as Array<{ server: string; programs: StatusProgram[] }>).map((s) => [
      s.server,
      s.programs.map((p) => ({
        drift: p.drift.length > 0,
        releases: p.processes.map((q) => `${q.release}${q.stale ? ' stale' : ''}`),
      })),
    ]),
  )

journey(
  'deploy v1 → deploy v2 with Ctrl-C in batch 1 → status → the printed command → status',
  async ({ sandbox, app }) => {
    // 1. deploy v1 (all servers in one batch, to keep the journey short): exit 0, every server on v1; status 0.
    await onEach(sandbox, SERVERS, ['touch', GATE_GO])
    const v1 = await runTask('deploy', deployArgs(sandbox, app, 'v1', '100%'))
    assert.is(v1.exitCode, 0, v1.all)
    assert.equal(
      await statesOf(sandbox),
      Object.fromEntries(SERVERS.map((name) => [name, { current: 'v1', runs: 'v1', queue: false }])),
    )
    const first = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 'd.test'])
    assert.is(first.exitCode, 0, first.all)

    // 2. deploy v2 (the worker gets QUEUE), Ctrl-C once batch 1 waits in its gate: exit 130 and one summary.
    await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 0, 'supervisors', 0, 'environment'], { QUEUE: 'high' }),
    )
    await onEach(sandbox, SERVERS, ['rm', '-f', GATE_GO, GATE_WAITING])
    const task = startTask('deploy', deployArgs(sandbox, app, 'v2'))
    await waitFor(
      'batch 1 in its gate',
      async () =>
        (
          await Promise.all(
            FIRST_BATCH.map((name) =>
              fs.stat(path.join(sandbox.host(name).root, GATE_WAITING)).then(
                () => true,
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      60_000,
    )
    task.interrupt('SIGINT', { group: true })
    const v2 = await task.done
    assert.is(v2.exitCode, 130, v2.all)
    assert.not.match(v2.all, /rolling back|rolled back to|was lost|failed:|^error:/m, v2.all)
    for (const name of FIRST_BATCH)
      assert.match(
        v2.all,
        new RegExp(`${name}\\s+ok=0 changed=1 failed=0\\s+v2 \\(interrupted: switched, not gated\\)`),
        v2.all,
      )
    assert.match(v2.all, /sandbox-3\s+ok=0 changed=0 failed=0\s+\(not started\)/)
    const next = /run the same deploy again: (.+)$/m.exec(v2.stderr)?.[1]
    assert.ok(next?.startsWith('npx zx tasks/deploy.mjs '), v2.all)
    assert.equal(await strayLinks(sandbox), [])
    assert.equal(await statesOf(sandbox), {
      'sandbox-1': { current: 'v2', runs: 'v2', queue: true },
      'sandbox-2': { current: 'v2', runs: 'v2', queue: true },
      'sandbox-3': { current: 'v1', runs: 'v1', queue: false },
    })

    // 3. status: exit 3; it names the drift where it is (sandbox-3's conf is not the inventory's yet).
    const middle = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'd.test',
      '--json',
    ])
    assert.is(middle.exitCode, 3, middle.all)
    assert.equal(statusOf(middle), {
      'sandbox-1': [{ drift: false, releases: ['v2'] }],
      'sandbox-2': [{ drift: false, releases: ['v2'] }],
      'sandbox-3': [{ drift: true, releases: ['v1'] }],
    })

    // 4. the command the summary printed, as typed: exit 0, every server on v2 with the new conf.
    await onEach(sandbox, SERVERS, ['touch', GATE_GO])
    const again = await execa('sh', ['-c', next as string], {
      cwd: PROJECT,
      reject: false,
      all: true,
      env: { NO_COLOR: '1' },
      timeout: 120_000,
    })
    assert.is(again.exitCode, 0, again.all)
    assert.equal(
      await statesOf(sandbox),
      Object.fromEntries(SERVERS.map((name) => [name, { current: 'v2', runs: 'v2', queue: true }])),
    )
    assert.equal(await strayLinks(sandbox), [])

    // 5. status: exit 0.
    const last = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 'd.test'])
    assert.is(last.exitCode, 0, last.all)
  },
)

journey.run()
