import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AUDIT_LOG } from '../../lib/audit.ts'
import { hostExec } from '../../sandbox/index.ts'
import { startTask } from '../helpers/interrupt.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  deployFlags,
  editInventory,
  processesOn,
  snapshotDir,
  startSandbox,
  type TestSandbox,
  WORKER,
  writeAppDir,
} from '../helpers/sandbox.ts'

// The audit trail (/var/log/zx-supervisor/audit.log) through the real tasks on two sandbox servers: which change
// writes which line, with which fields; a failed sync; no line for a no-op; secrets never in it; concurrent runs.

const audit = suite<{ sandbox: TestSandbox; env: Record<string, string>; app: string }>(
  'the audit trail on sandbox servers',
)
const SECRET = 'sk_live_audit-secret-value'
// The deploy's gate waits for this file: the test kills the client while the gate holds it.
const GO_FILE = '/tmp/zxs-audit-go'

interface Line {
  time: string
  run: string
  user: string
  host: string
  task: string
  flags: Record<string, unknown>
  inventory: string | null
  server: string
  action: string
  change: { files?: string[]; groups?: Record<string, string[]>; release?: string | null; service?: string }
  result: 'ok' | 'failed'
  reason?: string
}

export async function auditText(sandbox: TestSandbox, server: string): Promise<string> {
  return fs.readFile(path.join(sandbox.host(server).root, AUDIT_LOG), 'utf8').catch(() => '')
}

export async function auditLines(sandbox: TestSandbox, server: string): Promise<Line[]> {
  return (await auditText(sandbox, server))
    .split('\n')
    .filter(Boolean)
    .map((text) => JSON.parse(text) as Line)
}

audit.before(async (context) => {
  context.sandbox = await startSandbox(2)
  const { sandbox } = context
  await addSites(
    sandbox.inventory,
    `
  - domain: app.test
    server: sandbox-1
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
        environment:
          QUEUE: high
          STRIPE_SECRET: { from_env: AUDIT_STRIPE_SECRET }
  - domain: b.test
    server: sandbox-1
    supervisors:
      - program: x
        script: worker.sh
        stopwaitsecs: 2
  - domain: d.test
    server: sandbox-2
    supervisors:
      - program: worker
        script: worker.sh
        startsecs: 1
        stopwaitsecs: 1
`,
  )
  await editInventory(sandbox.inventory, (doc) => doc.set('id', 'acme-audit'))
  await deployApp(sandbox.host('sandbox-1'), 'app.test', { 'worker.sh': WORKER, 'other.sh': WORKER })
  await deployApp(sandbox.host('sandbox-1'), 'b.test', { 'worker.sh': WORKER })
  context.app = await writeAppDir(sandbox.dir, { 'worker.sh': '#!/bin/sh\nexec sleep 100000\n' })
  context.env = { AUDIT_STRIPE_SECRET: SECRET, ZXS_FINGERPRINT_KEY_FILE: path.join(sandbox.dir, 'fingerprint.key') }
})

audit.after(async ({ sandbox }) => {
  await sandbox?.down()
})

audit(
  'a sync writes one line per server with who, what and the result; root 0640 in a root 0750 directory',
  async ({ sandbox, env }) => {
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'], { env })
    assert.is(run.exitCode, 0, run.all)
    const lines = await auditLines(sandbox, 'sandbox-1')
    assert.is(lines.length, 1, JSON.stringify(lines))
    const line = lines[0] as Line
    assert.equal(Object.keys(line), [
      'time',
      'run',
      'user',
      'host',
      'task',
      'flags',
      'inventory',
      'server',
      'action',
      'change',
      'result',
    ])
    assert.ok(Math.abs(Date.parse(line.time) - Date.now()) < 60_000, line.time)
    assert.is(line.user, os.userInfo().username)
    assert.is(line.host, os.hostname())
    assert.is(line.task, 'supervisor-sync')
    assert.equal(line.flags, { inventory: sandbox.inventory, domain: 'app.test' })
    assert.is(line.inventory, 'acme-audit')
    assert.is(line.server, 'sandbox-1')
    assert.is(line.action, 'sync')
    assert.ok(line.change.files?.includes('/etc/supervisor/conf.d/app.test-worker.conf'), JSON.stringify(line.change))
    assert.equal(line.change.groups, { updated: ['app.test-worker'] })
    assert.is(line.result, 'ok')
    assert.is(await auditText(sandbox, 'sandbox-2'), '', 'a server the sync did not touch has no line')
    const modes = await hostExec(sandbox.host('sandbox-1'), [
      'stat',
      '-c',
      '%a %U %G %n',
      path.dirname(AUDIT_LOG),
      AUDIT_LOG,
    ])
    assert.is(modes.stdout, `750 root root ${path.dirname(AUDIT_LOG)}\n640 root root ${AUDIT_LOG}`)
  },
)

const ROTATE = '/etc/logrotate.d/zx-supervisor'

audit(
  'the first changing sync creates the audit logrotate file once; it is never rewritten, and logrotate accepts it',
  async ({ sandbox, env }) => {
    const one = sandbox.host('sandbox-1')
    const file = path.join(one.root, ROTATE)
    const text = await fs.readFile(file, 'utf8')
    assert.match(text, /^# zx-supervisor file=audit-logrotate\n/)
    assert.match(text, `${AUDIT_LOG} {`)
    assert.match(text, 'create 0640 root root')
    const mode = await hostExec(one, ['stat', '-c', '%a %U %G', ROTATE])
    assert.is(mode.stdout, '644 root root')
    assert.not.ok(
      await fs.stat(path.join(sandbox.host('sandbox-2').root, ROTATE)).catch(() => null),
      'no sync touched sandbox-2 yet',
    )
    const check = await hostExec(one, [
      'sh',
      '-c',
      `command -v logrotate >/dev/null || exit 77; logrotate -d ${ROTATE} 2>&1`,
    ])
    if (check.exitCode !== 77) {
      assert.is(check.exitCode, 0, check.stdout)
      assert.match(check.stdout, AUDIT_LOG)
      assert.not.match(check.stdout, /error/i)
    }
    // An operator's edit stays: the next changing sync leaves the file alone.
    await fs.writeFile(file, `${text}# rotate daily here\n`)
    const edit = await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 1, 'supervisors', 0, 'stopwaitsecs'], 4),
    )
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'b.test'], { env })
    assert.is(run.exitCode, 0, run.all)
    assert.is(await fs.readFile(file, 'utf8'), `${text}# rotate daily here\n`)
    assert.not.match(run.all, 'zx-supervisor file=audit-logrotate')
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--server', 'sandbox-1'])
    assert.not.match(status.all, ROTATE, 'never a leftover nor drift')
    await fs.writeFile(sandbox.inventory, edit)
  },
)

audit('a sync that changes nothing writes no line', async ({ sandbox, env }) => {
  const before = await auditText(sandbox, 'sandbox-1')
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'], { env })
  assert.is(run.exitCode, 0, run.all)
  assert.is(await auditText(sandbox, 'sandbox-1'), before)
})

audit('the secret value never reaches the audit log, nor does a secret-looking flag', async ({ sandbox, env }) => {
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'b.test'], { env })
  assert.is(run.exitCode, 0, run.all)
  const text = await auditText(sandbox, 'sandbox-1')
  assert.match(text, /"domain": ?"b\.test"/, 'the sync of b.test wrote its line')
  assert.not.match(text, SECRET)
  assert.not.match(text, 'sk_live')
  const conf = await fs.readFile(
    path.join(sandbox.host('sandbox-1').root, 'etc/supervisor/conf.d/app.test-worker.conf'),
    'utf8',
  )
  assert.match(conf, SECRET, 'the value did reach the server (so its absence from the log means something)')
})

audit(
  'a sync supervisor rejects: one line, result failed, no supervisor message; the server is unchanged',
  async ({ sandbox, env }) => {
    const text = await editInventory(sandbox.inventory, (doc) =>
      doc.addIn(['sites', 0, 'supervisors'], { program: 'broken', script: 'other.sh', user: 'nosuchuser' }),
    )
    const one = sandbox.host('sandbox-1')
    const confs = await snapshotDir(one, 'etc/supervisor/conf.d')
    const before = (await auditLines(sandbox, 'sandbox-1')).length
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'], { env })
    await fs.writeFile(sandbox.inventory, text)
    assert.is(run.exitCode, 1, run.all)
    assert.equal(await snapshotDir(one, 'etc/supervisor/conf.d'), confs)
    const lines = await auditLines(sandbox, 'sandbox-1')
    assert.is(lines.length, before + 1)
    const line = lines.at(-1) as Line
    assert.is(line.action, 'sync')
    assert.is(line.result, 'failed')
    assert.is(line.reason, 'supervisor rejected the new configuration; the previous files were restored')
    assert.ok(line.change.files?.includes('/etc/supervisor/conf.d/app.test-broken.conf'))
    assert.not.match(JSON.stringify(line), 'nosuchuser')
  },
)

audit(
  'a restart of programs writes one line naming the groups; a start of running programs writes none',
  async ({ sandbox }) => {
    await waitFor('app.test-worker running', async () =>
      (await processesOn(sandbox.host('sandbox-1'))).some(
        (p) => p.group === 'app.test-worker' && p.state === 'RUNNING',
      ),
    )
    const before = (await auditLines(sandbox, 'sandbox-1')).length
    let run = await runTask('supervisor-restart', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
    assert.is(run.exitCode, 0, run.all)
    const lines = await auditLines(sandbox, 'sandbox-1')
    assert.is(lines.length, before + 1)
    const line = lines.at(-1) as Line
    assert.is(line.task, 'supervisor-restart')
    assert.is(line.action, 'restart')
    assert.equal(line.change, { groups: { restarted: ['app.test-worker'] } })
    assert.is(line.result, 'ok')
    run = await runTask('supervisor-start', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
    assert.is(run.exitCode, 0, run.all)
    assert.is((await auditLines(sandbox, 'sandbox-1')).length, before + 1)
  },
)

audit('a restart of supervisord itself writes one line (action service)', async ({ sandbox }) => {
  const run = await runTask('supervisor-restart', ['--inventory', sandbox.inventory, '--server', 'sandbox-2'])
  assert.is(run.exitCode, 0, run.all)
  const lines = await auditLines(sandbox, 'sandbox-2')
  assert.is(lines.length, 1, JSON.stringify(lines))
  assert.equal([lines[0]?.action, lines[0]?.change, lines[0]?.result], ['service', { service: 'restart' }, 'ok'])
})

audit('two concurrent syncs leave only whole JSON lines, one per activation', async ({ sandbox, env }) => {
  const text = await editInventory(sandbox.inventory, (doc) => {
    doc.setIn(['sites', 0, 'supervisors', 0, 'stopwaitsecs'], 3)
    doc.setIn(['sites', 1, 'supervisors', 0, 'stopwaitsecs'], 3)
  })
  const before = (await auditLines(sandbox, 'sandbox-1')).length
  const runs = await Promise.all(
    ['app.test', 'b.test'].map((domain) =>
      runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', domain], { env }),
    ),
  )
  for (const run of runs) assert.is(run.exitCode, 0, run.all)
  const raw = (await auditText(sandbox, 'sandbox-1')).split('\n').filter(Boolean)
  for (const line of raw) JSON.parse(line)
  const added = (await auditLines(sandbox, 'sandbox-1')).slice(before)
  assert.equal(added.map((l) => l.change.groups?.updated?.[0]).sort(), ['app.test-worker', 'b.test-x'])
  assert.is(new Set(added.map((l) => l.run)).size, 2, 'each run has its own id')
  await fs.writeFile(sandbox.inventory, text)
})

audit(
  'server-logs --service audit shows the trail; status --verbose shows the last change per server',
  async ({ sandbox }) => {
    const logs = await runTask('server-logs', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--service',
      'audit',
      '--lines',
      '3',
    ])
    assert.is(logs.exitCode, 0, logs.all)
    const last = (await auditLines(sandbox, 'sandbox-1')).at(-1) as Line
    assert.match(logs.stdout, `"run": "${last.run}"`)
    assert.match(logs.stdout, '"task": "supervisor-sync"')
    const json = await runTask('server-logs', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1,sandbox-2',
      '--service',
      'audit',
      '--json',
    ])
    assert.is(json.exitCode, 0, json.all)
    assert.match(json.stdout, `${last.run}`)

    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--verbose'])
    assert.match(
      status.stdout,
      `sandbox-1: last change ${last.time} ${os.userInfo().username}@${os.hostname()} supervisor-sync (sync): ok`,
    )
    assert.match(status.stdout, /sandbox-2: last change \S+ \S+ supervisor-restart \(service\): ok/)
    const quiet = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
    assert.not.match(quiet.stdout, 'last change')
    const document = JSON.parse(
      (await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--json', '--server', 'sandbox-1']))
        .stdout,
    )
    assert.is(document.servers[0].lastChange.run, last.run)

    // A garbled last line (a disk filled mid-write) is no last change, not a failed status.
    const two = sandbox.host('sandbox-2')
    await hostExec(two, ['sh', '-c', `cp ${AUDIT_LOG} /tmp/audit.keep && printf '{"time": "cut' >> ${AUDIT_LOG}`])
    const garbled = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--verbose'])
    await hostExec(two, ['sh', '-c', `cp /tmp/audit.keep ${AUDIT_LOG} && rm /tmp/audit.keep`])
    assert.match(garbled.stdout, 'sandbox-2: last change no change recorded')
  },
)

audit(
  'a deploy whose client is killed after the switch: the switch line is on the server, same run id as its sync',
  async ({ sandbox, app }) => {
    const before = (await auditLines(sandbox, 'sandbox-2')).length
    await hostExec(sandbox.host('sandbox-2'), ['rm', '-f', GO_FILE])
    const task = startTask('deploy', [
      ...deployFlags(sandbox, app, 'v1'),
      '--hold',
      '0',
      '--wait',
      '60',
      '--health-cmd',
      `until [ -e ${GO_FILE} ]; do sleep 0.2; done`,
    ])
    const current = path.join(sandbox.host('sandbox-2').root, 'home/deployer/sites/d.test/current')
    await waitFor(
      'current switched to v1',
      async () => (await fs.readlink(current).catch(() => null)) === 'releases/v1',
      60_000,
    )
    task.interrupt('SIGKILL', { group: true })
    await task.done
    const lines = (await waitFor('the switch line', async () => {
      const added = (await auditLines(sandbox, 'sandbox-2')).slice(before)
      return added.some((l) => l.action === 'switch') ? added : null
    })) as Line[]
    const switched = lines.find((l) => l.action === 'switch') as Line
    assert.is(switched.task, 'deploy')
    assert.equal(switched.change, { release: 'releases/v1' })
    assert.is(switched.result, 'ok')
    assert.equal(switched.flags.release, 'v1')
    for (const line of lines) assert.is(line.run, switched.run, JSON.stringify(line))
    await hostExec(sandbox.host('sandbox-2'), ['touch', GO_FILE])
  },
)

audit.run()
