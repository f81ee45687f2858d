import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ProcessStatus } from '../../lib/supervisor/process.ts'
import { runTask, type TaskRun, waitFor } from '../helpers/run-task.ts'
import { deployApp, processesOn, startSandbox, type TestSandbox, WORKER } from '../helpers/sandbox.ts'
import { INNER_ALIAS, JUMP_ALIAS, loginsSince, sshdLog, writeAliasConfig } from '../helpers/ssh-alias.ts'

// An operator whose servers are reached through a bastion: the inventory says only `host: nu-inner` and names its ssh
// config (`sshConfig:`), whose alias sets User, Port, the key and a ProxyJump through another sandbox host. Sync,
// status, restart and logs each log in as the alias's user through the jump host, never as root.

interface Context {
  sandbox: TestSandbox
  inventory: string
  pid?: number
}
const journey = suite<Context>('journey: sync, status, restart and logs through an ssh_config alias with ProxyJump')

const GROUP = 'app.test-worker'

journey.before(async (context) => {
  context.sandbox = await startSandbox(2)
  const { sandbox } = context
  await writeAliasConfig(
    sandbox,
    path.join(sandbox.dir, 'client'),
    sandbox.host('sandbox-1'),
    sandbox.host('sandbox-2'),
  )
  context.inventory = path.join(sandbox.dir, 'inventory-alias.yml')
  await fs.writeFile(
    context.inventory,
    `sshConfig: client/ssh_config
servers:
  - name: inner
    host: ${INNER_ALIAS}
sites:
  - domain: app.test
    server: inner
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
`,
  )
  await deployApp(sandbox.host('sandbox-2'), 'app.test', { 'worker.sh': WORKER })
})

journey.after(async ({ sandbox }) => {
  await sandbox?.down()
})

/** One step of the journey: the run, and who logged in to the jump and the inner host meanwhile. */
async function step(
  sandbox: TestSandbox,
  task: string,
  args: string[],
): Promise<{ run: TaskRun; jump: string[]; inner: string[] }> {
  const [jump, inner] = [sandbox.host('sandbox-1'), sandbox.host('sandbox-2')]
  const before = [(await sshdLog(jump)).length, (await sshdLog(inner)).length] as const
  const run = await runTask(task, args)
  return { run, jump: await loginsSince(jump, before[0]), inner: await loginsSince(inner, before[1]) }
}

function assertLoggedInAsDeployer(logins: { jump: string[]; inner: string[] }, what: string): void {
  assert.equal([...new Set(logins.jump)], ['deployer'], `${what}: the hop through ${JUMP_ALIAS}, as deployer`)
  assert.equal([...new Set(logins.inner)], ['deployer'], `${what}: the login on ${INNER_ALIAS}, as deployer (not root)`)
}

const workers = async (sandbox: TestSandbox): Promise<ProcessStatus[]> =>
  (await processesOn(sandbox.host('sandbox-2'))).filter((p) => p.group === GROUP)
const runningWorker = async (
  sandbox: TestSandbox,
  what: string,
  accept: (p: ProcessStatus) => boolean = () => true,
): Promise<ProcessStatus> =>
  (await waitFor(
    what,
    async () => (await workers(sandbox)).find((p) => p.state === 'RUNNING' && accept(p)),
    30_000,
  )) as ProcessStatus

journey(
  "1. sync: exit 0, the worker runs on the inner host, logged in as the alias's user; nothing on the jump host",
  async (context) => {
    const { sandbox, inventory } = context
    const sync = await step(sandbox, 'supervisor-sync', ['--inventory', inventory, '--all', '--verbose'])
    assert.is(sync.run.exitCode, 0, sync.run.all)
    assertLoggedInAsDeployer(sync, 'sync')
    assert.match(
      sync.run.stderr,
      `inner: logs in as deployer@${sandbox.host('sandbox-2').address}:22, through ProxyJump ${JUMP_ALIAS}`,
    )
    context.pid = (await runningWorker(sandbox, 'the worker RUNNING after sync')).pid
    assert.ok(context.pid)
    assert.equal(
      (await processesOn(sandbox.host('sandbox-1'))).filter((p) => p.group === GROUP),
      [],
      'the jump host is only a hop',
    )
  },
)

journey('2. status: exit 0, the worker RUNNING, as deployer', async ({ sandbox, inventory }) => {
  const status = await step(sandbox, 'supervisor-status', ['--inventory', inventory])
  assert.is(status.run.exitCode, 0, status.run.all)
  assert.match(status.run.stdout, new RegExp(`inner\\s+${GROUP.replace('.', '\\.')}\\s+\\S+\\s+RUNNING`))
  assertLoggedInAsDeployer(status, 'status')
})

journey('3. restart --domain: exit 0, a new pid, as deployer', async (context) => {
  const { sandbox, inventory } = context
  const restart = await step(sandbox, 'supervisor-restart', ['--inventory', inventory, '--domain', 'app.test'])
  assert.is(restart.run.exitCode, 0, restart.run.all)
  assertLoggedInAsDeployer(restart, 'restart')
  const after = await runningWorker(sandbox, 'the worker RUNNING with a new pid', (p) => p.pid !== context.pid)
  assert.is.not(after.pid, context.pid)
})

journey("4. logs: exit 0, the worker's own lines, as deployer", async ({ sandbox, inventory }) => {
  const logs = await step(sandbox, 'server-logs', [
    '--inventory',
    inventory,
    '--server',
    'inner',
    '--service',
    'supervisor:app.test/worker',
  ])
  assert.is(logs.run.exitCode, 0, logs.run.all)
  assert.match(logs.run.stdout, `worker ${GROUP}`)
  assertLoggedInAsDeployer(logs, 'logs')
})

journey.run()
