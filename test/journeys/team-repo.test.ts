import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SandboxHost } from '../../sandbox/index.ts'
import { PROJECT } from '../helpers/run-task.ts'
import { processesOn, startSandbox, type TestSandbox, WORKER, writeAppDir } from '../helpers/sandbox.ts'

// What a team does, never opening this repository: npm pack → npm init -y → npm install <tarball> zx → npx
// zx-supervisor init → its servers and a site in the inventory → supervisor-create, deploy and status through init's
// scripts → a template override and a sync → eject a task, typecheck it beside a pipeline of the team's, run it →
// install a newer tarball over it. Then what init and eject refuse.

interface Team {
  sandbox: TestSandbox
  host: SandboxHost
  work: string
  team: string
  app: string
  tarballs: { first: string; second: string }
  install: { stderr: string }
}

const team = suite<Team>('journey: a team installs the packed tarball, inits, deploys, overrides, ejects, upgrades')

const ZX_VERSION = JSON.parse(await fs.readFile(path.join(PROJECT, 'package.json'), 'utf8')).dependencies.zx as string
const UPGRADE_VERSION = '0.1.1-upgrade.1'
const LOGROTATE = '/etc/logrotate.d/supervisor-team.test-worker.conf'
// A team's own TypeScript pipeline: the inventory's types and a task's result, checked against the shipped .d.ts.
const TEAM_PIPELINE = `import { findSite, loadInventory, type Program, type Site } from 'zx-supervisor'
import { supervisorStatus } from 'zx-supervisor/tasks'

const { inventory } = await loadInventory()
const site: Site = findSite(inventory, 'team.test')
const programs: Program[] = site.supervisors
const { exitCode } = await supervisorStatus.call({ domain: site.domain })
console.log(\`\${programs.length} program(s), status exit \${exitCode}\`)
`

/** A command in the team repo, as a person types it there (no terminal, the registry's cache preferred). */
function inTeam(context: Team, command: string, args: string[], options: { cwd?: string } = {}) {
  return execa(command, args, {
    cwd: options.cwd ?? context.team,
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: 180_000,
    env: { NO_COLOR: '1', FORCE_COLOR: '0', npm_config_prefer_offline: 'true', npm_config_audit: 'false' },
  })
}

const npx = (context: Team, args: string[], options: { cwd?: string } = {}) =>
  inTeam(context, 'npx', ['--no-install', ...args], options)

/** Every file of the team's own folders, with its bytes. */
async function teamFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const folder of ['inventory', 'templates', 'tasks']) {
    const root = path.join(dir, folder)
    for (const name of await fs.readdir(root, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(root, name)
      if ((await fs.stat(file)).isFile()) files[`${folder}/${name}`] = await fs.readFile(file, 'utf8')
    }
  }
  return files
}

/** The same tarball with another version in its package.json (what a newer release would be, for the upgrade). */
async function withVersion(tarball: string, version: string, work: string): Promise<string> {
  const unpacked = await fs.mkdtemp(path.join(work, 'unpacked-'))
  await execa('tar', ['-xzf', tarball, '-C', unpacked])
  const manifest = path.join(unpacked, 'package', 'package.json')
  const json = JSON.parse(await fs.readFile(manifest, 'utf8'))
  await fs.writeFile(manifest, `${JSON.stringify({ ...json, version }, null, 2)}\n`)
  const output = path.join(work, `zx-supervisor-${version}.tgz`)
  await execa('tar', ['-czf', output, '-C', unpacked, 'package'])
  return output
}

team.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.host = context.sandbox.host('sandbox-1')
  context.work = await fs.mkdtemp(path.join(context.sandbox.dir, 'team-'))
  const pack = await execa('npm', ['pack', '--silent', '--pack-destination', context.work], { cwd: PROJECT })
  const first = path.join(context.work, pack.stdout.trim().split('\n').at(-1) ?? '')
  context.tarballs = { first, second: await withVersion(first, UPGRADE_VERSION, context.work) }
  context.team = path.join(context.work, 'ops')
  await fs.mkdir(context.team)
  context.app = await writeAppDir(context.work, { 'worker.sh': WORKER })
  const init = await inTeam(context, 'npm', ['init', '-y'])
  assert.is(init.exitCode, 0, init.all)
  const install = await inTeam(context, 'npm', ['install', '--no-fund', first, `zx@${ZX_VERSION}`])
  assert.is(install.exitCode, 0, install.all)
  context.install = { stderr: install.stderr }
})

team.after(async ({ sandbox }) => {
  await sandbox?.down()
})

team('the install holds production dependencies only: no TypeScript loader, no install script', ({ team, install }) => {
  for (const name of ['tsx', 'esbuild', '@esbuild', 'typescript']) {
    assert.not.ok(existsSync(path.join(team, 'node_modules', name)), `node_modules/${name} must not be installed`)
  }
  assert.ok(existsSync(path.join(team, 'node_modules/zx-supervisor/dist/lib/index.js')), 'the build is in the package')
  assert.ok(existsSync(path.join(team, 'node_modules/zx-supervisor/dist/lib/index.d.ts')), 'its types too')
  assert.not.match(install.stderr, /install-scripts[\s\S]*zx-supervisor@/)
})

team('init lays out the repo and prints the next commands; run again, it skips every file', async (context) => {
  const run = await npx(context, ['zx-supervisor', 'init'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, 'created inventory/inventory.yml')
  assert.match(run.stdout, 'created tasks/supervisor-sync.mjs')
  assert.match(run.stdout, 'npx zx tasks/supervisor-sync.mjs --all --dry-run')
  assert.not.match(run.stdout, 'warning')
  const inventory = await fs.readFile(path.join(context.team, 'inventory/inventory.yml'), 'utf8')
  assert.match(inventory, '# The default inventory of this project')
  assert.equal(await fs.readFile(path.join(context.team, '.gitignore'), 'utf8'), 'node_modules/\n')
  assert.ok((await fs.stat(path.join(context.team, 'tasks/supervisor-status.mjs'))).mode & 0o100, 'executable')

  const before = await teamFiles(context.team)
  const again = await npx(context, ['zx-supervisor', 'init'])
  assert.is(again.exitCode, 0, again.all)
  assert.not.match(again.stdout, 'created ')
  assert.match(again.stdout, 'skipped tasks/supervisor-sync.mjs (it exists; left as it is)')
  assert.equal(await teamFiles(context.team), before)
})

team("create, deploy and status through init's scripts, on the team's inventory/inventory.yml", async (context) => {
  const sandboxInventory = await fs.readFile(context.sandbox.inventory, 'utf8')
  const inventory = path.join(context.team, 'inventory/inventory.yml')
  const site = '\n  - domain: team.test\n    server: sandbox-1\n'
  await fs.writeFile(inventory, sandboxInventory.replace(/^sites: \[\]\s*$/m, `sites:${site}`))

  const create = await npx(context, [
    ...['zx', 'tasks/supervisor-create.mjs', '--domain', 'team.test', '--program', 'worker'],
    ...['--script', 'worker.sh', '--stopwaitsecs', '2', '--app-dir', context.app],
  ])
  assert.is(create.exitCode, 0, create.all)
  assert.match(await fs.readFile(inventory, 'utf8'), /supervisors:\n\s+- program: worker\n\s+script: worker.sh\n/)
  const deploy = await npx(context, ['zx', 'tasks/deploy.mjs', '--domain', 'team.test', '--app-dir', context.app])
  assert.is(deploy.exitCode, 0, deploy.all)
  const status = await npx(context, ['zx', 'tasks/supervisor-status.mjs'])
  assert.is(status.exitCode, 0, status.all)
  assert.match(status.stdout, /team\.test-worker\s+\S+\s+RUNNING/)
  assert.equal(
    (await processesOn(context.host)).map((p) => [p.name, p.state]),
    [['team.test-worker:team.test-worker_00', 'RUNNING']],
  )
})

team(
  "a template in the team's templates/ wins over the package's, and --verbose names the file used",
  async (context) => {
    const packaged = path.join(context.team, 'node_modules/zx-supervisor/templates/supervisor/logrotate.hbs')
    const override = path.join(context.team, 'templates/supervisor/logrotate.hbs')
    await fs.mkdir(path.dirname(override), { recursive: true })
    await fs.writeFile(override, (await fs.readFile(packaged, 'utf8')).replace('rotate 5', 'rotate 14'))

    const sync = await npx(context, ['zx', 'tasks/supervisor-sync.mjs', '--all', '--verbose'])
    assert.is(sync.exitCode, 0, sync.all)
    assert.match(sync.all, `template ${override} (1 file)`)
    assert.match(sync.all, /template \S+node_modules\/zx-supervisor\/templates\/supervisor\/program\.conf\.hbs/)
    const written = await fs.readFile(path.join(context.host.root, LOGROTATE), 'utf8')
    assert.match(written, '    rotate 14\n')
    const status = await npx(context, ['zx', 'tasks/supervisor-status.mjs'])
    assert.is(status.exitCode, 0, status.all)
  },
)

team(
  "eject copies the checklist over init's script; beside a pipeline of the team's it typechecks, and it runs",
  async (context) => {
    const script = path.join(context.team, 'tasks/supervisor-sync.mjs')
    const eject = await npx(context, ['zx-supervisor', 'eject', 'supervisor-sync'])
    assert.is(eject.exitCode, 0, eject.all)
    assert.match(eject.stdout, `replaced init's short script: ${script}`)
    const ejected = await fs.readFile(script, 'utf8')
    const packaged = await fs.readFile(path.join(PROJECT, 'tasks/supervisor-sync.mjs'), 'utf8')
    assert.is(ejected.split('\n').slice(4).join('\n'), packaged.split('\n').slice(1).join('\n'), 'the checklist itself')
    assert.match(ejected, /^#!\/usr\/bin\/env zx\n\/\/ @ts-check\n\/\/ Ejected from zx-supervisor 0\.1\.0/)
    const imports = [...ejected.matchAll(/from '([^']+)'/g)].map((m) => m[1])
    assert.equal([...new Set(imports)].sort(), ['zx-supervisor', 'zx-supervisor/cli'])
    const example = await npx(context, ['zx-supervisor', 'eject', 'pipeline-example'])
    assert.is(example.exitCode, 0, example.all)
    await fs.writeFile(path.join(context.team, 'tasks/count-programs.mts'), TEAM_PIPELINE)

    // The team's own typecheck (the compiler is ours: the team installed none), against the shipped .d.ts files.
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        noEmit: true,
        allowJs: true,
        strict: true,
        typeRoots: [path.join(PROJECT, 'node_modules/@types')],
        types: ['node'],
      },
      include: ['tasks/*.mjs', 'tasks/*.mts'],
    }
    await fs.writeFile(path.join(context.team, 'tsconfig.json'), JSON.stringify(tsconfig))
    const tsc = await inTeam(context, process.execPath, [path.join(PROJECT, 'node_modules/typescript/bin/tsc')])
    assert.is(tsc.exitCode, 0, tsc.all)

    const sync = await npx(context, ['zx', 'tasks/supervisor-sync.mjs', '--all'])
    assert.is(sync.exitCode, 0, sync.all)
    assert.match(sync.stdout, /sandbox-1\s+ok=\d+ changed=0/)
  },
)

team(
  "a newer tarball installed over it changes nothing of the team's, and init's scripts keep working",
  async (context) => {
    const before = await teamFiles(context.team)
    const upgrade = await inTeam(context, 'npm', ['install', '--no-fund', context.tarballs.second])
    assert.is(upgrade.exitCode, 0, upgrade.all)
    const installed = path.join(context.team, 'node_modules/zx-supervisor/package.json')
    assert.is(JSON.parse(await fs.readFile(installed, 'utf8')).version, UPGRADE_VERSION)
    assert.equal(await teamFiles(context.team), before)
    const status = await npx(context, ['zx', 'tasks/supervisor-status.mjs'])
    assert.is(status.exitCode, 0, status.all)
    const sync = await npx(context, ['zx', 'tasks/supervisor-sync.mjs', '--all'])
    assert.is(sync.exitCode, 0, sync.all)
    assert.match(sync.stdout, /sandbox-1\s+ok=\d+ changed=0/)
  },
)

team('init into a file, or below one, is exit 2 and writes nothing', async (context) => {
  const file = path.join(context.work, 'a-file')
  await fs.writeFile(file, 'mine\n')
  for (const [target, message] of [
    [file, `${file} is a file`],
    [path.join(file, 'ops'), `${file}, above it, is a file`],
  ] as const) {
    const run = await npx(context, ['zx-supervisor', 'init', target])
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, `error: DIR: got "${target}"; allowed: a folder, new or existing. Hint: ${message}`)
    assert.not.match(run.all, /\n\s+at /)
  }
  assert.is(await fs.readFile(file, 'utf8'), 'mine\n')
  assert.equal(await fs.readdir(context.work).then((names) => names.filter((n) => n.startsWith('a-file'))), ['a-file'])
})

team(
  'eject of an unknown task is exit 2 with the list; onto a file of the team it is skipped, exit 1',
  async (context) => {
    const unknown = await npx(context, ['zx-supervisor', 'eject', 'supervisor-nope'])
    assert.is(unknown.exitCode, 2, unknown.all)
    assert.match(unknown.stderr, 'TASK: got "supervisor-nope"; allowed: supervisor-create, supervisor-sync,')
    assert.match(unknown.stderr, 'pipeline-example')

    const list = await npx(context, ['zx-supervisor', 'eject', '--list'])
    assert.is(list.exitCode, 0, list.all)
    assert.match(list.stdout, /supervisor-status\s+programs and processes per server/)

    const ejectedSync = await fs.readFile(path.join(context.team, 'tasks/supervisor-sync.mjs'), 'utf8')
    const again = await npx(context, ['zx-supervisor', 'eject', 'supervisor-sync'])
    assert.is(again.exitCode, 1, again.all)
    assert.match(again.stderr, 'exists and is not the short script init wrote: it is left as it is')
    assert.is(await fs.readFile(path.join(context.team, 'tasks/supervisor-sync.mjs'), 'utf8'), ejectedSync)

    const mine = path.join(context.team, 'tasks/supervisor-status.mjs')
    await fs.appendFile(mine, '// our own line\n')
    const edited = await fs.readFile(mine, 'utf8')
    const onEdited = await npx(context, ['zx-supervisor', 'eject', 'supervisor-status'])
    assert.is(onEdited.exitCode, 1, onEdited.all)
    assert.is(await fs.readFile(mine, 'utf8'), edited)
  },
)

team.run()
