import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PROJECT, runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, processesOn, startSandbox, type TestSandbox } from '../helpers/sandbox.ts'

// The server lock covers checking and swapping files, not waiting: while a worker that ignores SIGTERM takes its
// stopwaitsecs to stop, a sync of another site on the same server goes through.

const slow = suite<{ sandbox: TestSandbox }>('a slow worker never blocks another site')
const STUBBORN = "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n"
const QUICK = '#!/bin/sh\nexec sleep 100000\n'

slow.before(async (context) => {
  context.sandbox = await startSandbox(1)
  await addSites(
    context.sandbox.inventory,
    `
  - domain: slow.test
    server: sandbox-1
    supervisors:
      - program: stubborn
        script: stubborn.sh
        stopwaitsecs: 20
  - domain: fast.test
    server: sandbox-1
    supervisors:
      - program: quick
        script: quick.sh
        stopwaitsecs: 2
`,
  )
  const host = context.sandbox.host('sandbox-1')
  await deployApp(host, 'slow.test', { 'stubborn.sh': STUBBORN })
  await deployApp(host, 'fast.test', { 'quick.sh': QUICK })
  const first = await runTask('supervisor-sync', ['--inventory', context.sandbox.inventory, '--all'])
  assert.is(first.exitCode, 0, first.all)
  await waitFor('both running', async () => (await processesOn(host)).filter((p) => p.state === 'RUNNING').length === 2)
})

slow.after(async ({ sandbox }) => {
  await sandbox?.down()
})

slow(
  'another site syncs while the stubborn worker is still STOPPING; both end as the inventory wants',
  async ({ sandbox }) => {
    const host = sandbox.host('sandbox-1')
    const text = await fs.readFile(sandbox.inventory, 'utf8')
    await fs.writeFile(
      sandbox.inventory,
      text.replace('stopwaitsecs: 20', 'stopwaitsecs: 19').replace('stopwaitsecs: 2\n', 'stopwaitsecs: 3\n'),
    )
    const slowSync = execa(
      process.execPath,
      [
        path.join(PROJECT, 'node_modules/zx/build/cli.js'),
        path.join(PROJECT, 'tasks/supervisor-sync.mjs'),
        '--inventory',
        sandbox.inventory,
        '--domain',
        'slow.test',
      ],
      { cwd: PROJECT, reject: false, all: true, stdin: 'ignore', env: { NO_COLOR: '1' } },
    )
    await waitFor(
      'the stubborn worker STOPPING',
      async () => (await processesOn(host)).some((p) => p.group === 'slow.test-stubborn' && p.state === 'STOPPING'),
      20_000,
    )

    const fast = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'fast.test'])
    assert.is(fast.exitCode, 0, fast.all)
    assert.match(fast.stdout, 'fast.test-quick: updated process group')
    const during = await processesOn(host)
    assert.ok(
      during.some((p) => p.group === 'slow.test-stubborn' && p.state === 'STOPPING'),
      `the other sync finished while the worker still stops: ${JSON.stringify(during.map((p) => [p.name, p.state]))}`,
    )

    const done = await slowSync
    assert.is(done.exitCode, 0, String(done.all))
    assert.match(
      String(done.all),
      /waiting for slow\.test-stubborn:slow\.test-stubborn_00 to stop \(since \d\d:\d\d:\d\d, stopwaitsecs 20\)/,
    )
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
    assert.is(status.exitCode, 0, status.all)
  },
)

slow(
  'Ctrl-C while waiting exits 130, names what is still stopping; the update finishes on the server',
  async ({ sandbox }) => {
    const host = sandbox.host('sandbox-1')
    const text = await fs.readFile(sandbox.inventory, 'utf8')
    await waitFor(
      'the stubborn worker RUNNING',
      async () => (await processesOn(host)).some((p) => p.group === 'slow.test-stubborn' && p.state === 'RUNNING'),
      30_000,
    )
    await fs.writeFile(sandbox.inventory, text.replace('stopwaitsecs: 19', 'stopwaitsecs: 6'))
    const child = execa(
      process.execPath,
      [
        path.join(PROJECT, 'node_modules/zx/build/cli.js'),
        path.join(PROJECT, 'tasks/supervisor-sync.mjs'),
        '--inventory',
        sandbox.inventory,
        '--domain',
        'slow.test',
      ],
      { cwd: PROJECT, reject: false, all: true, stdin: 'ignore', env: { NO_COLOR: '1' } },
    )
    await waitFor(
      'the sync waiting for the stubborn worker',
      async () => (await processesOn(host)).some((p) => p.group === 'slow.test-stubborn' && p.state === 'STOPPING'),
      20_000,
    )
    await new Promise((resolve) => setTimeout(resolve, 2500))
    child.kill('SIGINT')
    const result = await child
    assert.is(result.exitCode, 130, String(result.all))
    assert.match(
      String(result.all),
      /sandbox-1: slow\.test-stubborn:slow\.test-stubborn_00 is still stopping \(stopwaitsecs 19\); the update goes on there/,
    )
    // The update goes on without us: the worker is killed after its stopwaitsecs and started with the new conf.
    await waitFor(
      'the stubborn worker RUNNING again',
      async () => (await processesOn(host)).some((p) => p.group === 'slow.test-stubborn' && p.state === 'RUNNING'),
      30_000,
    )
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
    assert.is(status.exitCode, 0, status.all)
  },
)

slow.run()
