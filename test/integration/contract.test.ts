import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execa } from 'execa'
import fs from 'node:fs/promises'
import path from 'node:path'
import { PROJECT } from '../helpers/run-task.ts'
import { addSites, deployApp, startSandbox, WORKER, type TestSandbox } from '../helpers/sandbox.ts'

// Adding a per-program file is one entry in lib/layout.ts plus one template: a copy of the project with one more
// entry syncs that file, reports it as drift after a hand edit, and prunes it when its program is deleted.

const contract = suite<{ sandbox: TestSandbox; copy: string }>('the server contract is the one place to add a file')

const NOTE_ENTRY = `
  {
    kind: 'note',
    scope: 'program',
    template: 'supervisor/note',
    path: (c) => \`/etc/supervisor/zxs-\${c.fullName}.note\`,
    discover: () => '/etc/supervisor/zxs-*.note',
    comment: '#',
    owner: 'root',
    mode: '0640',
    updatesGroup: false,
  },`

contract.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.copy = await copyProject(context.sandbox.dir)
  const layout = path.join(context.copy, 'lib/layout.ts')
  const text = await fs.readFile(layout, 'utf8')
  const anchor = 'export const PROGRAM_FILES: ManagedFileSpec[] = ['
  assert.ok(text.includes(anchor), 'lib/layout.ts declares PROGRAM_FILES')
  await fs.writeFile(layout, text.replace(anchor, anchor + NOTE_ENTRY))
  await fs.writeFile(path.join(context.copy, 'templates/supervisor/note.hbs'), 'program {{fullName}} runs {{scriptPath}} as {{user}}\n')
  await addSites(context.sandbox.inventory, `
  - domain: c.test
    server: sandbox-1
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
      - program: other
        script: other.sh
        stopwaitsecs: 2
`)
  await deployApp(context.sandbox.host('sandbox-1'), 'c.test', { 'worker.sh': WORKER, 'other.sh': WORKER })
})

contract.after(async ({ sandbox }) => {
  await sandbox?.down()
})

contract('sync writes the new file for every program, with its marker, owner and mode', async ({ sandbox, copy }) => {
  const run = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, '+ /etc/supervisor/zxs-c.test-worker.note')
  const note = path.join(sandbox.host('sandbox-1').root, 'etc/supervisor/zxs-c.test-worker.note')
  assert.is(await fs.readFile(note, 'utf8'), '# zx-supervisor inventory=default site=c.test program=worker\nprogram c.test-worker runs .deployer/supervisors/worker.sh as deployer\n')
  assert.is(((await fs.stat(note)).mode & 0o777).toString(8), '640')
  const again = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
  assert.match(again.stdout, /sandbox-1\s+ok=2 changed=0 failed=0/, again.all)
})

contract('status reports a hand edit of the new file as drift (exit 3)', async ({ sandbox, copy }) => {
  const note = path.join(sandbox.host('sandbox-1').root, 'etc/supervisor/zxs-c.test-other.note')
  await fs.appendFile(note, 'edited by hand\n')
  const run = await runCopy(copy, 'supervisor-status', ['--inventory', sandbox.inventory, '--json'])
  assert.is(run.exitCode, 3, run.all)
  const other = JSON.parse(run.stdout).servers[0].programs.find((p: { program: string }) => p.program === 'other')
  assert.ok(other.drift.some((d: string) => d.includes('/etc/supervisor/zxs-c.test-other.note differs')), JSON.stringify(other.drift))
})

contract('deleting a program prunes the new file with the conf and logrotate file', async ({ sandbox, copy }) => {
  const deleted = await runCopy(copy, 'supervisor-delete', ['--inventory', sandbox.inventory, '--domain', 'c.test', '--program', 'other', '--force', '--yes'])
  assert.is(deleted.exitCode, 0, deleted.all)
  const run = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, '- /etc/supervisor/zxs-c.test-other.note')
  const root = sandbox.host('sandbox-1').root
  assert.is(await fs.stat(path.join(root, 'etc/supervisor/zxs-c.test-other.note')).catch(() => null), null)
  assert.is(await fs.stat(path.join(root, 'etc/supervisor/conf.d/c.test-other.conf')).catch(() => null), null)
  assert.ok(await fs.stat(path.join(root, 'etc/supervisor/zxs-c.test-worker.note')), 'the remaining program keeps its file')
})

/** The project's files without node_modules (linked) or .git: what a team's fork holds. */
async function copyProject(dir: string): Promise<string> {
  const copy = path.join(dir, 'project')
  for (const entry of ['lib', 'tasks', 'templates', 'package.json', '.npmrc', 'tsconfig.json']) {
    await fs.cp(path.join(PROJECT, entry), path.join(copy, entry), { recursive: true })
  }
  await fs.symlink(path.join(PROJECT, 'node_modules'), path.join(copy, 'node_modules'))
  return copy
}

async function runCopy(copy: string, task: string, args: string[]) {
  const result = await execa(process.execPath, ['--import', 'tsx', path.join(copy, 'node_modules/zx/build/cli.js'), path.join(copy, 'tasks', `${task}.mjs`), ...args], {
    cwd: copy, reject: false, stdin: 'ignore', all: true, timeout: 120_000, env: { NO_COLOR: '1', FORCE_COLOR: '0' },
  })
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), all: String(result.all) }
}

contract.run()
