import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SandboxHost } from '../../sandbox/index.ts'
import {
  addProgramFiles,
  addStopAsGroupOption,
  buildCopy,
  copyProject,
  HEALTH_FILE_ENTRY,
  runCopy,
} from '../helpers/project-copy.ts'
import { addSites, processesOn, startSandbox, type TestSandbox, WORKER, writeAppDir } from '../helpers/sandbox.ts'

// A team forks the project the way the README says: one schema entry plus one template line for a supervisor option
// (stopasgroup), one contract entry plus one template for a per-program JSON file in a directory of its own. Then
// the everyday commands of the fork: create with the new flag → deploy → status → delete and sync. The server state
// and the exit code are checked at every step.

const journey = suite<{ sandbox: TestSandbox; host: SandboxHost; copy: string; app: string; inventory: string }>(
  'journey: a team forks the project, adds an option and a file, and runs its commands',
)

// /opt is private to each sandbox host; /etc is the machine's but for the directories the sandbox mounts.
const HEALTH_TOP = 'opt/zx-supervisor'
const HEALTH = `${HEALTH_TOP}/healthchecks/j.test-worker.json`
const CONF = 'etc/supervisor/conf.d/j.test-worker.conf'

journey.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.host = context.sandbox.host('sandbox-1')
  context.inventory = context.sandbox.inventory
  context.copy = await copyProject(context.sandbox.dir)
  const at = (file: string) => path.join(context.copy, file)
  await addStopAsGroupOption(context.copy)
  await addProgramFiles(context.copy, HEALTH_FILE_ENTRY)
  await fs.writeFile(at('templates/supervisor/health.hbs'), '{\n  "program": {{json fullName}}\n}\n')
  await buildCopy(context.copy)
  context.app = await writeAppDir(path.join(context.sandbox.dir, 'app'), { 'worker.sh': WORKER })
  await addSites(context.inventory, '\n  - domain: j.test\n    server: sandbox-1\n')
})

journey.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const read = (host: SandboxHost, file: string) => fs.readFile(path.join(host.root, file), 'utf8').catch(() => null)
const exists = async (host: SandboxHost, file: string) =>
  (await fs.stat(path.join(host.root, file)).catch(() => null)) !== null

journey('create with the fork’s new flag writes it to the inventory, nothing on the server yet', async (context) => {
  const run = await runCopy(context.copy, 'supervisor-create', [
    ...['--inventory', context.inventory, '--domain', 'j.test', '--program', 'worker', '--script', 'worker.sh'],
    ...['--stopwaitsecs', '2', '--stopasgroup', '--app-dir', context.app],
  ])
  assert.is(run.exitCode, 0, run.all)
  assert.match(await fs.readFile(context.inventory, 'utf8'), /- program: worker\n(\s+\w+: .+\n)*\s+stopasgroup: true\n/)
  assert.is(await read(context.host, CONF), null)
})

journey(
  'deploy lands the option in the conf and the JSON file in its new directory; the worker runs',
  async (context) => {
    const run = await runCopy(context.copy, 'deploy', [
      '--inventory',
      context.inventory,
      '--domain',
      'j.test',
      '--app-dir',
      context.app,
    ])
    assert.is(run.exitCode, 0, run.all)
    assert.match((await read(context.host, CONF)) ?? '', /\nstopasgroup=true\n/)
    assert.equal(JSON.parse((await read(context.host, HEALTH)) ?? 'null'), {
      'zx-supervisor': 'inventory=default site=j.test program=worker',
      program: 'j.test-worker',
    })
    const worker = (await processesOn(context.host)).filter((p) => p.group === 'j.test-worker')
    assert.equal(
      worker.map((p) => p.state),
      ['RUNNING'],
      JSON.stringify(worker),
    )
  },
)

journey('status of the fork sees every file of its contract in place (exit 0)', async (context) => {
  const run = await runCopy(context.copy, 'supervisor-status', ['--inventory', context.inventory, '--domain', 'j.test'])
  assert.is(run.exitCode, 0, run.all)
  await fs.writeFile(
    path.join(context.host.root, HEALTH),
    '{"zx-supervisor": "inventory=default site=j.test program=worker", "program": "edited"}\n',
  )
  const drift = await runCopy(context.copy, 'supervisor-status', [
    '--inventory',
    context.inventory,
    '--domain',
    'j.test',
  ])
  assert.is(drift.exitCode, 3, drift.all)
  assert.match(drift.all, 'healthchecks/j.test-worker.json')
  const fixed = await runCopy(context.copy, 'supervisor-sync', ['--inventory', context.inventory, '--domain', 'j.test'])
  assert.is(fixed.exitCode, 0, fixed.all)
})

journey('delete then sync removes the program, its JSON file and the directory made for it', async (context) => {
  const run = await runCopy(context.copy, 'supervisor-delete', [
    ...['--inventory', context.inventory, '--domain', 'j.test', '--program', 'worker', '--force', '--yes'],
  ])
  assert.is(run.exitCode, 0, run.all)
  const sync = await runCopy(context.copy, 'supervisor-sync', ['--inventory', context.inventory, '--domain', 'j.test'])
  assert.is(sync.exitCode, 0, sync.all)
  assert.is(await read(context.host, CONF), null)
  assert.not.ok(await exists(context.host, HEALTH_TOP), 'the directory sync made for the JSON files is gone')
  assert.equal(
    (await processesOn(context.host)).filter((p) => p.group === 'j.test-worker'),
    [],
  )
})

journey.run()
