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

// A person at a terminal (tmux: keys typed, the screen read back) finds the site by typing part of its name among 12,
// adds a worker with wrong answers fixed on their questions, syncs it to a sandbox server, checks its status, then
// leaves a deletion with Ctrl-C and mistypes the name in another. State checked at every step.

interface Context {
  sandbox: TestSandbox
  terminal: Terminal
  app: string
}
const journey = suite<Context>('a prompt session at a terminal with wrong answers')

const AUTOSTART = 'Start on supervisord start?'
const AUTORESTART = 'Restart on exit?'
const STOPWAIT = 'Stop wait seconds:'
const NUMPROCS = 'Number of processes:'
const APP_DIR = 'App directory (a local checkout'
const GROUP = 'app.test-worker'

journey.before(async (context) => {
  context.sandbox = await startSandbox(1)
  // A site without repo: create must ask where the app's scripts are.
  // Among 12 sites the menu has a search field.
  const others = Array.from({ length: 11 }, (_, i) => `  - domain: other-${i + 1}.test\n    server: sandbox-1\n`)
  await addSites(context.sandbox.inventory, `${others.join('')}  - domain: app.test\n    server: sandbox-1\n`)
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
  'create at the terminal: the site found by typing, a missing app dir and numprocs 0 fixed on their questions; the inventory gets the answers',
  async ({ sandbox, terminal, app }) => {
    await terminal.run('supervisor-create', ['--inventory', sandbox.inventory])
    await terminal.waitFor('Select site: (type to search)')
    await terminal.write('app.t')
    await terminal.press('Enter')
    await terminal.waitFor(APP_DIR)
    await terminal.type(path.join(sandbox.dir, 'no-such-app'))
    await terminal.waitFor(`"${path.join(sandbox.dir, 'no-such-app')}" is not an answer here`)
    await terminal.press('C-u')
    await terminal.type(app)
    await terminal.waitFor('Select supervisor script:')
    await terminal.press('Enter')
    await terminal.waitFor('Program name (unique identifier):')
    await terminal.press('Enter')
    await terminal.waitFor(AUTOSTART)
    await terminal.type('yes please')
    await terminal.waitFor(AUTORESTART)
    await terminal.type('nope')
    await terminal.waitFor(STOPWAIT)
    await terminal.press('Enter')
    await terminal.waitFor(NUMPROCS)
    await terminal.type('0')
    await terminal.waitFor('"0" is not an answer here; allowed: a positive integer (1 or more).')
    await terminal.press('BSpace')
    await terminal.type('2')
    const { exitCode, screen } = await terminal.exit()
    assert.is(exitCode, 0, screen)
    assert.match(screen, "Supervisor 'worker' added to inventory")
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    assert.match(
      inventory,
      /- domain: app.test\n\s+server: sandbox-1\n\s+supervisors:\n\s+- program: worker\n\s+script: worker.sh\n\s+autostart: true\n\s+autorestart: false\n\s+stopwaitsecs: 3600\n\s+numprocs: 2\n/,
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
  const status = await runTask('supervisor-status', [
    '--inventory',
    sandbox.inventory,
    '--domain',
    'app.test',
    '--json',
  ])
  assert.is(status.exitCode, 0, status.all)
  const processes = JSON.parse(status.stdout).servers[0].programs[0].processes
  assert.equal(
    processes.map((p: { state: string }) => p.state),
    ['RUNNING', 'RUNNING'],
  )
})

journey(
  'delete at the terminal: Ctrl-C at a question is exit 130; a mistyped name cancels (exit 1); inventory and server unchanged',
  async ({ sandbox, terminal }) => {
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    const pids = (await runningOn(sandbox)).map((p) => p.pid)
    await terminal.run('supervisor-delete', ['--inventory', sandbox.inventory])
    await terminal.waitFor('Select site: (type to search)')
    await terminal.press('C-c')
    const interrupted = await terminal.exit()
    assert.is(interrupted.exitCode, 130, interrupted.screen)

    await terminal.run('supervisor-delete', ['--inventory', sandbox.inventory])
    await terminal.waitFor('Select site: (type to search)')
    // app.test is the last of 12: Up from the first wraps to it.
    await terminal.press('Up')
    await terminal.waitFor('● app.test')
    await terminal.press('Enter')
    await terminal.waitFor('Select supervisor program:')
    await terminal.press('Enter')
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
