import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { unusedScripts } from '../../lib/app/available-scripts.ts'
import type { Site } from '../../lib/types.ts'
import { supervisorCreate } from '../../tasks/supervisor-create.mjs'
import { supervisorSync } from '../../tasks/supervisor-sync.mjs'
import { captureOutput } from '../helpers/capture.ts'
import { runTaskOnTerminal } from '../helpers/run-task.ts'

// supervisor-create through the real task, in this process: good input lands in the inventory; bad input is
// exit 2 with a message naming the flag and the value, and the inventory's bytes stay as they were.

const INVENTORY = `# team inventory
servers:
  - name: web-1   # the only server
    host: 127.0.0.254
    port: 2
sites:
  - domain: example.com
    server: web-1
    custom_key: kept
`

async function setup() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-create-'))
  const inventory = path.join(dir, 'inventory.yml')
  await fs.writeFile(inventory, INVENTORY)
  for (const script of ['worker.sh', 'sub/dir/ws.sh', 'other.sh']) {
    await fs.mkdir(path.dirname(path.join(dir, 'app/.deployer/supervisors', script)), { recursive: true })
    await fs.writeFile(path.join(dir, 'app/.deployer/supervisors', script), '#!/bin/sh\nexec sleep 1000\n', {
      mode: 0o755,
    })
  }
  return { dir, inventory, app: path.join(dir, 'app') }
}

async function create(args: string[]) {
  const { dir, inventory, app } = await setup()
  const captured = captureOutput()
  const code = await supervisorCreate.run(['--inventory', inventory, '--app-dir', app, ...args], {
    output: captured.output,
  })
  const text = await fs.readFile(inventory, 'utf8')
  await fs.rm(dir, { recursive: true, force: true })
  return { code, text, stdout: captured.stdout(), stderr: captured.stderr() }
}

const BASE = ['--domain', 'example.com', '--program', 'worker', '--script', 'worker.sh']
const withFlag = (flag: string, value: string) => {
  const args = [...BASE]
  const at = args.indexOf(flag)
  if (at >= 0) args[at + 1] = value
  else args.push(flag, value)
  return args
}

test('a program with every option lands in the inventory; comments and unknown keys are kept', async () => {
  const run = await create([
    ...BASE,
    '--numprocs',
    '2',
    '--no-autostart',
    '--stopwaitsecs',
    '60',
    '--startsecs',
    '5',
    '--stopsignal',
    'INT',
    '--env',
    'QUEUE=high,low',
    '--env',
    'RATE=100%',
  ])
  assert.is(run.code, 0, run.stderr)
  assert.ok(run.text.startsWith('# team inventory\nservers:\n  - name: web-1   # the only server\n'))
  assert.match(run.text, 'custom_key: kept')
  assert.match(
    run.text,
    /- program: worker\n\s+script: worker.sh\n\s+autostart: false\n\s+autorestart: true\n\s+stopwaitsecs: 60\n\s+numprocs: 2\n\s+startsecs: 5\n\s+stopsignal: INT\n\s+environment:\n\s+QUEUE: high,low\n\s+RATE: 100%/,
  )
  assert.match(run.stdout, "Supervisor 'worker' added to inventory")
  assert.match(run.stdout, '--no-autostart --autorestart --stopwaitsecs 60 --numprocs 2')
})

test('without a terminal the booleans default to true (DeployerPHP stored false)', async () => {
  const run = await create(BASE)
  assert.is(run.code, 0, run.stderr)
  assert.match(run.text, /autostart: true\n\s+autorestart: true\n\s+stopwaitsecs: 3600\n\s+numprocs: 1/)
})

test('scripts in subfolders are allowed', async () => {
  const run = await create(withFlag('--script', 'sub/dir/ws.sh'))
  assert.is(run.code, 0, run.stderr)
  assert.match(run.text, 'script: sub/dir/ws.sh')
})

const HOSTILE: Array<[string, string[], RegExp]> = [
  ['program with a newline', withFlag('--program', 'w\n[program:evil]'), /--program: got "w\\n\[program:evil\]"/],
  ['program with a space', withFlag('--program', 'my worker'), /--program: got "my worker"/],
  ['program with a colon', withFlag('--program', 'a:b'), /--program: got "a:b"/],
  ['program with a slash', withFlag('--program', 'a/b'), /--program: got "a\/b"/],
  ['program with shell metacharacters', withFlag('--program', 'w;$(id)'), /--program: got "w;\$\(id\)"/],
  ['program with a bracket', withFlag('--program', 'w]'), /--program: got "w\]"/],
  ['program "all" (reserved by supervisorctl)', withFlag('--program', 'all'), /--program: got "all"/],
  ['unknown domain', withFlag('--domain', 'nope.com'), /--domain: got "nope.com".*example.com/],
  ['domain with ..', withFlag('--domain', '../etc'), /--domain: got "..\/etc"/],
  ['script with ..', withFlag('--script', '../../etc/passwd'), /--script: got "..\/..\/etc\/passwd"/],
  ['absolute script', withFlag('--script', '/bin/sh'), /--script: got "\/bin\/sh"/],
  [
    'script that does not exist',
    withFlag('--script', 'missing.sh'),
    /--script: got "missing.sh".*Supervisor script not found: .deployer\/supervisors\/missing.sh/,
  ],
  ['script with a space', withFlag('--script', 'a b.sh'), /--script: got "a b.sh"/],
  ['numprocs 0', withFlag('--numprocs', '0'), /--numprocs: got 0/],
  ['numprocs abc', withFlag('--numprocs', 'abc'), /--numprocs: got "abc"/],
  ['stopwaitsecs float', withFlag('--stopwaitsecs', '1.5'), /--stopwaitsecs: got "1.5"/],
  ['env value with a newline', [...BASE, '--env', 'A=x\n[program:evil]'], /--env A.*got "\[REDACTED [0-9a-f]{8}\]"/],
  ['env value with " ;"', [...BASE, '--env', 'A=x ;y'], /--env A.*got "\[REDACTED [0-9a-f]{8}\]"/],
  ['env value with " #"', [...BASE, '--env', 'A=x #y'], /--env A.*got "\[REDACTED [0-9a-f]{8}\]"/],
  ['env value with both quote kinds', [...BASE, '--env', `A=it's "x"`], /--env A.*got "\[REDACTED [0-9a-f]{8}\]"/],
  ['env key with a dash', [...BASE, '--env', 'A-B=1'], /--env: got "A-B"/],
  ['env without =', [...BASE, '--env', 'JUSTKEY'], /--env: got "JUSTKEY"; allowed: KEY=VALUE/],
  ['reserved env key', [...BASE, '--env', 'DEPLOYER_DOMAIN=x'], /DEPLOYER_DOMAIN/],
  ['stopsignal not a signal', withFlag('--stopsignal', 'TERM;id'), /--stopsignal: got "TERM;id"/],
  ['user with a space', withFlag('--user', 'a b'), /--user: got "a b"/],
  ['unknown flag', [...BASE, '--numproc', '2'], /--numproc: got "--numproc"/],
]

for (const [name, args, message] of HOSTILE) {
  test(`bad input is exit 2 and leaves the inventory's bytes alone: ${name}`, async () => {
    const run = await create(args)
    assert.is(run.code, 2, run.stdout + run.stderr)
    assert.match(run.stderr, message)
    assert.is(run.text, INVENTORY)
  })
}

test("a duplicate program or script is refused with DeployerPHP's messages", async () => {
  const { dir, inventory, app } = await setup()
  const first = captureOutput()
  assert.is(
    await supervisorCreate.run(['--inventory', inventory, '--app-dir', app, ...BASE], { output: first.output }),
    0,
    first.stderr(),
  )
  const after = await fs.readFile(inventory, 'utf8')
  const again = captureOutput()
  assert.is(
    await supervisorCreate.run(['--inventory', inventory, '--app-dir', app, ...BASE], { output: again.output }),
    2,
  )
  assert.match(again.stderr(), "Supervisor script 'worker.sh' is already configured for 'example.com'")
  assert.match(again.stderr(), "Supervisor 'worker' is already configured for 'example.com'")
  assert.is(await fs.readFile(inventory, 'utf8'), after)
  await fs.rm(dir, { recursive: true, force: true })
})

test('without a terminal a missing flag is named, never prompted for', async () => {
  const run = await create(['--domain', 'example.com'])
  assert.is(run.code, 2)
  assert.match(run.stderr, '--script')
  assert.match(run.stderr, '--program')
})

// --- the scripts offered: one program per script per site, so only the free ones -------------------------------

/** The site's programs already run these scripts (the app has worker.sh, sub/dir/ws.sh and other.sh). */
async function setupUsing(scripts: string[]) {
  const paths = await setup()
  const supervisors = scripts.map((script, i) => `      - program: p${i}\n        script: ${script}\n`).join('')
  await fs.writeFile(paths.inventory, `${INVENTORY}    supervisors:\n${supervisors}`)
  return paths
}

test('unusedScripts leaves out the scripts a program of the site already runs', () => {
  const site = {
    domain: 'a.test',
    servers: [],
    supervisors: [{ program: 'w', script: 'worker.sh' }],
  } as unknown as Site
  assert.equal(unusedScripts(site, ['other.sh', 'sub/dir/ws.sh', 'worker.sh']), ['other.sh', 'sub/dir/ws.sh'])
})

test('without --script and without a terminal the message lists only the free scripts', async () => {
  const { dir, inventory, app } = await setupUsing(['worker.sh'])
  const captured = captureOutput()
  assert.is(
    await supervisorCreate.run(
      ['--inventory', inventory, '--app-dir', app, '--domain', 'example.com', '--program', 'x'],
      { output: captured.output },
    ),
    2,
  )
  assert.match(
    captured.stderr(),
    '--script: got nothing; allowed: a script in .deployer/supervisors/ that no program of example.com runs yet (other.sh, sub/dir/ws.sh)',
  )
  await fs.rm(dir, { recursive: true, force: true })
})

test('on a terminal only the free scripts are offered, and the one picked lands in the inventory', async () => {
  const { dir, inventory, app } = await setupUsing(['worker.sh'])
  const run = await runTaskOnTerminal(
    'supervisor-create',
    [
      '--inventory',
      inventory,
      '--app-dir',
      app,
      '--domain',
      'example.com',
      '--program',
      'x',
      '--autostart',
      '--autorestart',
      '--stopwaitsecs',
      '10',
      '--numprocs',
      '1',
    ],
    // An arrow-key menu: Down, then Enter.
    [['to navigate', '\x1b[B']],
  )
  assert.is(run.exitCode, 0, run.all)
  assert.match(
    run.all,
    /Select supervisor script \(not offered, already run by a program of this site:\s+│?\s*worker\.sh\):/,
  )
  assert.match(run.all, /● other\.sh\s+│\s+○ sub\/dir\/ws\.sh\s/)
  assert.not.match(run.all, /[●○] worker\.sh/)
  assert.match(await fs.readFile(inventory, 'utf8'), /- program: x\n\s+script: sub\/dir\/ws\.sh\n/)
  await fs.rm(dir, { recursive: true, force: true })
})

test('on a terminal with every script in use: exit 2 at once, saying none is free, nothing asked or written', async () => {
  const { dir, inventory, app } = await setupUsing(['other.sh', 'sub/dir/ws.sh', 'worker.sh'])
  const before = await fs.readFile(inventory, 'utf8')
  const run = await runTaskOnTerminal(
    'supervisor-create',
    ['--inventory', inventory, '--app-dir', app, '--domain', 'example.com'],
    [],
  )
  assert.is(run.exitCode, 2, run.all)
  assert.match(run.all, 'none free: other.sh, sub/dir/ws.sh, worker.sh already run')
  assert.match(run.all, 'delete the program that runs one')
  assert.not.match(run.all, 'Program name')
  assert.is(await fs.readFile(inventory, 'utf8'), before)
  await fs.rm(dir, { recursive: true, force: true })
})

test('sync refuses an inventory value supervisor would misread before connecting anywhere (the server is unreachable: exit 2, not 1)', async () => {
  const { dir, inventory } = await setup()
  await fs.writeFile(
    inventory,
    `${INVENTORY}    supervisors:\n      - program: w\n        script: worker.sh\n        environment:\n          A: "x ; y"\n`,
  )
  const captured = captureOutput()
  assert.is(
    await supervisorSync.run(['--inventory', inventory, '--domain', 'example.com'], { output: captured.output }),
    2,
    captured.stderr(),
  )
  assert.match(captured.stderr(), /sites\[0\]\.supervisors\[0\]\.environment\.A/)
  await fs.rm(dir, { recursive: true, force: true })
})

test.run()
