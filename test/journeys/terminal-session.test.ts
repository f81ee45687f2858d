import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  processesOn,
  snapshotDir,
  startSandbox,
  type TestSandbox,
  WORKER,
  writeAppDir,
} from '../helpers/sandbox.ts'
import { openTerminal, type Terminal } from '../helpers/terminal.ts'

// A person at a terminal (tmux: keys typed, the screen read back) adds a worker with wrong answers on the way, syncs
// it to a sandbox server, checks its status, then mistypes the name when deleting it. State checked at every step.

interface Context {
  sandbox: TestSandbox
  terminal: Terminal
  app: string
}
const journey = suite<Context>('a prompt session at a terminal with wrong answers')

const AUTOSTART = 'Start on supervisord start? [Y/n]'
const AUTORESTART = 'Restart on exit? [Y/n]'
const STOPWAIT = 'Stop wait seconds: [3600]'
const NUMPROCS = 'Number of processes: [1]'
const APP_DIR = 'App directory (a local checkout'
const GROUP = 'app.test-worker'

journey.before(async (context) => {
  context.sandbox = await startSandbox(1)
  // A site without repo: create must ask where the app's scripts are.
  await addSites(context.sandbox.inventory, '  - domain: app.test\n    server: sandbox-1\n')
  await deployApp(context.sandbox.host('sandbox-1'), 'app.test', { 'worker.sh': WORKER })
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  context.terminal = await openTerminal()
})

journey.after(async ({ sandbox, terminal }) => {
  await terminal?.close()
  await sandbox?.down()
})

const confsOn = async (sandbox: TestSandbox) =>
  Object.keys(await snapshotDir(sandbox.host('sandbox-1'), 'etc/supervisor/conf.d'))
const runningOn = async (sandbox: TestSandbox) =>
  (await processesOn(sandbox.host('sandbox-1'))).filter((p) => p.group === GROUP && p.state === 'RUNNING')

journey(
  'create at the terminal: "nope", "yes please", numprocs 0 and a missing app dir are asked again; the inventory gets the corrected answers',
  async ({ sandbox, terminal, app }) => {
    await terminal.run('supervisor-create', ['--inventory', sandbox.inventory])
    await terminal.waitFor('Select site:')
    await terminal.type('1')
    await terminal.waitFor(APP_DIR)
    await terminal.type(path.join(sandbox.dir, 'no-such-app'))
    await terminal.waitFor(APP_DIR, 2)
    await terminal.type(app)
    await terminal.waitFor('Select supervisor script:')
    await terminal.type('1')
    await terminal.waitFor('Program name (unique identifier): [worker]')
    await terminal.type('')
    await terminal.waitFor(AUTOSTART)
    await terminal.type('nope')
    await terminal.waitFor(AUTOSTART, 2)
    await terminal.type('y')
    await terminal.waitFor(AUTORESTART)
    await terminal.type('yes please')
    await terminal.waitFor(AUTORESTART, 2)
    await terminal.type('Y')
    await terminal.waitFor(STOPWAIT)
    await terminal.type('')
    await terminal.waitFor(NUMPROCS)
    await terminal.type('0')
    await terminal.waitFor(NUMPROCS, 2)
    await terminal.type('2')
    const { exitCode, screen } = await terminal.exit()
    assert.is(exitCode, 0, screen)
    assert.match(screen, `"${path.join(sandbox.dir, 'no-such-app')}" is not an answer here`)
    assert.match(
      screen,
      '"nope" is not an answer here; allowed: y, yes, n or no (any case), or Enter for the default (Yes).',
    )
    assert.match(screen, '"yes please" is not an answer here')
    assert.match(screen, '"0" is not an answer here; allowed: a positive integer (1 or more).')
    assert.match(screen, "Supervisor 'worker' added to inventory")
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    assert.match(
      inventory,
      /- program: worker\n\s+script: worker.sh\n\s+autostart: true\n\s+autorestart: true\n\s+stopwaitsecs: 3600\n\s+numprocs: 2\n/,
    )
    // The inventory only: the server is untouched until a sync.
    assert.equal(await confsOn(sandbox), [])
    assert.equal(await runningOn(sandbox), [])
  },
)

journey('sync (no terminal) puts the worker on the server, running; status says so (exit 0)', async ({ sandbox }) => {
  const sync = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
  assert.is(sync.exitCode, 0, sync.all)
  assert.equal(await confsOn(sandbox), [`${GROUP}.conf`])
  await waitFor('both processes RUNNING', async () => (await runningOn(sandbox)).length === 2, 30_000)
  const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--json'])
  assert.is(status.exitCode, 0, status.all)
  const processes = JSON.parse(status.stdout).servers[0].programs[0].processes
  assert.equal(
    processes.map((p: { state: string }) => p.state),
    ['RUNNING', 'RUNNING'],
  )
})

journey(
  'delete at the terminal with a mistyped name cancels (exit 1): inventory and server unchanged',
  async ({ sandbox, terminal }) => {
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    const pids = (await runningOn(sandbox)).map((p) => p.pid)
    await terminal.run('supervisor-delete', ['--inventory', sandbox.inventory])
    await terminal.waitFor('Select site:')
    await terminal.type('1')
    await terminal.waitFor('Select supervisor program:')
    await terminal.type('1')
    await terminal.waitFor("Type the program name 'worker' to confirm deletion:")
    await terminal.type('wroker')
    const { exitCode, screen } = await terminal.exit()
    assert.is(exitCode, 1, screen)
    assert.match(screen, 'Program name does not match. Deletion cancelled.')
    assert.is(await fs.readFile(sandbox.inventory, 'utf8'), inventory)
    assert.equal(await confsOn(sandbox), [`${GROUP}.conf`])
    assert.equal(
      (await runningOn(sandbox)).map((p) => p.pid),
      pids,
    )
  },
)

journey.run()
