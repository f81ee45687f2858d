import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec, type SandboxHost } from '../../sandbox/index.ts'
import { runTask } from '../helpers/run-task.ts'
import {
  addSites,
  editInventory,
  processesOn,
  startSandbox,
  type TestSandbox,
  writeAppDir,
} from '../helpers/sandbox.ts'

// Who owns what sync and deploy create for a site: every directory belongs to the site user, whoever logs in.
// Sync first, then a deploy of a site not yet on the server: the normal migration order.

const dirs = suite<{ sandbox: TestSandbox; app: string }>('site directories belong to the site user')
const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3', 'sandbox-4']
const WORKER = '#!/bin/sh\nexec sleep 100000\n'

dirs.before(async (context) => {
  context.sandbox = await startSandbox(4)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: a.test
    server: [${SERVERS.join(', ')}]
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
  - domain: b.test
    server: [${SERVERS.join(', ')}]
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
`,
  )
  // Two servers log in as the site user, two as root: the owner must not depend on who logs in.
  await editInventory(context.sandbox.inventory, (doc) => {
    doc.setIn(['servers', 2, 'username'], 'root')
    doc.setIn(['servers', 3, 'username'], 'root')
  })
})

dirs.after(async ({ sandbox }) => {
  await sandbox?.down()
})

/** `owner:group mode path` of each path, as the server sees it. */
async function owners(host: SandboxHost, paths: string[]): Promise<string[]> {
  const result = await hostExec(host, ['stat', '-c', '%U:%G %a %n', '--', ...paths])
  return result.stdout.trim().split('\n')
}

dirs('sync creates the sites path and the site root as the site user', async ({ sandbox }) => {
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'a.test'])
  assert.is(run.exitCode, 0, run.all)
  for (const name of SERVERS) {
    assert.equal(
      await owners(sandbox.host(name), ['/home/deployer/sites', '/home/deployer/sites/a.test']),
      ['deployer:deployer 755 /home/deployer/sites', 'deployer:deployer 755 /home/deployer/sites/a.test'],
      name,
    )
  }
})

dirs(
  "then a --batch 2 deploy of a site new to the servers passes on all four, its directories the site user's",
  async ({ sandbox, app }) => {
    const run = await runTask('deploy', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'b.test',
      '--app-dir',
      app,
      '--release',
      'r1',
      '--batch',
      '2',
      '--hold',
      '0',
    ])
    assert.is(run.exitCode, 0, run.all)
    assert.not.match(run.all, 'Permission denied')
    for (const name of SERVERS) {
      const host = sandbox.host(name)
      const root = '/home/deployer/sites/b.test'
      assert.equal(
        await owners(host, [
          root,
          `${root}/releases`,
          `${root}/shared`,
          `${root}/releases/r1`,
          `${root}/releases/r1/.deployer/supervisors/worker.sh`,
        ]),
        [
          `deployer:deployer 755 ${root}`,
          `deployer:deployer 755 ${root}/releases`,
          `deployer:deployer 755 ${root}/shared`,
          `deployer:deployer 755 ${root}/releases/r1`,
          `deployer:deployer 755 ${root}/releases/r1/.deployer/supervisors/worker.sh`,
        ],
        name,
      )
      assert.ok(
        (await processesOn(host)).some((p) => p.group === 'b.test-worker' && p.state === 'RUNNING'),
        `${name}: b.test-worker running`,
      )
    }
  },
)

dirs.run()
