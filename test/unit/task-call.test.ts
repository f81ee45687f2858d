import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineTask, type TaskContext } from '../../lib/cli/run-task.ts'
import { resolveInventoryPath } from '../../lib/inventory/load.ts'
import { scaffoldSupervisorsTask } from '../../tasks/scaffold-supervisors.mjs'
import { supervisorCreate } from '../../tasks/supervisor-create.mjs'
import { captureOutput } from '../helpers/capture.ts'
import { PROJECT } from '../helpers/run-task.ts'

// task.call(options): flags as an object, validated like argv, never a prompt, nothing on stdout; resolves with the
// exit code and the document --json prints. And where the frame finds the inventory.

let seen: TaskContext | undefined
const echo = defineTask(
  {
    name: 'echo',
    summary: 'prints its flags',
    flags: [
      { name: 'domain', type: 'string', description: 'a site' },
      { name: 'dry-run', type: 'boolean', description: 'touch nothing' },
      { name: 'count', type: 'integer', default: 1, description: 'how many' },
      { name: 'env', type: 'list', description: 'KEY=VALUE' },
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout'],
    examples: [],
  },
  async (context) => {
    seen = context
    const { flags, output } = context
    output.info(`domain ${flags.domain}`)
    output.json({
      ok: true,
      domain: flags.domain,
      dryRun: flags['dry-run'],
      count: flags.count,
      env: flags.env,
      inventory: flags.inventory,
      timeout: flags.timeout,
    })
    return flags.domain === 'fail.test' ? 1 : 0
  },
)

/** What the callback wrote on the real stdout while it ran. */
async function stdoutOf<T>(callback: () => Promise<T>): Promise<{ value: T; stdout: string }> {
  const write = process.stdout.write
  let stdout = ''
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  }) as typeof process.stdout.write
  try {
    return { value: await callback(), stdout }
  } finally {
    process.stdout.write = write
  }
}

test('call: flags by name or camelCase; the --json document is the result, without --json and with nothing on stdout', async () => {
  const { value, stdout } = await stdoutOf(() =>
    echo.call({ domain: 'a.test', dryRun: true, count: 3, env: ['A=1', 'B=2'] }),
  )
  assert.is(value.exitCode, 0)
  assert.equal(value.result, {
    ok: true,
    domain: 'a.test',
    dryRun: true,
    count: 3,
    env: ['A=1', 'B=2'],
    inventory: path.join(PROJECT, 'inventory/inventory.yml'),
    timeout: 10,
  })
  assert.is(stdout, '')
  assert.is(seen?.interactive, false, 'call never prompts')
  assert.equal((await echo.call({ 'dry-run': false })).result, {
    ok: true,
    domain: undefined,
    dryRun: false,
    count: 1,
    env: [],
    inventory: path.join(PROJECT, 'inventory/inventory.yml'),
    timeout: 10,
  })
})

test("call: the exit code is the task's", async () => {
  assert.is((await echo.call({ domain: 'fail.test' })).exitCode, 1)
})

test('call: options.output gets the human lines', async () => {
  const captured = captureOutput()
  await echo.call({ domain: 'a.test', output: captured.output })
  assert.is(captured.stdout(), 'domain a.test\n')
})

const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ['an unknown flag', { nope: 1 }, /error: --nope: got "--nope=1"; allowed: one of --domain/],
  ['a non-integer', { count: 'abc' }, /error: --count: got "abc"; allowed: a whole number/],
  ['a fraction', { count: 1.5 }, /error: --count: got "1.5"/],
  ['timeout 0', { timeout: 0 }, /error: --timeout: got "0"; allowed: a whole number, at least 1/],
  ['a list for a single value', { domain: ['a', 'b'] }, /error: --domain: .*allowed: one value/],
  ['an empty value', { domain: '' }, /error: --domain: got ""; allowed: a value/],
]

for (const [name, options, message] of BAD) {
  test(`call validates like argv (exit 2, the flag named): ${name}`, async () => {
    const captured = captureOutput()
    const { exitCode, result } = await echo.call({ ...options, output: captured.output })
    assert.is(exitCode, 2)
    assert.match(captured.stderr(), message)
    const document = result as { ok: boolean; exitCode: number; problems: Array<{ field: string }> }
    assert.is(document.ok, false)
    assert.is(document.exitCode, 2)
    assert.match(document.problems[0]?.field ?? '', /^--/)
  })
}

test('inventory: --inventory, then ZXS_INVENTORY (both from the working directory), then the project default', () => {
  const project = path.join(PROJECT, 'inventory/inventory.yml')
  assert.is(resolveInventoryPath(undefined, {}, '/srv/app'), project)
  assert.is(resolveInventoryPath(undefined, { ZXS_INVENTORY: '' }, '/srv/app'), project)
  assert.is(resolveInventoryPath(undefined, { ZXS_INVENTORY: ' ' }, '/srv/app'), project)
  assert.is(resolveInventoryPath(undefined, { ZXS_INVENTORY: 'inv/team.yml' }, '/srv/app'), '/srv/app/inv/team.yml')
  assert.is(resolveInventoryPath(undefined, { ZXS_INVENTORY: '/etc/zxs.yml' }, '/srv/app'), '/etc/zxs.yml')
  assert.is(resolveInventoryPath('mine.yml', { ZXS_INVENTORY: '/etc/zxs.yml' }, '/srv/app'), '/srv/app/mine.yml')
  assert.is(resolveInventoryPath('/abs/mine.yml', {}, '/srv/app'), '/abs/mine.yml')
})

test('inventory: the frame hands the task the resolved path (ZXS_INVENTORY relative to the working directory)', async () => {
  const before = process.env.ZXS_INVENTORY
  process.env.ZXS_INVENTORY = 'from-env.yml'
  try {
    const inventoryOf = async (options: Record<string, unknown>) =>
      ((await echo.call(options)).result as { inventory: string }).inventory
    assert.is(await inventoryOf({}), path.resolve('from-env.yml'))
    assert.is(await inventoryOf({ inventory: 'flag.yml' }), path.resolve('flag.yml'))
  } finally {
    if (before === undefined) delete process.env.ZXS_INVENTORY
    else process.env.ZXS_INVENTORY = before
  }
})

const INVENTORY = `servers:
  - name: web-1
    host: 127.0.0.254
sites:
  - domain: example.com
    server: web-1
`

test('call on a real task: supervisor-create adds the program and resolves with its --json document', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-call-'))
  try {
    const inventory = path.join(dir, 'inventory.yml')
    await fs.writeFile(inventory, INVENTORY)
    await fs.mkdir(path.join(dir, 'app/.deployer/supervisors'), { recursive: true })
    await fs.writeFile(path.join(dir, 'app/.deployer/supervisors/worker.sh'), '#!/bin/sh\n', { mode: 0o755 })
    const { value, stdout } = await stdoutOf(() =>
      supervisorCreate.call({
        inventory,
        appDir: path.join(dir, 'app'),
        domain: 'example.com',
        program: 'worker',
        script: 'worker.sh',
        numprocs: 2,
        autostart: false,
      }),
    )
    assert.is(value.exitCode, 0, JSON.stringify(value.result))
    assert.is(stdout, '')
    const result = value.result as { ok: boolean; program: string; inventory: string; replay: string }
    assert.is(result.ok, true)
    assert.is(result.program, 'worker')
    assert.is(result.inventory, inventory)
    assert.match(result.replay, '--no-autostart')
    assert.match(await fs.readFile(inventory, 'utf8'), /- program: worker\n\s+script: worker.sh\n\s+autostart: false/)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test('call on a real task: a missing flag is named (no prompt), exit 2', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-call-'))
  try {
    const inventory = path.join(dir, 'inventory.yml')
    await fs.writeFile(inventory, INVENTORY)
    const captured = captureOutput()
    const { exitCode } = await supervisorCreate.call({ inventory, appDir: dir, output: captured.output })
    assert.is(exitCode, 2)
    assert.match(captured.stderr(), '--domain')
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test('call on a real task: scaffold-supervisors writes the scripts and lists them in its result', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-call-'))
  try {
    const { exitCode, result } = await scaffoldSupervisorsTask.call({ destination: dir })
    assert.is(exitCode, 0)
    const files = (result as { files: Array<{ name: string; path: string; status: string }> }).files
    const shipped = (await fs.readdir(path.join(PROJECT, 'templates/scaffold'))).sort()
    const scripts = path.join(dir, '.deployer/supervisors')
    const created = shipped.map((name) => ({ name, path: path.join(scripts, name), status: 'created' }))
    assert.equal(files, created, 'every script the scaffold ships')
    assert.equal((await fs.readdir(scripts)).sort(), shipped)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test.run()
