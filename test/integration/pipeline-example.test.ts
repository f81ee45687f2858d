import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PROJECT } from '../helpers/run-task.ts'
import { addSites, processesOn, startSandbox, type TestSandbox, writeAppDir } from '../helpers/sandbox.ts'

// The README's "Write your own pipeline" example, run as a user runs it: `npx zx tasks/pipeline-example.mjs`.

const pipeline = suite<{ sandbox: TestSandbox; app: string }>('the pipeline example on two sandbox servers')
const WORKER = '#!/bin/sh\nexec sleep 100000\n'

pipeline.before(async (context) => {
  context.sandbox = await startSandbox(2)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: p.test
    server: [sandbox-1, sandbox-2]
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
`,
  )
})

pipeline.after(async ({ sandbox }) => {
  await sandbox?.down()
})

function npxZx(args: string[]) {
  return execa('npx', ['zx', path.join(PROJECT, 'tasks/pipeline-example.mjs'), ...args], {
    cwd: PROJECT,
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: 180_000,
    env: { NO_COLOR: '1', CI: 'true' },
  })
}

pipeline(
  'deploys with its own steps: health command in the release, a line per server in the local log',
  async ({ sandbox, app }) => {
    const log = path.join(sandbox.dir, 'deploy.log')
    const run = await npxZx([
      '--inventory',
      sandbox.inventory,
      '--domain',
      'p.test',
      '--app-dir',
      app,
      '--release',
      'r1',
      '--deploy-log',
      log,
      '--health-cmd',
      'test -x .deployer/supervisors/worker.sh',
    ])
    assert.is(run.exitCode, 0, String(run.all))
    const lines = (await fs.readFile(log, 'utf8')).trim().split('\n')
    assert.is(lines.length, 2)
    assert.match(lines[0] ?? '', / p\.test r1 sandbox-1 1 running$/)
    assert.match(lines[1] ?? '', / p\.test r1 sandbox-2 1 running$/)
    for (const name of ['sandbox-1', 'sandbox-2']) {
      const host = sandbox.host(name)
      assert.is(await fs.readlink(path.join(host.root, 'home/deployer/sites/p.test/current')), 'releases/r1')
      assert.ok(
        (await processesOn(host)).some((p) => p.group === 'p.test-worker' && p.state === 'RUNNING'),
        name,
      )
    }
  },
)

pipeline(
  'a failing health command stops the rollout at the first server, reporting what was applied there',
  async ({ sandbox, app }) => {
    const log = path.join(sandbox.dir, 'deploy.log')
    const run = await npxZx([
      '--inventory',
      sandbox.inventory,
      '--domain',
      'p.test',
      '--app-dir',
      app,
      '--release',
      'r2',
      '--deploy-log',
      log,
      '--health-cmd',
      'exit 7',
      '--json',
    ])
    assert.is(run.exitCode, 1, String(run.all))
    assert.match(
      String(run.stderr),
      'sandbox-1: applied upload, sync, switch, restart, then failed: health command failed (exit 7)',
    )
    const result = JSON.parse(String(run.stdout))
    assert.equal(
      result.servers.map((s: { ok: boolean }) => s.ok),
      [false, false],
    )
    assert.is((await fs.readFile(log, 'utf8')).trim().split('\n').length, 2, 'no line for a failed server')
  },
)

pipeline.run()
