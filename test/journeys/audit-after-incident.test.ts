import fs from 'node:fs/promises'
import os from 'node:os'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { editInventory, processesOn, startSandbox, type TestSandbox, writeAppDir } from '../helpers/sandbox.ts'

// After an incident: "who changed this server, when, and what?" The operator's team creates a program, syncs,
// deploys, restarts it, and someone's sync fails (supervisor rejects it). Then the operator answers from the
// server's own trail: server-logs --service audit lists each change with who ran which task and how it ended (the
// deploy's steps under one run id), and supervisor-status --verbose names the last change per server.

const DOMAIN = 'shop.test'
const SERVER = 'sandbox-1'

const journey = suite<{ sandbox: TestSandbox; app: string }>('journey: who changed what, after an incident')

journey.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.app = await writeAppDir(context.sandbox.dir, {
    'worker.sh': '#!/bin/sh\nexec sleep 100000\n',
    'other.sh': '#!/bin/sh\nexec sleep 100000\n',
  })
  await editInventory(context.sandbox.inventory, (doc) => {
    doc.set('id', 'shop-prod')
    doc.set('sites', doc.createNode([{ domain: DOMAIN, server: SERVER }]))
  })
})

journey.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const task = ({ sandbox }: { sandbox: TestSandbox }, name: string, args: string[]) =>
  runTask(name, ['--inventory', sandbox.inventory, ...args])

interface Line {
  time: string
  run: string
  user: string
  host: string
  task: string
  action: string
  result: string
  reason?: string
  change: Record<string, unknown>
}

journey(
  'create → sync → deploy → restart → a failing sync; then the trail answers who changed what',
  async (context) => {
    const { sandbox, app } = context
    let run = await task(context, 'supervisor-create', [
      '--domain',
      DOMAIN,
      '--program',
      'worker',
      '--script',
      'worker.sh',
      '--startsecs',
      '1',
      '--stopwaitsecs',
      '1',
      '--app-dir',
      app,
    ])
    assert.is(run.exitCode, 0, run.all)
    // Before any release exists, the sync places the program; the deploy brings the scripts.
    run = await task(context, 'deploy', ['--domain', DOMAIN, '--app-dir', app, '--release', 'r1', '--hold', '0'])
    assert.is(run.exitCode, 0, run.all)
    await waitFor('the worker runs', async () =>
      (await processesOn(sandbox.host(SERVER))).some((p) => p.group === `${DOMAIN}-worker` && p.state === 'RUNNING'),
    )
    run = await task(context, 'supervisor-restart', ['--domain', DOMAIN])
    assert.is(run.exitCode, 0, run.all)
    const good = await fs.readFile(sandbox.inventory, 'utf8')
    await editInventory(sandbox.inventory, (doc) =>
      doc.addIn(['sites', 0, 'supervisors'], { program: 'broken', script: 'other.sh', user: 'nosuchuser' }),
    )
    run = await task(context, 'supervisor-sync', ['--domain', DOMAIN])
    assert.is(run.exitCode, 1, run.all)
    await fs.writeFile(sandbox.inventory, good)

    // The operator reads the trail.
    const logs = await task(context, 'server-logs', [
      '--server',
      SERVER,
      '--service',
      'audit',
      '--lines',
      '50',
      '--json',
    ])
    assert.is(logs.exitCode, 0, logs.all)
    const document = JSON.parse(logs.stdout)
    const source = (document.logs as Array<{ server: string; source: string; lines: string[] }>).find(
      (l) => l.server === SERVER && l.source === 'audit',
    )
    const lines = (source?.lines ?? []).map((text) => JSON.parse(text) as Line)
    const who = `${os.userInfo().username}@${os.hostname()}`
    for (const line of lines) assert.is(`${line.user}@${line.host}`, who)
    const story = lines.map((l) => `${l.task} ${l.action} ${l.result}`)
    const deployRuns = new Set(lines.filter((l) => l.task === 'deploy').map((l) => l.run))
    assert.is(deployRuns.size, 1, "the deploy's steps share one run id")
    assert.ok(story.includes('deploy switch ok'), story.join('\n'))
    assert.ok(story.includes('deploy sync ok'), story.join('\n'))
    assert.is(story.at(-2), 'supervisor-restart restart ok', story.join('\n'))
    assert.is(story.at(-1), 'supervisor-sync sync failed', story.join('\n'))
    assert.match(lines.at(-1)?.reason ?? '', 'supervisor rejected the new configuration')

    const status = await task(context, 'supervisor-status', ['--verbose'])
    assert.match(status.stdout, `${SERVER}: last change ${lines.at(-1)?.time} ${who} supervisor-sync (sync): failed`)
  },
)

journey.run()
