import { readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InputError } from '../../lib/errors.ts'
import { PACKAGE_DIR } from '../../lib/project.ts'
import { ejectedScript, findShippedTask } from '../../lib/setup/eject.ts'
import { initFiles } from '../../lib/setup/init.ts'
import { SHIPPED_TASKS, shortTaskScript } from '../../lib/setup/shipped-tasks.ts'
import { thrown } from '../helpers/input-error.ts'

// init and eject without a server: which tasks ship, what init writes, what an ejected copy holds.

const read = (file: string) => readFileSync(path.join(PACKAGE_DIR, file), 'utf8')
const REPO_ONLY = ['demo.mjs', 'sandbox.mjs', 'index.mjs']

test('every task script the package ships is listed once, with the export that holds its task', async () => {
  const scripts = (await readdir(path.join(PACKAGE_DIR, 'tasks'))).filter((n) => !REPO_ONLY.includes(n)).sort()
  assert.equal(SHIPPED_TASKS.map((t) => `${t.name}.mjs`).sort(), scripts)
  const files = JSON.parse(read('package.json')).files as string[]
  for (const repoOnly of ['demo.mjs', 'sandbox.mjs']) assert.ok(files.includes(`!tasks/${repoOnly}`), repoOnly)
  const index = read('tasks/index.mjs')
  for (const { name, exportName } of SHIPPED_TASKS) {
    assert.match(read(`tasks/${name}.mjs`), `\nexport const ${exportName} = `)
    assert.match(index, `export { ${exportName} } from './${name}.mjs'`)
  }
})

test("init's script for a command runs the package's task, and nothing else", () => {
  assert.is(
    shortTaskScript(findShippedTask('supervisor-status')),
    `#!/usr/bin/env zx
// @ts-check
// zx-supervisor's supervisor-status task, upgraded with the package. To change its steps: npx zx-supervisor eject supervisor-status
import { runIfMain } from 'zx-supervisor/cli'
import { supervisorStatus } from 'zx-supervisor/tasks/supervisor-status'

await runIfMain(import.meta.url, supervisorStatus)
`,
  )
})

test('init writes the inventory, a script per command, the templates note and .gitignore', async () => {
  const files = await initFiles()
  const commands = SHIPPED_TASKS.filter((t) => t.command).map((t) => `tasks/${t.name}.mjs`)
  assert.equal(
    files.map((f) => f.path),
    ['inventory/inventory.yml', ...commands, 'templates/README.md', '.gitignore'],
  )
  assert.not.ok(commands.includes('tasks/pipeline-example.mjs'), 'an example is ejected, not laid out')
  const inventory = files[0]?.content ?? ''
  const example = read('inventory/example.yml')
  assert.not.match(inventory, 'Copy this file')
  assert.is(inventory.split('\n').length, example.split('\n').length)
  assert.is(
    inventory.replace(/^# The default inventory of this project.*\n/m, ''),
    example.replace(/^# Copy this.*\n/m, ''),
  )
  const note = files.find((f) => f.path === 'templates/README.md')?.content ?? ''
  for (const template of ['runner.sh.hbs', 'supervisor/program.conf.hbs', 'supervisor/logrotate.hbs']) {
    assert.match(note, `\n- ${template}\n`)
  }
  assert.ok(files.filter((f) => f.path.startsWith('tasks/')).every((f) => f.mode === 0o755))
})

test('an ejected task is the checklist the package runs, under a header saying where it came from', async () => {
  const task = findShippedTask('deploy')
  const ejected = (await ejectedScript(task, '9.9.9')).split('\n')
  const source = read('tasks/deploy.mjs').split('\n')
  assert.is(ejected[0], '#!/usr/bin/env zx')
  assert.is(ejected[1], '// @ts-check')
  assert.match(ejected[2] ?? '', 'Ejected from zx-supervisor 9.9.9 (tasks/deploy.mjs)')
  assert.equal(ejected.slice(4), source.slice(1))
})

test('an unknown task is refused with the list', () => {
  const error = thrown(() => findShippedTask('deploy.mjs'), InputError)
  assert.equal(
    error.problems.map((p) => [p.field, p.value]),
    [['TASK', 'deploy.mjs']],
  )
  assert.match(error.problems[0]?.allowed ?? '', 'supervisor-create, supervisor-sync, supervisor-status,')
})

test.run()
