import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { startTask } from '../helpers/interrupt.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addDeploySite,
  deployFlags,
  processesOn,
  startSandbox,
  type TestSandbox,
  writeAppDir,
} from '../helpers/sandbox.ts'

// SIGINT to a rolling deploy in the middle of its first batch (4 servers, --batch 2): exit 130, no "failed"/"rolling
// back" for connections the run closed itself, one summary with each server's state and the command that finishes
// the deploy, no temporary link left; then that command converges every server and status exits 0.

const interrupted = suite<{ sandbox: TestSandbox; app: string }>(
  'Ctrl-C during a rolling deploy on four sandbox servers',
)
const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3', 'sandbox-4']
const SITE_ROOT = 'home/deployer/sites/d.test'
// The gate's health command waits for this file: the first batch cannot pass its gate before the test allows it.
const GO_FILE = '/tmp/zxs-deploy-go'

interrupted.before(async (context) => {
  context.sandbox = await startSandbox(4)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': '#!/bin/sh\nexec sleep 100000\n' })
  await addDeploySite(context.sandbox.inventory, SERVERS)
})

interrupted.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const deployArgs = (sandbox: TestSandbox, app: string, release: string) => [
  ...deployFlags(sandbox, app, release),
  '--batch',
  '2',
  '--hold',
  '0',
  '--wait',
  '30',
  '--health-cmd',
  `until [ -e ${GO_FILE} ]; do sleep 0.2; done`,
]
const currentOf = (sandbox: TestSandbox, name: string) =>
  fs.readlink(path.join(sandbox.host(name).root, SITE_ROOT, 'current')).catch(() => null)
const allowGate = (sandbox: TestSandbox, names: string[]) =>
  Promise.all(names.map((name) => hostExec(sandbox.host(name), ['touch', GO_FILE])))
const blockGate = (sandbox: TestSandbox) =>
  Promise.all(SERVERS.map((name) => hostExec(sandbox.host(name), ['rm', '-f', GO_FILE])))
/** Files next to current that a switch may create for a moment (current.zxs-next) and must never leave. */
const strayLinks = async (sandbox: TestSandbox) =>
  (
    await Promise.all(
      SERVERS.map(async (name) =>
        (
          await fs.readdir(path.join(sandbox.host(name).root, SITE_ROOT))
        )
          .filter((f) => f.startsWith('current.'))
          .map((f) => `${name}:${f}`),
      ),
    )
  ).flat()

interrupted(
  'SIGINT once the first batch has switched: exit 130, no rollback claimed, a summary per server, no link left; the same deploy again converges',
  async ({ sandbox, app }) => {
    await allowGate(sandbox, SERVERS)
    const first = await runTask('deploy', deployArgs(sandbox, app, 'v1'))
    assert.is(first.exitCode, 0, first.all)
    await blockGate(sandbox)

    const task = startTask('deploy', deployArgs(sandbox, app, 'v2'))
    await waitFor(
      'the first batch switched to v2',
      async () =>
        (await currentOf(sandbox, 'sandbox-1')) === 'releases/v2' &&
        (await currentOf(sandbox, 'sandbox-2')) === 'releases/v2',
      60_000,
    )
    task.interrupt('SIGINT')
    const run = await task.done
    assert.is(run.exitCode, 130, run.all)
    assert.not.match(
      run.all,
      /rolling back|rolled back to|was lost|failed:/,
      `nothing failed and nothing was rolled back:\n${run.all}`,
    )
    assert.match(run.all, /sandbox-1\s+ok=0 changed=1 failed=0\s+v2 \(interrupted: switched, not gated\)/)
    assert.match(run.all, /sandbox-2\s+ok=0 changed=1 failed=0\s+v2 \(interrupted: switched, not gated\)/)
    assert.match(run.all, /sandbox-3\s+ok=0 changed=0 failed=0\s+\(not started\)/)
    assert.match(run.all, /sandbox-4\s+ok=0 changed=0 failed=0\s+\(not started\)/)
    assert.match(run.all, /run the same deploy again: npx zx tasks\/deploy\.mjs --domain d\.test .*--release v2/)
    assert.equal(await strayLinks(sandbox), [])
    for (const name of ['sandbox-3', 'sandbox-4'])
      assert.is(await currentOf(sandbox, name), 'releases/v1', `${name}: untouched`)

    // A leftover of an older, cut-off switch is removed by the next deploy.
    await fs.symlink('releases/v1', path.join(sandbox.host('sandbox-3').root, SITE_ROOT, 'current.zxs-next'))
    await allowGate(sandbox, SERVERS)
    const again = await runTask('deploy', deployArgs(sandbox, app, 'v2'))
    assert.is(again.exitCode, 0, again.all)
    assert.equal(await strayLinks(sandbox), [])
    for (const name of SERVERS) {
      assert.is(await currentOf(sandbox, name), 'releases/v2', name)
      const worker = (await processesOn(sandbox.host(name))).find((p) => p.group === 'd.test-worker')
      assert.is(worker?.state, 'RUNNING', `${name}: ${JSON.stringify(worker)}`)
    }
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 'd.test'])
    assert.is(status.exitCode, 0, status.all)
  },
)

interrupted.run()
