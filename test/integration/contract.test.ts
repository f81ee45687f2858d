import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ManagedFileSpec } from '../../lib/layout.ts'
import { addProgramFiles, buildCopy, copyProject, HEALTH_FILE_ENTRY, runCopy } from '../helpers/project-copy.ts'
import { addSites, deployApp, editInventory, startSandbox, type TestSandbox, WORKER } from '../helpers/sandbox.ts'
import { serverState } from '../helpers/server-state.ts'

// Adding a per-program file is one entry in lib/layout.ts plus one template: a copy of the project with two more
// entries (a `#`-marked note beside the confs; a JSON file, which has no comments, in a directory of its own that no
// server has yet) syncs them, reports drift after a hand edit, refuses an unmarked one, prunes them (and the new
// directory) when their program is deleted, and leaves neither file nor directory when supervisor rejects a sync.

const contract = suite<{ sandbox: TestSandbox; copy: string; files: ManagedFileSpec[] }>(
  'the server contract is the one place to add a file',
)

const NOTE_ENTRY = `
  {
    kind: 'note',
    scope: 'program',
    template: 'supervisor/note',
    path: (c) => \`/etc/supervisor/zxs-\${c.fullName}.note\`,
    discover: () => '/etc/supervisor/zxs-*.note',
    marker: '#',
    owner: 'root',
    mode: '0640',
    updatesGroup: false,
  },`

// /opt is private to each sandbox host (/etc is the machine's, but for the directories the sandbox mounts).
const HEALTH_DIR = 'opt/zx-supervisor/healthchecks'
const RECORD = 'var/lib/zx-supervisor/directories'

contract.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.copy = await copyProject(context.sandbox.dir)
  await addProgramFiles(context.copy, NOTE_ENTRY + HEALTH_FILE_ENTRY)
  await fs.writeFile(
    path.join(context.copy, 'templates/supervisor/note.hbs'),
    'program {{fullName}} runs {{scriptPath}} as {{user}}\n',
  )
  await fs.writeFile(
    path.join(context.copy, 'templates/supervisor/health.hbs'),
    '{\n  "program": {{json fullName}},\n  "user": {{json user}}\n}\n',
  )
  // The copy's tasks run its own dist/: rebuilt after the edit.
  await buildCopy(context.copy)
  context.files = (
    (await import(path.join(context.copy, 'dist/lib/layout.js'))) as { MANAGED_FILES: ManagedFileSpec[] }
  ).MANAGED_FILES
  await addSites(
    context.sandbox.inventory,
    `
  - domain: c.test
    server: sandbox-1
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
      - program: other
        script: other.sh
        stopwaitsecs: 2
`,
  )
  await deployApp(context.sandbox.host('sandbox-1'), 'c.test', { 'worker.sh': WORKER, 'other.sh': WORKER })
})

contract.after(async ({ sandbox }) => {
  await sandbox?.down()
})

contract(
  'a sync supervisor rejects leaves neither the new files nor their new directory',
  async ({ sandbox, copy, files }) => {
    const host = sandbox.host('sandbox-1')
    const before = await serverState(host, 'c.test', { contract: files })
    const text = await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 0, 'supervisors', 1, 'user'], 'nosuchuser'),
    )
    const run = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
    await fs.writeFile(sandbox.inventory, text)
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.all, 'supervisor rejected the new configuration; the previous files were restored')
    assert.equal(await serverState(host, 'c.test', { contract: files }), before)
    assert.is(
      await fs.stat(path.join(host.root, 'opt/zx-supervisor')).catch(() => null),
      null,
      'the directory made for the JSON files is gone',
    )
    assert.is(
      await fs.readFile(path.join(host.root, RECORD), 'utf8').catch(() => ''),
      '',
      'no directory recorded as ours',
    )
  },
)

contract('sync writes the new file for every program, with its marker, owner and mode', async ({ sandbox, copy }) => {
  const run = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, '+ /etc/supervisor/zxs-c.test-worker.note')
  const note = path.join(sandbox.host('sandbox-1').root, 'etc/supervisor/zxs-c.test-worker.note')
  assert.is(
    await fs.readFile(note, 'utf8'),
    '# zx-supervisor inventory=default site=c.test program=worker\nprogram c.test-worker runs .deployer/supervisors/worker.sh as deployer\n',
  )
  assert.is(((await fs.stat(note)).mode & 0o777).toString(8), '640')
  const again = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
  assert.match(again.stdout, /sandbox-1\s+ok=2 changed=0 failed=0/, again.all)
})

contract(
  'the JSON file lands in a directory sync creates (root 0755, recorded as ours), its marker its first key',
  async ({ sandbox }) => {
    const root = sandbox.host('sandbox-1').root
    const health = path.join(root, HEALTH_DIR, 'c.test-worker.json')
    const text = await fs.readFile(health, 'utf8')
    assert.is(text.split('\n')[0], '{"zx-supervisor": "inventory=default site=c.test program=worker",')
    assert.equal(JSON.parse(text), {
      'zx-supervisor': 'inventory=default site=c.test program=worker',
      program: 'c.test-worker',
      user: 'deployer',
    })
    assert.is(((await fs.stat(health)).mode & 0o777).toString(8), '644')
    for (const dir of ['opt/zx-supervisor', HEALTH_DIR]) {
      const stat = await fs.stat(path.join(root, dir))
      assert.equal([stat.uid, (stat.mode & 0o777).toString(8)], [0, '755'], dir)
    }
    assert.is(
      await fs.readFile(path.join(root, RECORD), 'utf8'),
      '/opt/zx-supervisor\n/opt/zx-supervisor/healthchecks\n',
    )
  },
)

contract('status reports a hand edit of the new file as drift (exit 3)', async ({ sandbox, copy }) => {
  const note = path.join(sandbox.host('sandbox-1').root, 'etc/supervisor/zxs-c.test-other.note')
  await fs.appendFile(note, 'edited by hand\n')
  const run = await runCopy(copy, 'supervisor-status', ['--inventory', sandbox.inventory, '--json'])
  assert.is(run.exitCode, 3, run.all)
  const other = JSON.parse(run.stdout).servers[0].programs.find((p: { program: string }) => p.program === 'other')
  assert.ok(
    other.drift.some((d: string) => d.includes('/etc/supervisor/zxs-c.test-other.note differs')),
    JSON.stringify(other.drift),
  )
})

contract(
  'status reports a hand edit of the JSON file as drift, even pretty-printed (its marker still read)',
  async ({ sandbox, copy }) => {
    const health = path.join(sandbox.host('sandbox-1').root, HEALTH_DIR, 'c.test-other.json')
    await fs.writeFile(
      health,
      `${JSON.stringify({ ...JSON.parse(await fs.readFile(health, 'utf8')), user: 'root' }, null, 2)}\n`,
    )
    const run = await runCopy(copy, 'supervisor-status', ['--inventory', sandbox.inventory, '--json'])
    assert.is(run.exitCode, 3, run.all)
    const other = JSON.parse(run.stdout).servers[0].programs.find((p: { program: string }) => p.program === 'other')
    assert.ok(
      other.drift.some((d: string) => d.includes('/opt/zx-supervisor/healthchecks/c.test-other.json differs')),
      JSON.stringify(other.drift),
    )
  },
)

contract(
  'an unmarked JSON file at a path sync wants is refused (nothing changes); --adopt takes it over',
  async ({ sandbox, copy, files }) => {
    const host = sandbox.host('sandbox-1')
    const health = path.join(host.root, HEALTH_DIR, 'c.test-worker.json')
    await fs.writeFile(health, '{"program": "written by hand"}\n')
    const before = await serverState(host, 'c.test', { contract: files })
    const run = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.all, 'refused: /opt/zx-supervisor/healthchecks/c.test-worker.json (owner: no zx-supervisor marker')
    assert.equal(await serverState(host, 'c.test', { contract: files }), before)
    const adopted = await runCopy(copy, 'supervisor-sync', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'c.test',
      '--adopt',
    ])
    assert.is(adopted.exitCode, 0, adopted.all)
    assert.match(
      await fs.readFile(health, 'utf8'),
      /^\{"zx-supervisor": "inventory=default site=c.test program=worker",/,
    )
  },
)

contract('deleting a program prunes the new file with the conf and logrotate file', async ({ sandbox, copy }) => {
  const deleted = await runCopy(copy, 'supervisor-delete', [
    '--inventory',
    sandbox.inventory,
    '--domain',
    'c.test',
    '--program',
    'other',
    '--force',
    '--yes',
  ])
  assert.is(deleted.exitCode, 0, deleted.all)
  const run = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, '- /etc/supervisor/zxs-c.test-other.note')
  const root = sandbox.host('sandbox-1').root
  assert.is(await fs.stat(path.join(root, 'etc/supervisor/zxs-c.test-other.note')).catch(() => null), null)
  assert.is(await fs.stat(path.join(root, 'etc/supervisor/conf.d/c.test-other.conf')).catch(() => null), null)
  assert.ok(
    await fs.stat(path.join(root, 'etc/supervisor/zxs-c.test-worker.note')),
    'the remaining program keeps its file',
  )
  assert.match(run.stdout, '- /opt/zx-supervisor/healthchecks/c.test-other.json')
  assert.equal(
    await fs.readdir(path.join(root, HEALTH_DIR)),
    ['c.test-worker.json'],
    'the directory stays while a file of ours is in it',
  )
})

contract(
  'the last file leaving takes the directory we created; one holding a file of someone else stays',
  async ({ sandbox, copy }) => {
    const root = sandbox.host('sandbox-1').root
    await fs.writeFile(path.join(root, 'opt/zx-supervisor/README'), 'not ours\n')
    const deleted = await runCopy(copy, 'supervisor-delete', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'c.test',
      '--program',
      'worker',
      '--force',
      '--yes',
    ])
    assert.is(deleted.exitCode, 0, deleted.all)
    const run = await runCopy(copy, 'supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'c.test'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, '- /opt/zx-supervisor/healthchecks/c.test-worker.json')
    assert.is(await fs.stat(path.join(root, HEALTH_DIR)).catch(() => null), null, 'the emptied directory is removed')
    assert.equal(
      await fs.readdir(path.join(root, 'opt/zx-supervisor')),
      ['README'],
      'a directory with a file not ours stays',
    )
    assert.is(await fs.readFile(path.join(root, RECORD), 'utf8'), '/opt/zx-supervisor\n')
    assert.ok(
      await fs.stat(path.join(root, 'etc/supervisor')),
      'a directory the contract does not declare is never removed',
    )
  },
)

/** The project's files without node_modules (linked) or .git: what a team's fork holds. */
contract.run()
