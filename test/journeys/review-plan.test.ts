import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  editInventory,
  processesOn,
  startSandbox,
  type TestSandbox,
  WORKER,
  writeAppDir,
} from '../helpers/sandbox.ts'
import { serverState } from '../helpers/server-state.ts'

// Review a plan: a program with a plain value, a secret-looking literal and a value from the environment is synced;
// the operator changes two values, reviews the dry run (diff and --json) and applies it. The plan shows the plain
// value on both sides and the others only as fingerprints; every step's exit code and the server's state are checked.

const DOMAIN = 'plan.test'
const GROUP = `${DOMAIN}-worker`
const TOKEN = 'abc-token-7731'
const NEW_TOKEN = 'def-token-8842'
const DB_PASSWORD = 'db-pass-9953'
const FINGERPRINT = /\[REDACTED [0-9a-f]{8}\]/

const journey = suite<{ sandbox: TestSandbox; app: string; conf: string; env: Record<string, string> }>(
  'journey: review a plan before a sync',
)

journey.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: ${DOMAIN}
    server: sandbox-1
`,
  )
  await deployApp(context.sandbox.host('sandbox-1'), DOMAIN, { 'worker.sh': WORKER })
  context.conf = path.join(context.sandbox.host('sandbox-1').root, `etc/supervisor/conf.d/${GROUP}.conf`)
  // A fingerprint key of the journey's own, and the secret the inventory refers to.
  context.env = { ZXS_FINGERPRINT_KEY_FILE: path.join(context.sandbox.dir, 'fingerprint.key'), DB_PASSWORD }
})

journey.after(async ({ sandbox }) => {
  await sandbox?.down()
})

/** The running process of the program and the environment supervisor gave it (read from /proc on the server). */
async function runningWorker(sandbox: TestSandbox): Promise<{ pid: number; env: Record<string, string> } | null> {
  const host = sandbox.host('sandbox-1')
  const process = (await processesOn(host)).find((p) => p.group === GROUP && p.state === 'RUNNING')
  if (!process?.pid) return null
  const environ = await hostExec(host, ['cat', `/proc/${process.pid}/environ`])
  if (environ.exitCode !== 0) return null
  const env = Object.fromEntries(
    environ.stdout
      .split('\0')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  )
  return { pid: process.pid, env }
}

type Worker = NonNullable<Awaited<ReturnType<typeof runningWorker>>>

/** Waits (with waitFor's deadline) for a running worker that `wanted` accepts. */
async function waitForWorker(
  sandbox: TestSandbox,
  what: string,
  wanted: (worker: Worker) => boolean = () => true,
): Promise<Worker> {
  return (await waitFor(what, async () => {
    const worker = await runningWorker(sandbox)
    return worker && wanted(worker) ? worker : null
  })) as Worker
}

journey(
  '1. create with a plain value, a secret-looking literal and a reference: exit 0, nothing sent yet',
  async ({ sandbox, app, conf, env }) => {
    const run = await runTask(
      'supervisor-create',
      [
        '--inventory',
        sandbox.inventory,
        '--domain',
        DOMAIN,
        '--program',
        'worker',
        '--script',
        'worker.sh',
        '--app-dir',
        app,
        '--stopwaitsecs',
        '2',
        '--env',
        'QUEUE=high',
        '--env',
        `API_TOKEN=${TOKEN}`,
        '--env-from-env',
        'DB_PASSWORD',
      ],
      { env },
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, '--env QUEUE=high')
    assert.match(run.stdout, /--env 'API_TOKEN=\[REDACTED [0-9a-f]{8}\]'/)
    assert.match(run.stdout, '--env-from-env DB_PASSWORD')
    assert.not.match(run.all, TOKEN)
    assert.match(
      await fs.readFile(sandbox.inventory, 'utf8'),
      /QUEUE: high\n\s+API_TOKEN: abc-token-7731\n\s+DB_PASSWORD: \{ from_env: DB_PASSWORD \}/,
    )
    assert.not.ok(await fs.stat(conf).catch(() => null), 'no conf on the server yet')
  },
)

journey('2. sync: exit 0, the program runs with the three values', async ({ sandbox, env }) => {
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', DOMAIN], { env })
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, `${GROUP}: added process group`)
  const worker = await waitForWorker(sandbox, 'the worker RUNNING')
  assert.is(worker.env.QUEUE, 'high')
  assert.is(worker.env.API_TOKEN, TOKEN)
  assert.is(worker.env.DB_PASSWORD, DB_PASSWORD)
  assert.not.match(run.all, TOKEN)
  assert.not.match(run.all, DB_PASSWORD)
})

journey(
  '3. change QUEUE and API_TOKEN, dry run: exit 0, QUEUE high → low in the clear, the others as fingerprints (diff and --json), server untouched',
  async ({ sandbox, env }) => {
    await editInventory(sandbox.inventory, (doc) => {
      doc.setIn(['sites', 0, 'supervisors', 0, 'environment', 'QUEUE'], 'low')
      doc.setIn(['sites', 0, 'supervisors', 0, 'environment', 'API_TOKEN'], NEW_TOKEN)
    })
    const before = await serverState(sandbox.host('sandbox-1'), DOMAIN)
    // One run shows both: under --json the human lines, the diff among them, go to stderr and the document to stdout.
    const run = await runTask(
      'supervisor-sync',
      ['--inventory', sandbox.inventory, '--domain', DOMAIN, '--dry-run', '--json'],
      { env },
    )
    assert.is(run.exitCode, 0, run.all)
    const removed = run.stderr.split('\n').find((line) => line.startsWith('-environment=')) ?? ''
    const added = run.stderr.split('\n').find((line) => line.startsWith('+environment=')) ?? ''
    assert.match(removed, 'QUEUE=high,', run.stderr)
    assert.match(added, 'QUEUE=low,', run.stderr)
    for (const line of [removed, added]) {
      assert.match(line, new RegExp(`API_TOKEN=${FINGERPRINT.source}`))
      assert.match(line, new RegExp(`DB_PASSWORD=${FINGERPRINT.source}`))
    }
    assert.is.not(
      /API_TOKEN=(\[[^\]]+\])/.exec(removed)?.[1],
      /API_TOKEN=(\[[^\]]+\])/.exec(added)?.[1],
      'the token changed: two fingerprints',
    )
    assert.is(
      /DB_PASSWORD=(\[[^\]]+\])/.exec(removed)?.[1],
      /DB_PASSWORD=(\[[^\]]+\])/.exec(added)?.[1],
      'the password did not: one fingerprint',
    )

    const document = JSON.parse(run.stdout) as {
      servers: Array<{
        changes: Array<{
          path: string
          environment?: Array<{ key: string; before: string | null; after: string | null }>
        }>
      }>
    }
    const conf = document.servers[0]?.changes.find((c) => c.path.endsWith(`${GROUP}.conf`))
    assert.equal(
      conf?.environment?.find((e) => e.key === 'QUEUE'),
      { key: 'QUEUE', before: 'high', after: 'low' },
    )
    const token = conf?.environment?.find((e) => e.key === 'API_TOKEN')
    assert.match(token?.before ?? '', FINGERPRINT)
    assert.match(token?.after ?? '', FINGERPRINT)
    assert.not.ok(
      conf?.environment?.some((e) => e.key === 'DB_PASSWORD'),
      'an unchanged value is not listed',
    )

    for (const value of [TOKEN, NEW_TOKEN, DB_PASSWORD]) assert.not.match(run.all, value)
    assert.equal(await serverState(sandbox.host('sandbox-1'), DOMAIN), before, 'nothing changed on the server')
  },
)

journey('4. sync: exit 0, the program restarted with the new values', async ({ sandbox, env, conf }) => {
  const old = await runningWorker(sandbox)
  assert.ok(old)
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', DOMAIN], { env })
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, `${GROUP}: updated process group`)
  const worker = await waitForWorker(sandbox, 'the worker RUNNING again on a new pid', (now) => now.pid !== old?.pid)
  assert.is(worker.env.QUEUE, 'low')
  assert.is(worker.env.API_TOKEN, NEW_TOKEN)
  assert.is(worker.env.DB_PASSWORD, DB_PASSWORD)
  assert.match(await fs.readFile(conf, 'utf8'), `QUEUE="low"`)
  for (const value of [TOKEN, NEW_TOKEN, DB_PASSWORD]) assert.not.match(run.all, value)
})

journey('5. sync --check: exit 0, nothing pending', async ({ sandbox, env }) => {
  const before = await serverState(sandbox.host('sandbox-1'), DOMAIN)
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', DOMAIN, '--check'], {
    env,
  })
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, 'up to date, nothing to do')
  assert.equal(await serverState(sandbox.host('sandbox-1'), DOMAIN), before, 'nothing changed on the server')
})

journey.run()
