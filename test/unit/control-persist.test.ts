import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatHelp } from '../../lib/cli/flags.ts'
import { validateInventory } from '../../lib/inventory/validate.ts'
import { createMasterNamer, warmControlDir } from '../../lib/remote/control-path.ts'
import { checkControlPersist } from '../../lib/values.ts'
import { supervisorStatus } from '../../tasks/supervisor-status.mjs'
import { captureOutput } from '../helpers/capture.ts'
import { rejected } from '../helpers/input-error.ts'

// Warm SSH masters without a server: the controlPersist rule, the private directory they live in, and socket names
// that change with every setting and file that decides the connection.

async function inTempDir(callback: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-cp-'))
  try {
    await callback(dir)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** The message warmControlDir refuses with. */
async function refusal(env: NodeJS.ProcessEnv): Promise<string> {
  return (await rejected(() => warmControlDir(env), Error)).message
}

test('controlPersist: seconds, or false; 0 means false; flags and the environment also say off/no/0', () => {
  assert.equal(checkControlPersist(60, 'controlPersist'), { ok: true, value: 60 })
  assert.equal(checkControlPersist(0, 'controlPersist'), { ok: true, value: false })
  assert.equal(checkControlPersist(false, 'controlPersist'), { ok: true, value: false })
  assert.equal(checkControlPersist('off', 'ZXS_CONTROL_PERSIST', { fromFlag: true }), { ok: true, value: false })
  assert.equal(checkControlPersist('30', 'ZXS_CONTROL_PERSIST', { fromFlag: true }), { ok: true, value: 30 })
  for (const bad of [true, -1, 86_401, 1.5, '60', 'soon', null]) {
    const result = checkControlPersist(bad, 'controlPersist')
    assert.not.ok(result.ok, `refused: ${JSON.stringify(bad)}`)
    if (!result.ok) assert.is(result.problem.field, 'controlPersist')
  }
})

test('the inventory takes a top-level controlPersist and says where a bad one is', () => {
  const base = { servers: [{ name: 'web', host: '10.0.0.1' }], sites: [] }
  const set = validateInventory({ ...base, controlPersist: 5 })
  assert.equal(set.problems, [])
  assert.equal(set.warnings, [])
  assert.is(set.inventory.controlPersist, 5)
  assert.is(validateInventory(base).inventory.controlPersist, undefined)
  assert.is(validateInventory({ ...base, controlPersist: false }).inventory.controlPersist, false)
  assert.equal(
    validateInventory({ ...base, controlPersist: 'soon' }).problems.map((p) => p.field),
    ['controlPersist'],
  )
})

test('warm masters live in $XDG_RUNTIME_DIR/zxs, created 0700; wider permissions are narrowed', () =>
  inTempDir(async (dir) => {
    await fs.chmod(dir, 0o700)
    const made = await warmControlDir({ XDG_RUNTIME_DIR: dir })
    assert.is(made, path.join(dir, 'zxs'))
    assert.is((await fs.stat(made)).mode & 0o777, 0o700)
    await fs.chmod(made, 0o755)
    await warmControlDir({ XDG_RUNTIME_DIR: dir })
    assert.is((await fs.stat(made)).mode & 0o777, 0o700)
  }))

test("without a runtime dir of this user: the cache dir; a symlink or another user's directory is refused", () =>
  inTempDir(async (dir) => {
    const foreignRuntime = path.join(dir, 'run')
    await fs.mkdir(foreignRuntime)
    await fs.chown(foreignRuntime, 65534, 65534)
    const cache = path.join(dir, 'cache')
    assert.is(
      await warmControlDir({ XDG_RUNTIME_DIR: foreignRuntime, XDG_CACHE_HOME: cache }),
      path.join(cache, 'zx-supervisor', 'cm'),
    )

    const elsewhere = path.join(dir, 'elsewhere')
    await fs.mkdir(elsewhere, { mode: 0o700 })
    const linked = path.join(dir, 'linked')
    await fs.mkdir(path.join(linked, 'zx-supervisor'), { recursive: true })
    await fs.symlink(elsewhere, path.join(linked, 'zx-supervisor', 'cm'))
    assert.match(await refusal({ XDG_CACHE_HOME: linked }), /not a directory/)

    const foreign = path.join(dir, 'foreign')
    await fs.mkdir(path.join(foreign, 'zx-supervisor', 'cm'), { recursive: true })
    await fs.chown(path.join(foreign, 'zx-supervisor', 'cm'), 65534, 65534)
    assert.match(await refusal({ XDG_CACHE_HOME: foreign }), /belongs to uid 65534/)
  }))

test('a cache dir too long for UNIX sockets falls back to a short one in the temp dir', async () => {
  const long = path.join(os.tmpdir(), 'x'.repeat(80))
  const dir = await warmControlDir({ XDG_CACHE_HOME: long })
  assert.is(dir, path.join(os.tmpdir(), `zxs-cm-${process.getuid?.()}`))
  assert.ok(dir.length + 1 + 24 + '.0123456789abcdef'.length < 104)
})

test('a socket name changes with any setting and any file ssh reads for the connection', () =>
  inTempDir(async (dir) => {
    const knownHosts = path.join(dir, 'known_hosts')
    await fs.writeFile(knownHosts, 'a ssh-ed25519 AAAA\n')
    const settings = ['10.0.0.1', '22', 'deployer', '60']
    const first = await createMasterNamer()(settings, [knownHosts])
    assert.match(first, /^[0-9a-f]{24}$/)
    assert.is(await createMasterNamer()(settings, [knownHosts]), first, 'stable while nothing changes')
    assert.is.not(
      await createMasterNamer()(['10.0.0.1', '2222', 'deployer', '60'], [knownHosts]),
      first,
      'another port',
    )
    assert.is.not(await createMasterNamer()(settings, [path.join(dir, 'other_known_hosts')]), first, 'another file')
    await fs.appendFile(knownHosts, 'b ssh-ed25519 BBBB\n')
    assert.is.not(await createMasterNamer()(settings, [knownHosts]), first, 'the same file, changed')
  }))

test('--[no-]persist is offered by the tasks that contact servers', () => {
  assert.match(formatHelp(supervisorStatus.meta), /--\[no-\]persist\s+keep SSH connections open briefly/)
})

test('a bad ZXS_CONTROL_PERSIST is bad input (exit 2) naming the variable, before any connection', () =>
  inTempDir(async (dir) => {
    const inventory = path.join(dir, 'inventory.yml')
    await fs.writeFile(inventory, 'servers: []\nsites: []\n')
    const saved = process.env.ZXS_CONTROL_PERSIST
    process.env.ZXS_CONTROL_PERSIST = 'soon'
    try {
      const captured = captureOutput()
      const code = await supervisorStatus.run(['--inventory', inventory], { output: captured.output })
      assert.is(code, 2, captured.stderr())
      assert.match(captured.stderr(), 'ZXS_CONTROL_PERSIST')
    } finally {
      if (saved === undefined) delete process.env.ZXS_CONTROL_PERSIST
      else process.env.ZXS_CONTROL_PERSIST = saved
    }
  }))

test.run()
