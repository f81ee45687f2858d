import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AUDIT_LOG } from '../../lib/audit.ts'
import { hostExec, type SandboxHost } from '../../sandbox/index.ts'
import { ADOPTED, HANDMADE, handmadeMailer } from '../helpers/imported-original.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  deployApp,
  existsOn,
  onHost,
  onOneServer,
  processesOn,
  processStates,
  type TestSandbox,
  WORKER,
} from '../helpers/sandbox.ts'

// deploy --adopt after supervisor-import --write-scripts: one command ships the wrapper in a release and replaces
// the hand-written original with ours. Refused before any change without --adopt; a failed gate puts the original
// back (its file, its program running under its own name) with current on the previous release.

const DOMAIN = 'da.test'
const ROOT = `/home/deployer/sites/${DOMAIN}`
const OURS = `/etc/supervisor/conf.d/${DOMAIN}-mailer.conf`
const ORIGINAL = handmadeMailer(ROOT)

interface AuditLine {
  task: string
  action: string
  result: string
  flags: Record<string, unknown>
  change: { files?: string[]; groups?: { updated?: string[] } }
}

interface Context {
  sandbox: TestSandbox
  host: SandboxHost
  app: string
}

const adopt = suite<Context>('deploy --adopt takes imported programs over in the release it ships')

onOneServer(adopt, async (context) => {
  // Release r1 runs, without any script of ours; the mailer is a hand-written conf started from it.
  await deployApp(context.host, DOMAIN, { 'other.sh': WORKER })
  await fs.writeFile(onHost(context.host, HANDMADE), ORIGINAL)
  await hostExec(context.host, ['chmod', '0640', HANDMADE])
  await hostExec(context.host, ['supervisorctl', 'update'])
  await waitFor('the hand-written mailer running', async () => (await processStates(context.host)).mailer === 'RUNNING')
  context.app = path.join(context.sandbox.dir, 'app')
  await fs.mkdir(context.app)
})

async function pidOf(host: SandboxHost, name: string): Promise<number | null> {
  return (await processesOn(host)).find((p) => p.name === name)?.pid ?? null
}

const current = (host: SandboxHost) => fs.readlink(onHost(host, `${ROOT}/current`))

const deploy = ({ sandbox, app }: Context, ...args: string[]) =>
  runTask('deploy', ['--inventory', sandbox.inventory, '--domain', DOMAIN, '--app-dir', app, '--hold', '0', ...args])

adopt(
  'import --write-scripts prints one next step: deploy --adopt of the app the wrapper went into',
  async (context) => {
    const { sandbox, app } = context
    const run = await runTask('supervisor-import', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--write-scripts',
      app,
    ])
    assert.is(run.exitCode, 0, run.all)
    assert.ok(await existsOn(context.host, HANDMADE), 'import never changes a server')
    const printed = /^ {2}npx zx tasks\/deploy\.mjs (.+)$/m.exec(run.stdout)?.[1]
    assert.is(printed, `--inventory ${sandbox.inventory} --domain ${DOMAIN} --app-dir ${app} --adopt`, run.stdout)
    assert.not.match(run.stdout, 'supervisor-sync.mjs')
    assert.not.match(run.stdout, 'into the release each server runs')
  },
)

adopt(
  'deploy without --adopt: refused before the upload (nothing on the server changes), with the hint to add --adopt',
  async (context) => {
    const { host } = context
    const pid = await pidOf(host, 'mailer')
    const run = await deploy(context, '--release', 'r2')
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.all, `${HANDMADE} (owner: the original of imported ${DOMAIN}-mailer (supervisor would run both)`)
    assert.match(run.all, 'run with --adopt')
    assert.is(await current(host), 'releases/r1')
    assert.not.ok(await existsOn(host, `${ROOT}/releases/r2`), 'nothing uploaded')
    assert.is(await fs.readFile(onHost(host, HANDMADE), 'utf8'), ORIGINAL)
    assert.not.ok(await existsOn(host, OURS))
    assert.is(await pidOf(host, 'mailer'), pid, 'the original never stopped')
  },
)

adopt(
  'deploy --adopt whose gate fails: rolled back to r1, the original file back as it was, its program running again, ours gone',
  async (context) => {
    const { host } = context
    const mode = (await hostExec(host, ['stat', '-c', '%U:%G %a', HANDMADE])).stdout.trim()
    assert.match(mode, / 640$/)
    const run = await deploy(context, '--adopt', '--release', 'r3', '--health-cmd', 'false')
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.all, /rolled back to r1/)
    assert.is(await current(host), 'releases/r1')
    assert.is(await fs.readFile(onHost(host, HANDMADE), 'utf8'), ORIGINAL)
    assert.is((await hostExec(host, ['stat', '-c', '%U:%G %a', HANDMADE])).stdout.trim(), mode)
    assert.not.ok(await existsOn(host, OURS), 'our conf is removed again')
    const now = await waitFor('the original running again under its own name', async () => {
      const all = await processStates(host)
      return all.mailer === 'RUNNING' ? all : null
    })
    assert.equal(Object.keys(now ?? {}), ['mailer'], 'ours is not running')
    const pid = (await pidOf(host, 'mailer')) as number
    const cwd = await hostExec(host, ['readlink', `/proc/${pid}/cwd`])
    assert.is(cwd.stdout.trim(), `${ROOT}/releases/r1`)
  },
)

adopt(
  'deploy --adopt: one command ships the wrapper, removes the original (a copy kept) and runs ours; status 0; audited',
  async (context) => {
    const { host, sandbox } = context
    const run = await deploy(context, '--adopt', '--release', 'r4')
    assert.is(run.exitCode, 0, run.all)
    assert.is(await current(host), 'releases/r4')
    assert.match(
      run.stdout,
      new RegExp(`sandbox-1 +removed imported original ${HANDMADE}; original kept in ${ADOPTED}/[^/]+${HANDMADE}`),
    )
    assert.not.ok(await existsOn(host, HANDMADE), 'the original is removed')
    const kept = await hostExec(host, ['find', ADOPTED, '-type', 'f', '-path', `*${HANDMADE}`])
    const copies = kept.stdout.trim().split('\n').filter(Boolean)
    assert.ok(copies.length >= 1, kept.stdout + kept.stderr)
    for (const copy of copies) assert.is(await fs.readFile(onHost(host, copy), 'utf8'), ORIGINAL)
    const process = `${DOMAIN}-mailer:${DOMAIN}-mailer_00`
    const now = await waitFor('ours running', async () => {
      const all = await processStates(host)
      return all[process] === 'RUNNING' ? all : null
    })
    assert.equal(Object.keys(now ?? {}), [process], 'supervisor no longer runs the original')
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', DOMAIN])
    assert.is(status.exitCode, 0, status.all)
    const trail = (await fs.readFile(onHost(host, AUDIT_LOG), 'utf8')).trim().split('\n')
    const lines = trail.map((line) => JSON.parse(line) as AuditLine)
    const sync = lines.findLast((l) => l.task === 'deploy' && l.action === 'sync')
    assert.is(sync?.result, 'ok', trail.join('\n'))
    assert.is(sync?.flags.adopt, true)
    assert.ok(sync?.change.files?.includes(HANDMADE), JSON.stringify(sync))
    assert.ok(sync?.change.groups?.updated?.includes('mailer'), JSON.stringify(sync))
  },
)

adopt.run()
