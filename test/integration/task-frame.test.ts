import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runTask, runTaskFromDirectory, runTaskOnTerminal } from '../helpers/run-task.ts'

// The task frame as a user meets it, no server needed: ZXS_INVENTORY, running from any working directory,
// and prompts on a real terminal (answers pasted at once are all used; Ctrl-C at a prompt is 130).

const NO_SERVERS = 'servers: []\nsites: []\n'
const ONE_SITE = `servers:
  - name: web-1
    host: 127.0.0.254
sites:
  - domain: example.com
    server: web-1
`

async function inTempDir(callback: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-frame-'))
  try {
    await callback(dir)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

test('ZXS_INVENTORY names the inventory when --inventory is not given', () =>
  inTempDir(async (dir) => {
    const inventory = path.join(dir, 'team.yml')
    await fs.writeFile(inventory, NO_SERVERS)
    const run = await runTask('supervisor-status', ['--json'], { env: { ZXS_INVENTORY: inventory } })
    assert.is(run.exitCode, 0, run.all)
    assert.equal(JSON.parse(run.stdout), { ok: true, servers: [] })

    const missing = await runTask('supervisor-status', [], { env: { ZXS_INVENTORY: path.join(dir, 'nope.yml') } })
    assert.is(missing.exitCode, 2, missing.all)
    assert.match(missing.stderr, `Inventory not found: ${path.join(dir, 'nope.yml')}`)

    const flagWins = await runTask('supervisor-status', ['--inventory', inventory], {
      env: { ZXS_INVENTORY: path.join(dir, 'nope.yml') },
    })
    assert.is(flagWins.exitCode, 0, flagWins.all)
  }))

test('a task runs from any working directory; --inventory and ZXS_INVENTORY are taken from there', () =>
  inTempDir(async (dir) => {
    await fs.writeFile(path.join(dir, 'here.yml'), NO_SERVERS)
    const help = await runTaskFromDirectory(dir, 'supervisor-status', ['--help'])
    assert.is(help.exitCode, 0, help.all)
    assert.match(help.stdout, 'Usage: npx zx tasks/supervisor-status.mjs')

    const status = await runTaskFromDirectory(dir, 'supervisor-status', ['--inventory', 'here.yml', '--json'])
    assert.is(status.exitCode, 0, status.all)
    assert.equal(JSON.parse(status.stdout), { ok: true, servers: [] })

    const fromEnv = await runTaskFromDirectory(dir, 'supervisor-status', ['--json'], {
      env: { ZXS_INVENTORY: 'here.yml' },
    })
    assert.is(fromEnv.exitCode, 0, fromEnv.all)

    const missing = await runTaskFromDirectory(dir, 'supervisor-status', ['--inventory', 'nope.yml'])
    assert.is(missing.exitCode, 2, missing.all)
    assert.match(missing.stderr, `Inventory not found: ${path.join(dir, 'nope.yml')}`)
  }))

async function appWithWorker(dir: string): Promise<{ inventory: string; app: string }> {
  const inventory = path.join(dir, 'inventory.yml')
  await fs.writeFile(inventory, ONE_SITE)
  const app = path.join(dir, 'app')
  await fs.mkdir(path.join(app, '.deployer/supervisors'), { recursive: true })
  await fs.writeFile(path.join(app, '.deployer/supervisors/worker.sh'), '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 })
  return { inventory, app }
}

test('answers pasted at once on a terminal are all used, one per question', () =>
  inTempDir(async (dir) => {
    const { inventory, app } = await appWithWorker(dir)
    // Site, then autostart, autorestart, stop wait and processes: five answers in one paste at the first question.
    const run = await runTaskOnTerminal(
      'supervisor-create',
      ['--inventory', inventory, '--app-dir', app, '--script', 'worker.sh', '--program', 'worker'],
      [['Select site:', '1\rn\r\r60\r2']],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(
      await fs.readFile(inventory, 'utf8'),
      /- program: worker\n\s+script: worker.sh\n\s+autostart: false\n\s+autorestart: true\n\s+stopwaitsecs: 60\n\s+numprocs: 2/,
    )
  }))

test('Ctrl-C at a prompt exits 130, as everywhere else, and changes nothing', () =>
  inTempDir(async (dir) => {
    const { inventory, app } = await appWithWorker(dir)
    const run = await runTaskOnTerminal(
      'supervisor-create',
      ['--inventory', inventory, '--app-dir', app, '--domain', 'example.com', '--program', 'worker'],
      [['to navigate', '\x03']],
    )
    assert.is(run.exitCode, 130, run.all)
    assert.match(run.all, 'interrupted by SIGINT')
    assert.not.match(run.all, 'Aborted with Ctrl+C')
    assert.is(await fs.readFile(inventory, 'utf8'), ONE_SITE)
  }))

test('end of input (Ctrl-D) at a prompt is exit 2 with a message, not a silent end', () =>
  inTempDir(async (dir) => {
    const { inventory, app } = await appWithWorker(dir)
    const run = await runTaskOnTerminal(
      'supervisor-create',
      ['--inventory', inventory, '--app-dir', app, '--script', 'worker.sh', '--program', 'worker'],
      [['to navigate', '\x04']],
    )
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.all, 'No answer: the input ended (Ctrl-D) at a prompt')
    assert.is(await fs.readFile(inventory, 'utf8'), ONE_SITE)
  }))

test.run()
