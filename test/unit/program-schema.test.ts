import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { programFlags } from '../../lib/cli/program-answers.ts'
import { validateProgram } from '../../lib/inventory/validate.ts'
import { PROGRAM_SCHEMA, programKeySpecs } from '../../lib/program-schema.ts'
import { DEFAULT_TEMPLATES_DIR } from '../../lib/render/templates.ts'

// The shipped schema and template agree; adding an option on a fork is proven in test/integration/program-schema-fork.test.ts.

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
    if (!spec.flag) {
      // Written by a task, never typed (supervisor-import's imported_from).
      assert.not.ok(flag, `--${key} is not a flag`)
      continue
    }
    assert.ok(flag, `--${key} is a flag`)
    assert.is(flag?.default, spec.default, `--${key}'s default`)
    const own = spec.supervisorDefault === undefined ? '' : ` (supervisor: ${String(spec.supervisorDefault)})`
    assert.is(flag?.description, `${spec.flag.description}${own}`)
  }
  assert.is(flags.get('autorestart-unexpected')?.type, 'boolean')
  assert.is(PROGRAM_SCHEMA.stopwaitsecs.default, 3600, "DeployerPHP's stopwaitsecs")
})

test.run()
