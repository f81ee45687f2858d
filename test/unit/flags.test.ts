import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatHelp, parseFlags, type FlagSpec } from '../../lib/cli/flags.ts'
import { InputError } from '../../lib/errors.ts'

const SPECS: FlagSpec[] = [
  { name: 'domain', type: 'string', description: 'site' },
  { name: 'program', type: 'string', description: 'program' },
  { name: 'numprocs', alias: 'n', type: 'integer', description: 'processes', default: 1 },
  { name: 'force', alias: 'f', type: 'boolean', description: 'force' },
  { name: 'autostart', type: 'boolean', negatable: true, description: 'autostart', default: true },
  { name: 'yes', alias: 'y', type: 'boolean', description: 'yes' },
  { name: 'env', type: 'list', description: 'KEY=VALUE' },
]

const GOOD: Array<[string, string[], Record<string, unknown>]> = [
  ['strings stay strings (no 007 → 7)', ['--program', '007'], { program: '007' }],
  ['= form', ['--domain=example.com'], { domain: 'example.com' }],
  ['integers are parsed', ['--numprocs', '3'], { numprocs: 3 }],
  ['integer default', [], { numprocs: 1, autostart: true }],
  ['--no-x negates', ['--no-autostart'], { autostart: false }],
  ['short alias', ['-y'], { yes: true }],
  ['value attached to a short alias', ['-n5'], { numprocs: 5 }],
  ['grouped short booleans', ['-fy'], { yes: true, force: true }],
  ['repeatable list', ['--env', 'A=1', '--env', 'B=2'], { env: ['A=1', 'B=2'] }],
  ['values with spaces and quotes are kept whole', ['--program', "a b'c"], { program: "a b'c" }],
]

for (const [name, args, expected] of GOOD) {
  test(`parseFlags: ${name}`, () => {
    const { flags } = parseFlags(SPECS, args)
    for (const [key, value] of Object.entries(expected)) assert.equal(flags[key], value, key)
  })
}

const BAD: Array<[string, string[], RegExp]> = [
  ['unknown flag', ['--nope'], /--nope: got "--nope"; allowed: one of --domain/],
  ['integer with letters', ['--numprocs', 'abc'], /--numprocs: got "abc"; allowed: a whole number/],
  ['negative integer', ['--numprocs=-1'], /--numprocs/],
  ['float', ['--numprocs', '1.5'], /--numprocs: got "1.5"/],
  ['missing value', ['--domain'], /--domain: got ""; allowed: a value/],
  ['a single-value flag twice', ['--domain', 'a', '--domain', 'b'], /--domain: .*allowed: one value/],
]

for (const [name, args, pattern] of BAD) {
  test(`parseFlags rejects ${name}`, () => {
    try {
      parseFlags(SPECS, args)
      assert.unreachable('should have thrown')
    } catch (error) {
      assert.instance(error, InputError)
      assert.match((error as Error).message, pattern)
    }
  })
}

test('given tells typed flags from defaults', () => {
  const { given } = parseFlags(SPECS, ['--no-autostart', '--domain', 'x'])
  assert.ok(given.has('autostart'))
  assert.ok(given.has('domain'))
  assert.not.ok(given.has('numprocs'))
})

test('help lists every flag with its default', () => {
  const help = formatHelp({ name: 'supervisor-create', summary: 'add a program', flags: SPECS, examples: ['npx zx tasks/supervisor-create.mjs --domain example.com'] })
  assert.match(help, /--\[no-\]autostart\s+autostart \(default: true\)/)
  assert.match(help, /--numprocs N\s+processes \(default: 1\)/)
  assert.match(help, /-y, --yes/)
  assert.match(help, /Examples:\n  npx zx tasks\/supervisor-create.mjs --domain example.com/)
})

test.run()
