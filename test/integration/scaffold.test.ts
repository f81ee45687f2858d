import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PROJECT, runTask, runTaskOnTerminal } from '../helpers/run-task.ts'

// scaffold-supervisors as a user runs it (`npx zx tasks/scaffold-supervisors.mjs ...`): no inventory, no server.

const NAMES = ['messenger.sh', 'node-worker.sh', 'python-worker.sh', 'queue-worker.sh']
const SCRIPTS = '.deployer/supervisors'
const TEMPLATES = path.join(PROJECT, 'templates', 'scaffold')

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-scaffold-it-')))
  try {
    await body(dir)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

async function assertScaffolded(app: string): Promise<void> {
  assert.equal((await fs.readdir(path.join(app, SCRIPTS))).sort(), NAMES)
  for (const name of NAMES) {
    const file = path.join(app, SCRIPTS, name)
    assert.is(((await fs.stat(file)).mode & 0o777).toString(8), '755', name)
    assert.is(await fs.readFile(file, 'utf8'), await fs.readFile(path.join(TEMPLATES, name), 'utf8'), name)
  }
}

test('into an empty folder: four executable scripts, a line per file, the next step; a rerun skips them all', async () => {
  await withTempDir(async (dir) => {
    const run = await runTask('scaffold-supervisors', ['--destination', dir])
    assert.is(run.exitCode, 0, run.all)
    assert.equal(run.stdout.split('\n').slice(0, 5), [
      `Destination: ${dir}`,
      'created  .deployer/supervisors/messenger.sh',
      'created  .deployer/supervisors/node-worker.sh',
      'created  .deployer/supervisors/python-worker.sh',
      'created  .deployer/supervisors/queue-worker.sh',
    ])
    assert.match(
      run.stdout,
      'npx zx tasks/supervisor-create.mjs --domain DOMAIN --program messenger --script messenger.sh',
    )
    assert.is(run.stderr, '')
    await assertScaffolded(dir)

    await fs.writeFile(path.join(dir, SCRIPTS, 'messenger.sh'), '#!/bin/sh\nexec mine\n')
    const again = await runTask('scaffold-supervisors', ['--destination', dir])
    assert.is(again.exitCode, 0, again.all)
    for (const name of NAMES)
      assert.match(again.stdout, `skipped  .deployer/supervisors/${name}  (exists, left unchanged)`)
    assert.is(await fs.readFile(path.join(dir, SCRIPTS, 'messenger.sh'), 'utf8'), '#!/bin/sh\nexec mine\n')
  })
})

test('a populated folder: the existing file and the dangling symlink are skipped and unchanged', async () => {
  await withTempDir(async (dir) => {
    await fs.mkdir(path.join(dir, SCRIPTS), { recursive: true })
    await fs.writeFile(path.join(dir, SCRIPTS, 'queue-worker.sh'), 'ours\n', { mode: 0o600 })
    await fs.symlink('../missing.sh', path.join(dir, SCRIPTS, 'python-worker.sh'))
    const run = await runTask('scaffold-supervisors', ['--destination', dir])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'skipped  .deployer/supervisors/queue-worker.sh')
    assert.match(run.stdout, 'skipped  .deployer/supervisors/python-worker.sh')
    assert.match(run.stdout, 'created  .deployer/supervisors/messenger.sh')
    assert.match(run.stdout, 'created  .deployer/supervisors/node-worker.sh')
    assert.is(await fs.readFile(path.join(dir, SCRIPTS, 'queue-worker.sh'), 'utf8'), 'ours\n')
    assert.is(((await fs.stat(path.join(dir, SCRIPTS, 'queue-worker.sh'))).mode & 0o777).toString(8), '600')
    assert.is(await fs.readlink(path.join(dir, SCRIPTS, 'python-worker.sh')), '../missing.sh')
    assert.not.ok(
      await fs.stat(path.join(dir, '.deployer', 'missing.sh')).catch(() => null),
      'nothing written through the link',
    )
  })
})

const HOME_CASES: Array<[string, string]> = [
  ['~', ''],
  ['~/code/app', 'code/app'],
]

for (const [destination, under] of HOME_CASES) {
  test(`--destination ${destination} is under $HOME`, async () => {
    await withTempDir(async (home) => {
      await fs.mkdir(path.join(home, under), { recursive: true })
      const run = await runTask('scaffold-supervisors', ['--destination', destination], { env: { HOME: home } })
      assert.is(run.exitCode, 0, run.all)
      assert.is(run.stdout.split('\n')[0], `Destination: ${path.join(home, under)}`)
      await assertScaffolded(path.join(home, under))
    })
  })
}

test('--json: one document on stdout', async () => {
  await withTempDir(async (dir) => {
    const run = await runTask('scaffold-supervisors', ['--destination', dir, '--json'])
    assert.is(run.exitCode, 0, run.all)
    assert.equal(JSON.parse(run.stdout), {
      ok: true,
      destination: dir,
      files: NAMES.map((name) => ({ name, path: path.join(dir, SCRIPTS, name), status: 'created' })),
    })
  })
})

test('a destination that is a file: exit 2, the message names --destination and the path, nothing written', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'app')
    await fs.writeFile(file, 'x')
    const run = await runTask('scaffold-supervisors', ['--destination', file])
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, `error: --destination: got "${file}"`)
    assert.match(run.stderr, `${file} exists and is not a directory`)
    assert.equal(await fs.readdir(dir), ['app'])
  })
})

test('a destination that does not exist: exit 2 with a mkdir -p hint, nothing created (a typo is not a new folder)', async () => {
  await withTempDir(async (dir) => {
    const missing = path.join(dir, 'ap', 'p')
    const run = await runTask('scaffold-supervisors', ['--destination', missing])
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, `error: --destination: got "${missing}"`)
    assert.match(
      run.stderr,
      `${missing} does not exist; pass the app's root folder, or create it first: mkdir -p ${missing}`,
    )
    assert.equal(await fs.readdir(dir), [])
  })
})

test('on a terminal without --destination: prompted, with the current directory as the default', async () => {
  await withTempDir(async (dir) => {
    const run = await runTaskOnTerminal('scaffold-supervisors', [], [['Destination directory:', dir]])
    assert.is(run.exitCode, 0, run.all)
    // The default is drawn in the empty field.
    assert.match(run.all, new RegExp(`Destination directory:\\s+│\\s+${PROJECT}`))
    assert.match(run.all, `Destination: ${dir}`)
    await assertScaffolded(dir)
  })
})

test('no inventory and no server flags: --inventory is an unknown flag here', async () => {
  const run = await runTask('scaffold-supervisors', ['--inventory', 'x.yml'])
  assert.is(run.exitCode, 2, run.all)
  assert.match(run.stderr, /--inventory: got "--inventory"/)
})

test.run()
