import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { captureOutput } from '../helpers/capture.ts'
import { addStopAsGroupOption, buildCopy, copyProject } from '../helpers/project-copy.ts'

// Adding a supervisor option is one entry in lib/program-schema.ts plus its line in the conf template: on a copy of
// the project with `stopasgroup` added that way, supervisor-create's flag parses it, the editor writes it, the loader
// accepts (and checks) it, and the renderer writes it into the conf.

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
  const dir = await copyProject(await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-schema-')))
  await addStopAsGroupOption(dir)
  await buildCopy(dir)
  await fs.mkdir(path.join(dir, 'app/.deployer/supervisors'), { recursive: true })
  const worker = path.join(dir, 'app/.deployer/supervisors/worker.sh')
  await fs.writeFile(worker, '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 })
  const load = (file: string) => import(pathToFileURL(path.join(dir, file)).href)
  context.copy = {
    dir,
    create: (await load('tasks/supervisor-create.mjs')).supervisorCreate,
    loadInventory: (await load('dist/lib/inventory/load.js')).loadInventory,
    validateProgram: (await load('dist/lib/inventory/validate.js')).validateProgram,
    renderProgramFiles: (await load('dist/lib/render/program-files.js')).renderProgramFiles,
  }
})

option.after(async ({ copy }) => {
  if (copy) await fs.rm(path.dirname(copy.dir), { recursive: true, force: true })
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
