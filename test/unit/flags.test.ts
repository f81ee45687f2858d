import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  COMMON_FLAGS,
  type FlagSpec,
  formatExitCodes,
  formatHelp,
  optionsToArgs,
  parseFlags,
} from '../../lib/cli/flags.ts'
import type { Task } from '../../lib/cli/run-task.ts'
import { deploy } from '../../tasks/deploy.mjs'
import { scaffoldSupervisorsTask } from '../../tasks/scaffold-supervisors.mjs'
import { serverLogs } from '../../tasks/server-logs.mjs'
import { supervisorCreate } from '../../tasks/supervisor-create.mjs'
import { supervisorDashboard } from '../../tasks/supervisor-dashboard.mjs'
import { supervisorDelete } from '../../tasks/supervisor-delete.mjs'
import { supervisorImport } from '../../tasks/supervisor-import.mjs'
import { supervisorRestart } from '../../tasks/supervisor-restart.mjs'
import { supervisorStart } from '../../tasks/supervisor-start.mjs'
import { supervisorStatus } from '../../tasks/supervisor-status.mjs'
import { supervisorStop } from '../../tasks/supervisor-stop.mjs'
import { supervisorSync } from '../../tasks/supervisor-sync.mjs'
import { inputError } from '../helpers/input-error.ts'

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

const TIMEOUT = COMMON_FLAGS.filter((f) => f.name === 'timeout')
const PARALLEL = COMMON_FLAGS.filter((f) => f.name === 'parallel')

const BAD: Array<[string, string[], RegExp, FlagSpec[]?]> = [
  ['unknown flag', ['--nope'], /--nope: got "--nope"; allowed: one of --domain/],
  ['integer with letters', ['--numprocs', 'abc'], /--numprocs: got "abc"; allowed: a whole number/],
  ['negative integer', ['--numprocs=-1'], /--numprocs/],
  ['float', ['--numprocs', '1.5'], /--numprocs: got "1.5"/],
  ['missing value', ['--domain'], /--domain: got ""; allowed: a value/],
  ['a single-value flag twice', ['--domain', 'a', '--domain', 'b'], /--domain: .*allowed: one value/],
  [
    'a negative integer after a space (not an unknown flag -1)',
    ['--numprocs', '-1'],
    /^--numprocs: got "-1"; allowed: a whole number/,
  ],
  [
    '--timeout 0 (was silently 10)',
    ['--timeout', '0'],
    /^--timeout: got "0"; allowed: a whole number, at least 1/,
    TIMEOUT,
  ],
  [
    '--timeout -5 (was an unrelated error)',
    ['--timeout', '-5'],
    /^--timeout: got "-5"; allowed: a whole number \(digits only\), at least 1/,
    TIMEOUT,
  ],
  ['--timeout=-5', ['--timeout=-5'], /^--timeout: got "-5"/, TIMEOUT],
  ['--parallel 0', ['--parallel', '0'], /^--parallel: got "0"; allowed: a whole number from 1 to 256/, PARALLEL],
  ['--parallel 257', ['--parallel=257'], /^--parallel: got "257"; allowed: a whole number from 1 to 256/, PARALLEL],
  [
    '--parallel -2',
    ['--parallel', '-2'],
    /^--parallel: got "-2"; allowed: a whole number \(digits only\) from 1 to 256/,
    PARALLEL,
  ],
  ['--parallel many', ['--parallel', 'many'], /^--parallel: got "many"/, PARALLEL],
]

for (const [name, args, pattern, specs = SPECS] of BAD) {
  test(`parseFlags rejects ${name}`, () => {
    assert.match(inputError(() => parseFlags(specs, args)).message, pattern)
  })
}

test('given tells typed flags from defaults', () => {
  const { given } = parseFlags(SPECS, ['--no-autostart', '--domain', 'x'])
  assert.ok(given.has('autostart'))
  assert.ok(given.has('domain'))
  assert.not.ok(given.has('numprocs'))
})

test('--timeout takes a whole number of seconds from 1, default 10', () => {
  assert.is(parseFlags(TIMEOUT, ['--timeout', '1']).flags.timeout, 1)
  assert.is(parseFlags(TIMEOUT, []).flags.timeout, 10)
})

test('--parallel: servers at once, 1 to 256, default 16', () => {
  assert.is(parseFlags(PARALLEL, []).flags.parallel, 16)
  assert.is(parseFlags(PARALLEL, ['--parallel', '1']).flags.parallel, 1)
  assert.is(parseFlags(PARALLEL, ['--parallel=256']).flags.parallel, 256)
})

test('optionsToArgs says the same as the command line: camelCase, booleans, lists, unknown names kept for the error', () => {
  assert.equal(
    optionsToArgs(SPECS, {
      domain: 'a.test',
      numprocs: 2,
      autostart: false,
      yes: true,
      env: ['A=1', 'B=2'],
      program: undefined,
    }),
    ['--domain=a.test', '--numprocs=2', '--no-autostart', '--yes', '--env=A=1', '--env=B=2'],
  )
  assert.equal(optionsToArgs([{ name: 'dry-run', type: 'boolean', description: '' }], { dryRun: true }), ['--dry-run'])
  assert.equal(optionsToArgs(SPECS, { domain: '-x' }), ['--domain=-x'])
  const { flags } = parseFlags(SPECS, optionsToArgs(SPECS, { program: '007', numprocs: '3', env: 'A=1' }))
  assert.equal([flags.program, flags.numprocs, flags.env], ['007', 3, ['A=1']])
  assert.throws(
    () => parseFlags(SPECS, optionsToArgs(SPECS, { nope: 1 })),
    /--nope: got "--nope=1"; allowed: one of --domain/,
  )
})

test('exit codes follow SPEC §4: 3 only for a task that compares servers with the inventory', () => {
  assert.is(
    formatExitCodes([0, 1, 2, 130], false),
    'Exit codes: 0 done, 1 failed, 2 bad input or inventory, nothing written or sent, 130 interrupted.',
  )
  assert.match(formatExitCodes([0, 1, 2, 130], true), /^Exit codes: 0 done, 1 failed on a server, 2 /)
  assert.match(
    formatExitCodes([0, 1, 2, 3, 130], true),
    /^Exit codes: 0 every server is as the inventory wants, 1 failed on a server \(1 beats 3\), 2 .*, 3 not as the inventory wants .*, 130 interrupted\.$/,
  )
})

const TASKS: Task[] = [
  supervisorCreate,
  supervisorDelete,
  supervisorImport,
  supervisorSync,
  supervisorStatus,
  supervisorStart,
  supervisorStop,
  supervisorRestart,
  serverLogs,
  scaffoldSupervisorsTask,
  deploy,
  supervisorDashboard,
]
const offered = (task: Task) => new Set(task.meta.flags.map((f) => f.name))

for (const task of TASKS) {
  test(`${task.meta.name} --help has one exit-code line, its own, and --help`, () => {
    const help = formatHelp(task.meta)
    const lines = help.split('\n').filter((line) => /^Exit codes?:/i.test(line.trim()))
    assert.equal(lines, [formatExitCodes(task.meta.exitCodes, offered(task).has('timeout'))])
    assert.is(
      task.meta.exitCodes.includes(3),
      ['supervisor-status', 'supervisor-sync', 'supervisor-import'].includes(task.meta.name),
      'exit 3 is for status, sync --check and import (some programs listed, not written) only',
    )
    assert.ok(offered(task).has('help'))
  })
}

test('a task offers only the common flags it uses', () => {
  const offering = (flag: string) =>
    TASKS.filter((task) => offered(task).has(flag))
      .map((task) => task.meta.name)
      .sort()
  assert.equal(offering('yes'), ['supervisor-delete'], 'only delete asks for a confirmation')
  assert.equal(
    offering('inventory'),
    TASKS.filter((t) => t !== scaffoldSupervisorsTask)
      .map((t) => t.meta.name)
      .sort(),
  )
  assert.not.ok(
    offering('timeout').some((name) =>
      ['supervisor-create', 'supervisor-delete', 'scaffold-supervisors'].includes(name),
    ),
    'tasks that contact no server have no SSH timeout',
  )
  assert.not.match(formatHelp(supervisorStatus.meta), '--yes')
  assert.equal(
    offering('parallel'),
    [
      'server-logs',
      'supervisor-dashboard',
      'supervisor-import',
      'supervisor-restart',
      'supervisor-start',
      'supervisor-status',
      'supervisor-stop',
      'supervisor-sync',
    ],
    'every task that visits several servers at once; deploy rolls one at a time',
  )
  assert.equal(offering('one-by-one'), ['supervisor-restart'])
  assert.equal(offering('ssh-config'), offering('timeout'), 'every task that connects takes --ssh-config')
  assert.equal(offering('check'), ['supervisor-sync'])
})

test('help lists every flag with its default', () => {
  const help = formatHelp({
    name: 'supervisor-create',
    summary: 'add a program',
    flags: SPECS,
    examples: ['npx zx tasks/supervisor-create.mjs --domain example.com'],
    exitCodes: [0, 1, 2, 130],
  })
  assert.match(help, /--\[no-\]autostart\s+autostart \(default: true\)/)
  assert.match(help, /--numprocs N\s+processes \(default: 1\)/)
  assert.match(help, /-y, --yes/)
  assert.match(help, /Examples:\n  npx zx tasks\/supervisor-create.mjs --domain example.com/)
})

test.run()
