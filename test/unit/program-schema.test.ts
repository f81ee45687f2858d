import { readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { suite, test } from 'uvu'
import * as assert from 'uvu/assert'
import { programFlags } from '../../lib/cli/program-answers.ts'
import { validateProgram } from '../../lib/inventory/validate.ts'
import { PROGRAM_SCHEMA, programKeySpecs } from '../../lib/program-schema.ts'
import { DEFAULT_TEMPLATES_DIR } from '../../lib/render/templates.ts'
import { captureOutput } from '../helpers/capture.ts'
import { patchFile } from '../helpers/project-copy.ts'
import { PROJECT } from '../helpers/run-task.ts'

// Adding a supervisor option is one entry in lib/program-schema.ts plus its line in the conf template: on a copy of
// the project with `stopasgroup` added that way, supervisor-create's flag parses it, the editor writes it, the loader
// accepts (and checks) it, and the renderer writes it into the conf.

const STOPASGROUP_ENTRY = `
  stopasgroup: {
    check: checkBoolean,
    flag: { type: 'boolean', negatable: true, description: 'send the stop signal to the whole process group' },
    iniKey: 'stopasgroup',
  },`
const SCHEMA_END = '\n} as const satisfies ProgramSchema'
const TEMPLATE_LINE = '{{#if (isSet stopasgroup)}}\nstopasgroup={{ini stopasgroup}}\n{{/if}}\n'
const TEMPLATE_ANCHOR = 'redirect_stderr=true\n'

const INVENTORY = `servers:
  - name: web-1
    host: 127.0.0.254
sites:
  - domain: example.com
    server: web-1
`

type LoadedSites = { inventory: { servers: unknown[]; sites: Array<{ supervisors: Array<Record<string, unknown>> }> } }

interface Copy {
  dir: string
  create: { run: (args: string[], options: { output: unknown }) => Promise<number> }
  loadInventory: (file: string) => Promise<LoadedSites>
  validateProgram: (raw: unknown) => { problems: Array<{ field: string; hint?: string }> }
  renderProgramFiles: (input: Record<string, unknown>) => Array<{ content: string }>
}

const option = suite<{ copy: Copy }>('a supervisor option is one schema entry plus one template line')

option.before(async (context) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-schema-'))
  for (const entry of ['lib', 'tasks', 'templates', 'package.json', 'tsconfig.json']) {
    await fs.cp(path.join(PROJECT, entry), path.join(dir, entry), { recursive: true })
  }
  await fs.symlink(path.join(PROJECT, 'node_modules'), path.join(dir, 'node_modules'))
  await patchFile(path.join(dir, 'lib/program-schema.ts'), SCHEMA_END, STOPASGROUP_ENTRY.trimEnd() + SCHEMA_END)
  await patchFile(
    path.join(dir, 'templates/supervisor/program.conf.hbs'),
    TEMPLATE_ANCHOR,
    TEMPLATE_LINE + TEMPLATE_ANCHOR,
  )
  await fs.mkdir(path.join(dir, 'app/.deployer/supervisors'), { recursive: true })
  const worker = path.join(dir, 'app/.deployer/supervisors/worker.sh')
  await fs.writeFile(worker, '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 })
  const load = (file: string) => import(pathToFileURL(path.join(dir, file)).href)
  context.copy = {
    dir,
    create: (await load('tasks/supervisor-create.mjs')).supervisorCreate,
    loadInventory: (await load('lib/inventory/load.ts')).loadInventory,
    validateProgram: (await load('lib/inventory/validate.ts')).validateProgram,
    renderProgramFiles: (await load('lib/render/program-files.ts')).renderProgramFiles,
  }
})

option.after(async ({ copy }) => {
  if (copy) await fs.rm(copy.dir, { recursive: true, force: true })
})

async function createOnCopy(copy: Copy, name: string, flags: string[]) {
  const inventory = path.join(copy.dir, `${name}.yml`)
  await fs.writeFile(inventory, INVENTORY)
  const captured = captureOutput()
  const args = ['--inventory', inventory, '--app-dir', path.join(copy.dir, 'app'), '--domain', 'example.com']
  args.push('--program', 'worker', '--script', 'worker.sh', ...flags)
  const code = await copy.create.run(args, { output: captured.output })
  const text = await fs.readFile(inventory, 'utf8')
  return { code, inventory, text, stdout: captured.stdout(), stderr: captured.stderr() }
}

option('supervisor-create takes the flag, writes the key in the schema order and replays it', async ({ copy }) => {
  const run = await createOnCopy(copy, 'created', ['--stopasgroup'])
  assert.is(run.code, 0, run.stderr)
  assert.match(run.text, /- program: worker\n\s+script: worker.sh\n(\s+\w+: .+\n)+\s+stopasgroup: true\n$/)
  assert.match(run.stdout, /--numprocs 1 --stopasgroup($| )/m)
  const off = await createOnCopy(copy, 'off', ['--no-stopasgroup'])
  assert.match(off.text, 'stopasgroup: false')
})

option('the loader reads the key, leaves it out when absent and checks its value', async ({ copy }) => {
  const run = await createOnCopy(copy, 'loaded', ['--stopasgroup'])
  const [program] = (await copy.loadInventory(run.inventory)).inventory.sites[0]?.supervisors ?? []
  assert.is(program?.stopasgroup, true)
  const without = await createOnCopy(copy, 'without', [])
  const [plain] = (await copy.loadInventory(without.inventory)).inventory.sites[0]?.supervisors ?? []
  assert.ok(plain && !('stopasgroup' in plain), JSON.stringify(plain))
  const bad = copy.validateProgram({ program: 'worker', script: 'worker.sh', stopasgroup: 'yes' })
  assert.equal(
    bad.problems.map((p) => p.field),
    ['stopasgroup'],
  )
  assert.match(bad.problems[0]?.hint ?? '', "'yes' is text here, not a boolean; write true")
})

option('the renderer hands it to the template, which writes it only when set', async ({ copy }) => {
  const run = await createOnCopy(copy, 'rendered', ['--stopasgroup'])
  const { inventory } = await copy.loadInventory(run.inventory)
  const site = inventory.sites[0]
  const input = { templatesDir: path.join(copy.dir, 'templates'), server: inventory.servers[0], site }
  const [conf] = copy.renderProgramFiles({ ...input, program: site?.supervisors[0] })
  assert.match(conf?.content ?? '', /\nstopasgroup=true\nredirect_stderr=true\n/)
  const [plain] = copy.renderProgramFiles({ ...input, program: { ...site?.supervisors[0], stopasgroup: undefined } })
  assert.not.match(plain?.content ?? '', 'stopasgroup')
})

option.run()

// --- The real schema ------------------------------------------------------------------------------------------

const conf = readFileSync(path.join(DEFAULT_TEMPLATES_DIR, 'supervisor/program.conf.hbs'), 'utf8')

for (const [key, spec] of programKeySpecs().filter(([, s]) => s.iniKey !== undefined)) {
  test(`the shipped conf template writes ${key} as ${spec.iniKey}=`, () => {
    assert.match(conf, `\n${spec.iniKey}={{ini ${key}}}\n`)
  })
}

test('the loader fills in every schema default, and only those', () => {
  const { program, problems } = validateProgram({ program: 'worker', script: 'worker.sh' })
  assert.equal(problems, [])
  const defaults = programKeySpecs().flatMap(([key, spec]) => (spec.default === undefined ? [] : [[key, spec.default]]))
  assert.equal(program, { program: 'worker', script: 'worker.sh', ...Object.fromEntries(defaults), environment: {} })
})

test("supervisor-create's flags carry the schema's defaults and supervisor's own in their help", () => {
  const flags = new Map(programFlags().map((flag) => [flag.name, flag]))
  for (const [key, spec] of programKeySpecs()) {
    const flag = flags.get(key)
    assert.ok(flag, `--${key} is a flag`)
    assert.is(flag?.default, spec.default, `--${key}'s default`)
    const own = spec.supervisorDefault === undefined ? '' : ` (supervisor: ${String(spec.supervisorDefault)})`
    assert.is(flag?.description, `${spec.flag.description}${own}`)
  }
  assert.is(flags.get('autorestart-unexpected')?.type, 'boolean')
  assert.is(PROGRAM_SCHEMA.stopwaitsecs.default, 3600, "DeployerPHP's stopwaitsecs")
})

test.run()
