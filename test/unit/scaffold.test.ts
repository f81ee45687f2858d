import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InputError } from '../../lib/errors.ts'
import { writeNewFile } from '../../lib/fs/atomic-write.ts'
import { renderRunner } from '../../lib/render/program-files.ts'
import { DEFAULT_TEMPLATES_DIR } from '../../lib/render/templates.ts'
import { resolveDestination } from '../../lib/scaffold/destination.ts'
import { SCRIPT_MODE, scaffoldSupervisors } from '../../lib/scaffold/scaffold.ts'
import type { Server, Site } from '../../lib/types.ts'
import { scaffoldSupervisorsTask } from '../../tasks/scaffold-supervisors.mjs'
import { captureOutput } from '../helpers/capture.ts'

// scaffold-supervisors in this process: the example scripts land executable and byte-for-byte, nothing that
// exists is ever replaced, bad and missing destinations are exit 2 naming --destination, and each script really
// execs its worker when supervisor starts it through runner.sh.

const TEMPLATES = path.join(DEFAULT_TEMPLATES_DIR, 'scaffold')
const NAMES = ['messenger.sh', 'node-worker.sh', 'python-worker.sh', 'queue-worker.sh']
const SCRIPTS = '.deployer/supervisors'

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'zxs-scaffold-'))
}

async function template(name: string): Promise<string> {
  return fs.readFile(path.join(TEMPLATES, name), 'utf8')
}

async function runScaffold(args: string[], options: { json?: boolean } = {}) {
  const captured = captureOutput({ json: options.json })
  const code = await scaffoldSupervisorsTask.run(args, { output: captured.output })
  return { code, stdout: captured.stdout(), stderr: captured.stderr() }
}

// --- the destination -----------------------------------------------------------------------------------------

const DESTINATIONS: Array<[string, string]> = [
  ['~', '/home/me'],
  ['~/', '/home/me'],
  ['~/code/app', '/home/me/code/app'],
  ['app', '/work/here/app'],
  ['.', '/work/here'],
  ['../other', '/work/other'],
  ['/srv/app/', '/srv/app'],
  ['/srv/x/../app', '/srv/app'],
  ['dir/~/x', '/work/here/dir/~/x'],
]

for (const [input, expected] of DESTINATIONS) {
  test(`--destination ${JSON.stringify(input)} is ${expected}`, () => {
    assert.is(resolveDestination(input, { cwd: '/work/here', home: '/home/me' }), expected)
  })
}

test("--destination ~bob is refused: a shell would read it as bob's home", () => {
  assert.throws(
    () => resolveDestination('~bob/app', { cwd: '/work/here', home: '/home/me' }),
    (e: unknown) => e instanceof InputError && /--destination: got "~bob\/app"/.test(e.message),
  )
})

// --- writing -------------------------------------------------------------------------------------------------

test('into an empty folder: every template is created, executable (whatever the umask) and byte-for-byte', async () => {
  const dir = await tempDir()
  const umask = process.umask(0o077)
  try {
    const result = await scaffoldSupervisors({ destination: dir, templatesDir: TEMPLATES })
    assert.is(result.dir, path.join(dir, SCRIPTS))
    assert.equal(
      result.files,
      NAMES.map((name) => ({ name, path: path.join(dir, SCRIPTS, name), status: 'created' })),
    )
    assert.equal((await fs.readdir(result.dir)).sort(), NAMES, 'no temp file left behind')
    for (const name of NAMES) {
      const file = path.join(result.dir, name)
      assert.is(((await fs.stat(file)).mode & 0o777).toString(8), SCRIPT_MODE.toString(8), name)
      assert.is(await fs.readFile(file, 'utf8'), await template(name), name)
    }
  } finally {
    process.umask(umask)
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test('into a populated folder: an existing file and a dangling symlink are skipped and unchanged, the rest created', async () => {
  const dir = await tempDir()
  try {
    const scripts = path.join(dir, SCRIPTS)
    await fs.mkdir(scripts, { recursive: true })
    await fs.writeFile(path.join(scripts, 'queue-worker.sh'), '#!/bin/sh\nexec my-own-worker\n', { mode: 0o644 })
    await fs.symlink('gone/nowhere.sh', path.join(scripts, 'messenger.sh'))
    await fs.mkdir(path.join(scripts, 'node-worker.sh'))

    const result = await scaffoldSupervisors({ destination: dir, templatesDir: TEMPLATES })
    assert.equal(Object.fromEntries(result.files.map((f) => [f.name, f.status])), {
      'messenger.sh': 'skipped',
      'node-worker.sh': 'skipped',
      'python-worker.sh': 'created',
      'queue-worker.sh': 'skipped',
    })
    assert.is(await fs.readFile(path.join(scripts, 'queue-worker.sh'), 'utf8'), '#!/bin/sh\nexec my-own-worker\n')
    assert.is(((await fs.stat(path.join(scripts, 'queue-worker.sh'))).mode & 0o777).toString(8), '644')
    assert.is(await fs.readlink(path.join(scripts, 'messenger.sh')), 'gone/nowhere.sh')
    assert.not.ok(existsSync(path.join(scripts, 'gone')), 'the link target was not created through the link')
    assert.equal(await fs.readdir(path.join(scripts, 'node-worker.sh')), [])
    assert.is(await fs.readFile(path.join(scripts, 'python-worker.sh'), 'utf8'), await template('python-worker.sh'))
    assert.equal((await fs.readdir(scripts)).sort(), NAMES, 'no temp file left behind')
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test('a second run skips everything and changes nothing', async () => {
  const dir = await tempDir()
  try {
    await scaffoldSupervisors({ destination: dir, templatesDir: TEMPLATES })
    const file = path.join(dir, SCRIPTS, 'queue-worker.sh')
    await fs.appendFile(file, '# edited\n')
    const again = await scaffoldSupervisors({ destination: dir, templatesDir: TEMPLATES })
    assert.equal(
      again.files.map((f) => f.status),
      ['skipped', 'skipped', 'skipped', 'skipped'],
    )
    assert.ok((await fs.readFile(file, 'utf8')).endsWith('# edited\n'))
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test('an existing destination without .deployer/supervisors gets the folder', async () => {
  const dir = await tempDir()
  try {
    const result = await scaffoldSupervisors({ destination: dir, templatesDir: TEMPLATES })
    assert.is(result.files.filter((f) => f.status === 'created').length, NAMES.length)
    assert.ok((await fs.stat(path.join(dir, SCRIPTS))).isDirectory())
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

// The check-then-write window: whatever appears at the name in between is kept, even a dangling link.
const IN_THE_WAY: Array<[string, (target: string) => Promise<void>]> = [
  ['a file', (target) => fs.writeFile(target, 'theirs\n')],
  ['a dangling symlink', (target) => fs.symlink('nowhere', target)],
]

for (const [what, place] of IN_THE_WAY) {
  test(`writeNewFile never replaces ${what} and leaves no temp file`, async () => {
    const dir = await tempDir()
    try {
      const target = path.join(dir, 'x.sh')
      await place(target)
      const before = await fs.lstat(target)
      assert.is(await writeNewFile(target, 'ours\n', 0o755), false)
      const after = await fs.lstat(target)
      assert.equal([after.ino, after.mode, after.size], [before.ino, before.mode, before.size])
      assert.equal(await fs.readdir(dir), ['x.sh'])
      assert.not.ok(existsSync(path.join(dir, 'nowhere')))
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
}

// --- the task ------------------------------------------------------------------------------------------------

test('the task prints created/skipped per file and the next step', async () => {
  const dir = await tempDir()
  try {
    await fs.mkdir(path.join(dir, SCRIPTS), { recursive: true })
    await fs.writeFile(path.join(dir, SCRIPTS, 'messenger.sh'), 'mine\n')
    const run = await runScaffold(['--destination', dir])
    assert.is(run.code, 0, run.stderr)
    const lines = run.stdout.split('\n')
    assert.is(lines[0], `Destination: ${dir}`)
    assert.equal(lines.slice(1, 5), [
      'skipped  .deployer/supervisors/messenger.sh  (exists, left unchanged)',
      'created  .deployer/supervisors/node-worker.sh',
      'created  .deployer/supervisors/python-worker.sh',
      'created  .deployer/supervisors/queue-worker.sh',
    ])
    assert.match(run.stdout, 'commit and push them')
    assert.match(
      run.stdout,
      'npx zx tasks/supervisor-create.mjs --domain DOMAIN --program node-worker --script node-worker.sh',
    )
    assert.is(run.stderr, '')
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test('--json: one document with the destination and every file', async () => {
  const dir = await tempDir()
  try {
    const run = await runScaffold(['--destination', dir, '--json'], { json: true })
    assert.is(run.code, 0, run.stderr)
    const document = JSON.parse(run.stdout)
    assert.equal(document, {
      ok: true,
      destination: dir,
      files: NAMES.map((name) => ({ name, path: path.join(dir, SCRIPTS, name), status: 'created' })),
    })
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test('without --destination and without a terminal: the current directory, no prompt', async () => {
  const dir = await tempDir()
  const cwd = process.cwd()
  const ci = process.env.CI
  process.env.CI = 'true' // never prompt, even when this file is run from a terminal
  try {
    process.chdir(dir)
    const run = await runScaffold([])
    assert.is(run.code, 0, run.stderr)
    assert.is(run.stdout.split('\n')[0], `Destination: ${await fs.realpath(dir)}`)
    assert.equal((await fs.readdir(path.join(dir, SCRIPTS))).sort(), NAMES)
  } finally {
    process.chdir(cwd)
    if (ci === undefined) delete process.env.CI
    else process.env.CI = ci
    await fs.rm(dir, { recursive: true, force: true })
  }
})

// Each case: how to spoil the destination, then which path the message must name.
const BAD_DESTINATIONS: Array<[string, (dir: string) => Promise<string>, RegExp]> = [
  [
    'missing (a typo is not created)',
    async (dir) => path.join(dir, 'new', 'app'),
    /new\/app does not exist; .*mkdir -p \/.*\/new\/app/,
  ],
  [
    'missing, with a space in its name (the hint is quoted)',
    async (dir) => path.join(dir, 'my app'),
    /mkdir -p '\/.*\/my app'/,
  ],
  [
    'a file',
    async (dir) => {
      await fs.writeFile(path.join(dir, 'app'), 'x')
      return path.join(dir, 'app')
    },
    /exists and is not a directory/,
  ],
  [
    'below a file',
    async (dir) => {
      await fs.writeFile(path.join(dir, 'app'), 'x')
      return path.join(dir, 'app', 'sub')
    },
    /a parent path is not a directory/,
  ],
  [
    'a folder whose .deployer is a file',
    async (dir) => {
      await fs.writeFile(path.join(dir, '.deployer'), 'x')
      return dir
    },
    /cannot create .*\.deployer\/supervisors/,
  ],
  [
    'a folder whose .deployer/supervisors is a dangling link',
    async (dir) => {
      await fs.mkdir(path.join(dir, '.deployer'))
      await fs.symlink('nowhere', path.join(dir, '.deployer', 'supervisors'))
      return dir
    },
    /cannot create .*\.deployer\/supervisors/,
  ],
  [
    'a folder the kernel will not let anyone write (/sys)',
    async () => '/sys',
    /cannot create \/sys\/\.deployer\/supervisors: (operation not permitted|permission denied)/,
  ],
  [
    'a folder whose .deployer/supervisors cannot be written',
    async (dir) => {
      await fs.mkdir(path.join(dir, '.deployer'))
      await fs.symlink('/sys/kernel', path.join(dir, '.deployer', 'supervisors'))
      return dir
    },
    /cannot write .*messenger\.sh: (operation not permitted|permission denied); no file is left half-written/,
  ],
]

for (const [what, spoil, reason] of BAD_DESTINATIONS) {
  test(`a destination that is ${what}: exit 2 naming --destination and the path, nothing written`, async () => {
    const dir = await tempDir()
    try {
      const destination = await spoil(dir)
      const before = await listTree(dir)
      const run = await runScaffold(['--destination', destination])
      assert.is(run.code, 2, run.stdout + run.stderr)
      assert.match(run.stderr, `--destination: got ${JSON.stringify(destination)}`)
      assert.match(run.stderr, reason)
      assert.equal(await listTree(dir), before)
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
}

test('a bad destination under --json: the error document, exit 2', async () => {
  const dir = await tempDir()
  try {
    await fs.writeFile(path.join(dir, 'app'), 'x')
    const run = await runScaffold(['--destination', path.join(dir, 'app'), '--json'], { json: true })
    assert.is(run.code, 2)
    const document = JSON.parse(run.stdout)
    assert.equal(
      [document.ok, document.exitCode, document.problems[0].field, document.problems[0].value],
      [false, 2, '--destination', path.join(dir, 'app')],
    )
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

async function listTree(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort()
}

// --- the scripts themselves ----------------------------------------------------------------------------------

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: shell text the scripts hold, not templates
const EXEC_LINES: Record<string, string> = {
  'queue-worker.sh': 'exec "${DEPLOYER_PHP}" artisan queue:work --sleep=3 --tries=3 --max-time=3600',
  'messenger.sh': 'exec "${DEPLOYER_PHP}" bin/console messenger:consume async --time-limit=3600',
  'node-worker.sh': 'exec node worker.js',
  'python-worker.sh': 'exec python3 -u worker.py',
}
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: shell text the scripts hold, not templates

for (const name of NAMES) {
  test(`${name}: POSIX sh, set -eu, a usage header, and exec as its last command`, async () => {
    const content = await template(name)
    const lines = content.split('\n')
    assert.is(lines[0], '#!/bin/sh')
    assert.ok(lines.includes('set -eu'))
    assert.match(content, `--script ${name}`)
    assert.match(content, 'supervisor-create.mjs')
    assert.match(content, /stopwaitsecs/)
    assert.ok(content.endsWith('\n'))
    const commands = lines.filter((l) => l.trim() && !l.startsWith('#'))
    assert.is(commands.at(-1), EXEC_LINES[name])
    for (const shell of ['sh', 'dash', 'bash']) {
      if (shell === 'dash' && !existsSync('/usr/bin/dash') && !existsSync('/bin/dash')) continue
      const check = spawnSync(shell, ['-n', path.join(TEMPLATES, name)], { encoding: 'utf8' })
      assert.is(check.status, 0, `${shell} -n ${name}: ${check.stderr}`)
    }
  })
}

test('the PHP scripts refuse an empty DEPLOYER_PHP with a message, not "exec: : not found"', () => {
  for (const name of ['queue-worker.sh', 'messenger.sh']) {
    const run = spawnSync(path.join(TEMPLATES, name), [], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', DEPLOYER_PHP: '' },
    })
    assert.is(run.status, 2, name)
    assert.match(run.stderr, /DEPLOYER_PHP: unset or empty: runner\.sh sets it/)
  }
})

// A stub for php, node and python3 that reports its pid, working directory and arguments.
const STUB = '#!/bin/sh\nprintf \'%s\\n\' "$$" "$(pwd -P)" "$(basename "$0")" "$@"\n'

const EXPECTED_RUNS: Record<string, string[]> = {
  'queue-worker.sh': ['php8.3', 'artisan', 'queue:work', '--sleep=3', '--tries=3', '--max-time=3600'],
  'messenger.sh': ['php8.3', 'bin/console', 'messenger:consume', 'async', '--time-limit=3600'],
  'node-worker.sh': ['node', 'worker.js'],
  'python-worker.sh': ['python3', '-u', 'worker.py'],
}

test('through the real runner.sh each scaffolded script execs its worker: same pid, the release as cwd', async () => {
  const dir = await fs.realpath(await tempDir())
  try {
    const siteRoot = path.join(dir, 'site')
    const release = path.join(siteRoot, 'releases', '1')
    await fs.mkdir(release, { recursive: true })
    await scaffoldSupervisors({ destination: release, templatesDir: TEMPLATES })
    await fs.symlink(release, path.join(siteRoot, 'current'))
    const bin = path.join(dir, 'bin')
    await fs.mkdir(bin)
    for (const stub of ['php8.3', 'node', 'python3']) await fs.writeFile(path.join(bin, stub), STUB, { mode: 0o755 })
    const server: Server = {
      name: 'local',
      host: 'local',
      port: 22,
      username: 'root',
      groups: [],
      siteUser: os.userInfo().username,
      sitesPath: dir,
      local: true,
    }
    const site: Site = {
      domain: 'scaffold.test',
      servers: ['local'],
      phpVersion: '8.3',
      root: siteRoot,
      supervisors: [],
    }
    const runner = renderRunner({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site })
    await fs.writeFile(runner.path, runner.content, { mode: 0o755 })

    for (const name of NAMES) {
      const run = spawnSync(runner.path, [`${SCRIPTS}/${name}`], {
        encoding: 'utf8',
        env: { PATH: `${bin}:/usr/bin:/bin` },
      })
      assert.is(run.status, 0, `${name}: ${run.stderr}`)
      const [pid, cwd, ...argv] = run.stdout.trimEnd().split('\n')
      assert.is(
        Number(pid),
        run.pid,
        `${name}: runner.sh and the script exec, so supervisor's SIGTERM reaches the worker`,
      )
      assert.is(cwd, release, name)
      assert.equal(argv, EXPECTED_RUNS[name], name)
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test.run()
