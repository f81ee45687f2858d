import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PROJECT } from '../helpers/run-task.ts'
import { openTerminal, type Terminal } from '../helpers/terminal.ts'

// Questions on a real terminal (tmux: keys sent as typed, the screen read back): menus by arrow keys, a refused answer
// stays on its question with the rulebook's message to be fixed there, a yes/no is answered by Enter, what was pasted
// after a refused answer never answers a later question, Ctrl-C is exit 130 and Ctrl-D exit 2.

const SITE_WITHOUT_REPO = `servers:
  - name: web-1
    host: 127.0.0.254
sites:
  - domain: example.com
    server: web-1
`

async function inTempDir(callback: (dir: string, terminal: Terminal) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-prompts-'))
  const terminal = await openTerminal()
  try {
    await callback(dir, terminal)
  } finally {
    await terminal.close()
    await fs.rm(dir, { recursive: true, force: true })
  }
}

async function appWithWorker(dir: string): Promise<{ inventory: string; app: string }> {
  const inventory = path.join(dir, 'inventory.yml')
  await fs.writeFile(inventory, SITE_WITHOUT_REPO)
  const app = path.join(dir, 'app')
  await fs.mkdir(path.join(app, '.deployer/supervisors'), { recursive: true })
  await fs.writeFile(path.join(app, '.deployer/supervisors/worker.sh'), '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 })
  return { inventory, app }
}

const AUTOSTART = 'Start on supervisord start?'
const AUTORESTART = 'Restart on exit?'
const STOPWAIT = 'Stop wait seconds:'
const NUMPROCS = 'Number of processes:'
const programIn = (inventory: string) =>
  fs.readFile(inventory, 'utf8').then((text) => text.slice(text.indexOf('- program:')))
const createWorker = (inventory: string, app: string) => [
  '--inventory',
  inventory,
  '--app-dir',
  app,
  '--domain',
  'example.com',
  '--script',
  'worker.sh',
  '--program',
  'worker',
]

test('y/n pick and Enter answers ("yes please" is Yes, nothing more); a bad number stays on the question, fixed there', () =>
  inTempDir(async (dir, t) => {
    const { inventory, app } = await appWithWorker(dir)
    await t.run('supervisor-create', createWorker(inventory, app))
    await t.waitFor(AUTOSTART)
    await t.type('yes please')
    await t.waitFor(AUTORESTART)
    await t.type('n')
    await t.waitFor(STOPWAIT)
    await t.type('0')
    await t.waitFor('"0" is not an answer here; allowed: a positive integer (1 or more)')
    await t.press('BSpace')
    await t.type('60')
    await t.waitFor(NUMPROCS)
    await t.type('two')
    await t.waitFor('"two" is not an answer here')
    await t.press('BSpace', 'BSpace', 'BSpace')
    await t.type('2')
    const { exitCode, screen } = await t.exit()
    assert.is(exitCode, 0, screen)
    assert.match(
      await programIn(inventory),
      /- program: worker\n\s+script: worker.sh\n\s+autostart: true\n\s+autorestart: false\n\s+stopwaitsecs: 60\n\s+numprocs: 2\n/,
    )
  }))

test('a pasted block answers the questions in order; the lines after a refused one are dropped, not given to the next', () =>
  inTempDir(async (dir, t) => {
    const { inventory, app } = await appWithWorker(dir)
    await t.run('supervisor-create', createWorker(inventory, app))
    await t.waitFor(AUTOSTART)
    // Meant as autostart, autorestart, stop wait, processes: once "0" is refused, the "2" would answer the wrong question.
    await t.write('y\rn\r0\r2\r')
    await t.waitFor('The line typed after it was dropped: it was meant for a later question.')
    await t.press('C-u')
    await t.type('30')
    await t.waitFor(NUMPROCS)
    await t.type('3')
    const { exitCode, screen } = await t.exit()
    assert.is(exitCode, 0, screen)
    assert.match(
      await programIn(inventory),
      /autostart: true\n\s+autorestart: false\n\s+stopwaitsecs: 30\n\s+numprocs: 3\n/,
    )
  }))

test('a missing --app-dir for a site without repo is asked for on a terminal (a path, checked on the question)', () =>
  inTempDir(async (dir, t) => {
    const { inventory, app } = await appWithWorker(dir)
    await t.run('supervisor-create', ['--inventory', inventory, '--domain', 'example.com'])
    await t.waitFor('App directory')
    await t.type(path.join(dir, 'missing'))
    await t.waitFor(`"${path.join(dir, 'missing')}" is not an answer here`)
    await t.press('C-u')
    await t.type(dir)
    await t.waitFor(`"${dir}" is not an answer here`)
    await t.press('C-u')
    await t.type(app)
    await t.waitFor('Select supervisor script:')
    await t.press('Enter')
    await t.waitFor('Program name (unique identifier):')
    await t.type('bad name')
    await t.waitFor('"bad name" is not an answer here')
    await t.press('C-u', 'Enter')
    for (const question of [AUTOSTART, AUTORESTART, STOPWAIT, NUMPROCS]) {
      await t.waitFor(question)
      await t.press('Enter')
    }
    const { exitCode, screen } = await t.exit()
    assert.is(exitCode, 0, screen)
    assert.match(
      await programIn(inventory),
      /- program: worker\n\s+script: worker.sh\n\s+autostart: true\n\s+autorestart: true\n\s+stopwaitsecs: 3600\n\s+numprocs: 1\n/,
    )
    assert.match(screen, `--app-dir ${app}`, 'the replay names the directory that was asked for')
  }))

test('"Are you absolutely sure?" starts on No: "nope" + Enter is No and the inventory is kept', () =>
  inTempDir(async (dir, t) => {
    const { inventory } = await appWithWorker(dir)
    const withProgram = `${SITE_WITHOUT_REPO}    supervisors:\n      - program: worker\n        script: worker.sh\n`
    await fs.writeFile(inventory, withProgram)
    await t.run('supervisor-delete', ['--inventory', inventory, '--domain', 'example.com', '--program', 'worker'])
    await t.waitFor("Type the program name 'worker'")
    await t.type('worker')
    await t.waitFor('Are you absolutely sure?')
    await t.type('nope')
    const { exitCode, screen } = await t.exit()
    assert.is(exitCode, 0, screen)
    assert.match(screen, 'Cancelled deleting supervisor program')
    assert.is(await fs.readFile(inventory, 'utf8'), withProgram)
  }))

test('deploy asks for a missing --domain and --app-dir on a terminal; Ctrl-D at the question is exit 2', () =>
  inTempDir(async (dir, t) => {
    const { inventory } = await appWithWorker(dir)
    await t.run('deploy', ['--inventory', inventory])
    await t.waitFor('Select site:')
    await t.press('Enter')
    await t.waitFor('App directory to upload as the release:')
    await t.type(path.join(dir, 'build'))
    await t.waitFor(
      `"${path.join(dir, 'build')}" is not an answer here; allowed: the folder to upload as the release. Hint: no such directory: ${path.join(dir, 'build')}.`,
    )
    await t.press('C-d')
    const { exitCode, screen } = await t.exit()
    assert.is(exitCode, 2, screen)
    assert.match(screen, 'No answer: the input ended (Ctrl-D) at a prompt; nothing was changed.')
  }))

test('Ctrl-C at a question is exit 130 and writes nothing', () =>
  inTempDir(async (dir, t) => {
    const { inventory, app } = await appWithWorker(dir)
    const before = await fs.readFile(inventory, 'utf8')
    await t.run('supervisor-create', createWorker(inventory, app))
    await t.waitFor(AUTOSTART)
    await t.press('C-c')
    const { exitCode, screen } = await t.exit()
    assert.is(exitCode, 130, screen)
    assert.is(await fs.readFile(inventory, 'utf8'), before)
  }))

test('scaffold-supervisors asks again for a destination it cannot use (~user), instead of failing', () =>
  inTempDir(async (dir, t) => {
    await t.run('scaffold-supervisors', [])
    await t.waitFor('Destination directory:')
    await t.type('~bob/app')
    await t.waitFor(
      '"~bob/app" is not an answer here; allowed: ~, ~/path, an absolute path or one relative to the current directory. Hint: write the home directory out',
    )
    await t.press('C-u')
    await t.type(dir)
    const { exitCode, screen } = await t.exit()
    assert.is(exitCode, 0, screen)
    const shipped = (await fs.readdir(path.join(PROJECT, 'templates/scaffold'))).sort()
    const written = (await fs.readdir(path.join(dir, '.deployer/supervisors'))).sort()
    assert.equal(written, shipped, 'every script the scaffold ships, in the folder given at the second ask')
  }))

test.run()
