import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PROJECT, runTaskOnTerminal } from '../helpers/run-task.ts'

// Questions on a real terminal (a pseudo-terminal, as a person types): only a clear answer counts, anything else is
// asked again; what was typed ahead after a refused answer never answers a later question; a missing input is asked.

const SITE_WITHOUT_REPO = `servers:
  - name: web-1
    host: 127.0.0.254
sites:
  - domain: example.com
    server: web-1
`

async function inTempDir(callback: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-prompts-'))
  try {
    await callback(dir)
  } finally {
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

const AUTOSTART = 'Start on supervisord start? [Y/n]'
const AUTORESTART = 'Restart on exit? [Y/n]'
const STOPWAIT = 'Stop wait seconds:'
const NUMPROCS = 'Number of processes:'
const programIn = (inventory: string) =>
  fs.readFile(inventory, 'utf8').then((text) => text.slice(text.indexOf('- program:')))

test('an answer that is not a clear yes or no is asked again, never taken as No; a bad number is asked again', () =>
  inTempDir(async (dir) => {
    const { inventory, app } = await appWithWorker(dir)
    const run = await runTaskOnTerminal(
      'supervisor-create',
      [
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
      ],
      [
        [AUTOSTART, 'nope'],
        [AUTOSTART, 'n'],
        [AUTORESTART, 'yes please'],
        [AUTORESTART, 'Y'],
        [STOPWAIT, '0'],
        [STOPWAIT, '60'],
        [NUMPROCS, 'two'],
        [NUMPROCS, '2'],
      ],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(
      run.all,
      '"nope" is not an answer here; allowed: y, yes, n or no (any case), or Enter for the default (Yes)',
    )
    assert.match(run.all, '"yes please" is not an answer here')
    assert.match(run.all, '"0" is not an answer here; allowed: a positive integer (1 or more)')
    assert.match(run.all, '"two" is not an answer here')
    assert.match(
      await programIn(inventory),
      /- program: worker\n\s+script: worker.sh\n\s+autostart: false\n\s+autorestart: true\n\s+stopwaitsecs: 60\n\s+numprocs: 2\n/,
    )
  }))

test('answers pasted after a refused one are dropped, not given to the questions that follow', () =>
  inTempDir(async (dir) => {
    const { inventory, app } = await appWithWorker(dir)
    // Meant as autostart, autorestart, stop wait, processes: once "nope" is refused, the rest would answer the wrong questions.
    const run = await runTaskOnTerminal(
      'supervisor-create',
      [
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
      ],
      [
        [AUTOSTART, 'nope\rn\r\r60\r2'],
        [AUTOSTART, 'y'],
        [AUTORESTART, 'n'],
        [STOPWAIT, '30'],
        [NUMPROCS, '3'],
      ],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.all, 'The 4 lines typed after it were dropped: they were meant for later questions.')
    assert.match(
      await programIn(inventory),
      /autostart: true\n\s+autorestart: false\n\s+stopwaitsecs: 30\n\s+numprocs: 3\n/,
    )
  }))

test('a missing --app-dir for a site without repo is asked for on a terminal (a path, checked, asked again)', () =>
  inTempDir(async (dir) => {
    const { inventory, app } = await appWithWorker(dir)
    const run = await runTaskOnTerminal(
      'supervisor-create',
      ['--inventory', inventory, '--domain', 'example.com'],
      [
        ['App directory', path.join(dir, 'missing')],
        ['App directory', dir],
        ['App directory', app],
        ['Select supervisor script:', '1'],
        ['Program name (unique identifier):', 'bad name'],
        ['Program name (unique identifier):', ''],
        [AUTOSTART, ''],
        [AUTORESTART, ''],
        [STOPWAIT, ''],
        [NUMPROCS, ''],
      ],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.all, `"${path.join(dir, 'missing')}" is not an answer here`)
    assert.match(run.all, 'no such directory')
    assert.match(run.all, `"${dir}" is not an answer here`)
    assert.match(run.all, '"bad name" is not an answer here')
    assert.match(
      await programIn(inventory),
      /- program: worker\n\s+script: worker.sh\n\s+autostart: true\n\s+autorestart: true\n\s+stopwaitsecs: 3600\n\s+numprocs: 1\n/,
    )
    assert.match(run.all, `--app-dir ${app}`, 'the replay names the directory that was asked for')
  }))

test('"Are you absolutely sure?" takes only a clear answer too; "nope" is asked again and the inventory is kept', () =>
  inTempDir(async (dir) => {
    const { inventory } = await appWithWorker(dir)
    const withProgram = `${SITE_WITHOUT_REPO}    supervisors:\n      - program: worker\n        script: worker.sh\n`
    await fs.writeFile(inventory, withProgram)
    const run = await runTaskOnTerminal(
      'supervisor-delete',
      ['--inventory', inventory, '--domain', 'example.com', '--program', 'worker'],
      [
        ["Type the program name 'worker'", 'worker'],
        ['Are you absolutely sure? [y/N]', 'yes please'],
        ['Are you absolutely sure? [y/N]', 'no'],
      ],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(
      run.all,
      '"yes please" is not an answer here; allowed: y, yes, n or no (any case), or Enter for the default (No)',
    )
    assert.match(run.all, 'Cancelled deleting supervisor program')
    assert.is(await fs.readFile(inventory, 'utf8'), withProgram)
  }))

test('deploy asks for a missing --domain and --app-dir on a terminal, and asks again for a folder that does not exist', () =>
  inTempDir(async (dir) => {
    const { inventory } = await appWithWorker(dir)
    const run = await runTaskOnTerminal(
      'deploy',
      ['--inventory', inventory],
      [
        ['Select site:', '1'],
        ['App directory to upload as the release:', path.join(dir, 'build')],
        ['App directory to upload as the release:', '\x04'],
      ],
    )
    assert.is(run.exitCode, 2, run.all)
    assert.match(
      run.all,
      `"${path.join(dir, 'build')}" is not an answer here; allowed: the folder to upload as the release. Hint: no such directory: ${path.join(dir, 'build')}.`,
    )
    assert.match(run.all, 'No answer: the input ended (Ctrl-D) at a prompt; nothing was changed.')
  }))

test('scaffold-supervisors asks again for a destination it cannot use (~user), instead of failing', () =>
  inTempDir(async (dir) => {
    const run = await runTaskOnTerminal(
      'scaffold-supervisors',
      [],
      [
        ['Destination directory:', '~bob/app'],
        ['Destination directory:', dir],
      ],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(
      run.all,
      '"~bob/app" is not an answer here; allowed: ~, ~/path, an absolute path or one relative to the current directory. Hint: write the home directory out',
    )
    const shipped = (await fs.readdir(path.join(PROJECT, 'templates/scaffold'))).sort()
    const written = (await fs.readdir(path.join(dir, '.deployer/supervisors'))).sort()
    assert.equal(written, shipped, 'every script the scaffold ships, in the folder given at the second ask')
  }))

test.run()
