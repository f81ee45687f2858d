import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { dropSshSessions, hostExec, type SandboxHost, startSshd } from '../../sandbox/index.ts'
import { activationStarted, nothingAtWork, takeServerLock } from '../helpers/activation.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, onOneServer, processesOn, type TestSandbox, WORKER } from '../helpers/sandbox.ts'

// An operator syncs, changes the inventory, syncs again — and the connection drops (with the login session torn down)
// while the activation waits on the server. The server finishes on its own; status then shows the new state, and
// the next sync has nothing left to do.

const DOMAIN = 'drop.test'
const GROUP = `${DOMAIN}-worker`

interface Context {
  sandbox: TestSandbox
  host: SandboxHost
}

const journey = suite<Context>('journey: a sync whose connection drops finishes on the server')

const sync = ({ sandbox }: Context) =>
  runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', DOMAIN])

/** The worker's processes that run, by name, and the X its processes were started with. */
async function running(host: SandboxHost): Promise<{ names: string[]; x: string[] }> {
  const processes = (await processesOn(host)).filter((p) => p.group === GROUP && p.state === 'RUNNING' && p.pid)
  const x = await Promise.all(
    processes.map(async (p) =>
      (await hostExec(host, ['sh', '-c', `tr '\\0' '\\n' < /proc/${p.pid}/environ | sed -n 's/^X=//p'`])).stdout.trim(),
    ),
  )
  return { names: processes.map((p) => p.name).sort(), x: [...new Set(x)] }
}

const names = (count: number) =>
  Array.from({ length: count }, (_, i) => `${GROUP}:${GROUP}_${String(i).padStart(2, '0')}`)

onOneServer(journey, async (context) => {
  await deployApp(context.host, DOMAIN, { 'worker.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: ${DOMAIN}
    server: sandbox-1
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 3
        environment:
          X: v1
`,
  )
})

journey('1. sync v1: exit 0, one worker running with X=v1', async (context) => {
  const run = await sync(context)
  assert.is(run.exitCode, 0, run.all)
  const now = await waitFor('v1 running', async () => {
    const state = await running(context.host)
    return state.names.length === 1 && state
  })
  assert.equal(now, { names: names(1), x: ['v1'] })
})

journey(
  '2. v2 synced while the connection drops mid-activation: exit 1, the server finishes on its own',
  async (context) => {
    const inventory = context.sandbox.inventory
    await fs.writeFile(
      inventory,
      (await fs.readFile(inventory, 'utf8'))
        .replace('X: v1', 'X: v2')
        .replace('stopwaitsecs: 3', 'stopwaitsecs: 3\n        numprocs: 2'),
    )
    // Another sync's lock keeps our activation waiting on the server, so the drop lands in the middle of it.
    const release = await takeServerLock(context.host)
    let run: Awaited<ReturnType<typeof sync>>
    try {
      const syncing = sync(context)
      await activationStarted(context.host)
      await dropSshSessions(context.host)
      run = await syncing
    } finally {
      await release()
      await startSshd(context.host)
    }
    assert.is(run.exitCode, 1, run.all)
    assert.match(
      run.all,
      /sandbox-1: .*(lost|closed)[\s\S]*the server finishes or rolls back the activation on its own/,
    )
    const conf = await fs.readFile(path.join(context.host.root, `etc/supervisor/conf.d/${GROUP}.conf`), 'utf8')
    assert.ok(/X="v1"/.test(conf) || /X="v2"/.test(conf), conf)
  },
)

journey('3. the server converges by itself: two workers running with X=v2, nothing pending', async (context) => {
  await waitFor(
    'the server converged on v2',
    async () => {
      if (!(await nothingAtWork(context.host))) return false
      const state = await running(context.host)
      const pending = (await hostExec(context.host, ['supervisorctl', 'reread'])).stdout.trim()
      return (
        pending === 'No config updates to processes' &&
        JSON.stringify(state) === JSON.stringify({ names: names(2), x: ['v2'] })
      )
    },
    60_000,
  )
  const conf = await fs.readFile(path.join(context.host.root, `etc/supervisor/conf.d/${GROUP}.conf`), 'utf8')
  assert.match(conf, /X="v2"/)
  assert.match(conf, /numprocs=2/)
  assert.equal(
    (await fs.readdir(path.join(context.host.root, 'var/tmp'))).filter((n) => n.startsWith('zxs-stage-')),
    [],
    'no staging dir left',
  )
})

journey('4. status: exit 0, both workers RUNNING', async (context) => {
  const status = await runTask('supervisor-status', ['--inventory', context.sandbox.inventory, '--domain', DOMAIN])
  assert.is(status.exitCode, 0, status.all)
  for (const name of names(2)) assert.match(status.stdout, new RegExp(`${name.split(':')[1]}\\s+RUNNING`))
})

journey('5. sync again: exit 0, changed=0, the same pids', async (context) => {
  const before = (await processesOn(context.host)).map((p) => `${p.name} ${p.pid}`)
  const run = await sync(context)
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, /sandbox-1\s+ok=1 changed=0 failed=0/)
  assert.equal(
    (await processesOn(context.host)).map((p) => `${p.name} ${p.pid}`),
    before,
  )
})

journey.run()
