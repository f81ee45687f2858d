import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { requireAppDir, requireScripts } from '../../lib/deploy/app-dir.ts'
import {
  pruneReleases,
  releaseFromFlag,
  releaseTimestamp,
  requireReleaseName,
  switchCurrent,
  uploadRelease,
} from '../../lib/deploy/release.ts'
import type { Connection } from '../../lib/remote/connection.ts'
import type { Program, Site } from '../../lib/types.ts'
import { checkCommandLine, checkReleaseName } from '../../lib/values.ts'
import { fakeConnection } from '../helpers/fake-connection.ts'
import { inputError } from '../helpers/input-error.ts'

// A release name is checked by the rulebook at the boundary and again by the steps that put it in remote paths, so a
// pipeline calling uploadRelease/switchCurrent with a bad one gets an InputError before anything is sent.

const RELEASES: Array<[unknown, boolean, RegExp?]> = [
  ['20240601120000', true],
  ['v1.2.3_rc-1', true],
  ['-x', true],
  ['a'.repeat(255), true],
  ['a'.repeat(256), false, /256 characters long/],
  ['', false, /empty/],
  ['../evil', false, /'\/' at position 3/],
  ['.hidden', false, /must not start with '\.'/],
  ['..', false, /must not start with '\.'/],
  ['a b', false, /the space at position 2/],
  ['r1\n', false, /the newline/],
  ['rélease', false, /non-ASCII/],
  [20240601, false, /quotes/],
  [undefined, false, /required/],
]

for (const [value, ok, hint] of RELEASES) {
  test(`checkReleaseName ${JSON.stringify(value)}: ${ok ? 'valid' : 'refused'}`, () => {
    const checked = checkReleaseName(value, 'release')
    assert.is(checked.ok, ok)
    if (!checked.ok) {
      assert.is(checked.problem.field, 'release')
      assert.match(checked.problem.allowed, "letters, digits, '.', '_' and '-', not starting with '.'")
      assert.match(checked.problem.hint ?? '', hint as RegExp)
    }
  })
}

test('requireReleaseName: the value, or an InputError naming the field; a flag gets the hint to leave it out', () => {
  assert.is(requireReleaseName('r1', '--release', { fromFlag: true }), 'r1')
  const refused = inputError(() => requireReleaseName('.r1', '--release', { fromFlag: true }))
  assert.equal(
    refused.problems.map((p) => [p.field, p.value]),
    [['--release', '.r1']],
  )
  assert.match(refused.problems[0]?.hint ?? '', "must not start with '.'; or leave the flag out for a UTC timestamp")
  assert.not.match(inputError(() => requireReleaseName('.r1', 'release')).problems[0]?.hint ?? '', 'flag')
})

test('releaseTimestamp: the UTC time to the second, a valid release name', () => {
  const name = releaseTimestamp(new Date('2024-06-01T12:03:04.567Z'))
  assert.is(name, '20240601120304')
  assert.ok(checkReleaseName(name, 'release').ok)
})

test('releaseFromFlag: --release as given, else the timestamp of now; a bad one is exit 2 naming --release', () => {
  const now = new Date('2024-06-01T12:03:04Z')
  assert.is(releaseFromFlag('v2', now), 'v2')
  assert.is(releaseFromFlag(undefined, now), '20240601120304')
  const refused = inputError(() => releaseFromFlag('../x', now))
  assert.is(refused.problems[0]?.field, '--release')
  assert.match(refused.problems[0]?.hint ?? '', 'flag')
})

const COMMANDS: Array<[unknown, boolean, string?]> = [
  ['php artisan about', true],
  ["test -e 'x' && curl -fsS localhost/up", true],
  ['true\nrm -rf /', false, 'join the lines'],
  ['true\r', false, 'join the lines'],
  ['true\0', false, 'join the lines'],
  [' ', false, 'empty'],
  [7, false, 'number'],
]

for (const [value, ok, hint] of COMMANDS) {
  test(`checkCommandLine ${JSON.stringify(value)}: ${ok ? 'valid' : 'refused'}`, () => {
    const checked = checkCommandLine(value, '--health-cmd', { fromFlag: true })
    assert.is(checked.ok, ok)
    if (!checked.ok)
      assert.equal(
        [checked.problem.allowed, checked.problem.hint?.includes(hint ?? '')],
        ['a shell command on one line', true],
      )
  })
}

const ROOT = '/home/deployer/sites/d.test'
const STEPS: Array<[string, (connection: Connection, release: string) => Promise<unknown>]> = [
  [
    'uploadRelease',
    (connection, release) =>
      uploadRelease(connection, { localDir: '/tmp/app', root: ROOT, release, owner: 'deployer' }),
  ],
  ['switchCurrent', (connection, release) => switchCurrent(connection, { root: ROOT, release })],
]

for (const [name, step] of STEPS) {
  for (const release of ['../../etc', '.r1', 'r1; rm -rf /', '']) {
    test(`${name} with release ${JSON.stringify(release)}: an InputError naming release, nothing sent`, async () => {
      const { connection, sent } = fakeConnection()
      const error = await step(connection, release).then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.equal(
        inputError(() => {
          throw error
        }).problems.map((p) => [p.field, p.value]),
        [['release', release]],
      )
      assert.equal(sent, [])
    })
  }

  test(`control: ${name} with a good release name sends its commands`, async () => {
    const { connection, sent } = fakeConnection((argv) =>
      argv[0] === 'sh' && argv[3] === 'switch-current' ? { stdout: 'previous releases/r0\n' } : {},
    )
    await step(connection, 'r1')
    assert.ok(
      sent.length > 0 && sent.some((argv) => argv.some((arg) => arg.endsWith('releases/r1'))),
      JSON.stringify(sent),
    )
  })
}

test('pruneReleases: directories whose names are not release names are never counted nor removed', async () => {
  const listing = ['5 r5', '4 r4', '3 .r3', '2 r 2', '1 r1'].join('\n')
  const { connection, sent } = fakeConnection((argv) => (argv[0] === 'find' ? { stdout: listing } : {}))
  assert.equal(await pruneReleases(connection, { root: ROOT, keep: 1, protect: [] }), { removed: ['r4', 'r1'] })
  assert.equal(sent.at(-1), ['rm', '-rf', '--', `${ROOT}/releases/r4`, `${ROOT}/releases/r1`])
})

const SITE = {
  domain: 'd.test',
  servers: ['web-1'],
  supervisors: [
    { program: 'worker', script: 'worker.sh' },
    { program: 'cron', script: 'jobs/cron.sh' },
  ] as Program[],
} as Site

test('requireAppDir: the folder made absolute; none given is an InputError naming --app-dir', () => {
  assert.is(requireAppDir('build'), path.resolve('build'))
  for (const missing of [undefined, '']) {
    assert.equal(
      inputError(() => requireAppDir(missing)).problems.map((p) => [p.field, p.allowed, p.hint]),
      [['--app-dir', 'the folder to upload as the release', 'e.g. --app-dir ./build']],
    )
  }
})

test('requireScripts: every program whose script the app lacks is named at once; a complete app passes', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-app-dir-'))
  try {
    await fs.mkdir(path.join(dir, '.deployer/supervisors/jobs'), { recursive: true })
    await fs.writeFile(path.join(dir, '.deployer/supervisors/other.sh'), '')
    const refused = await requireScripts(SITE, dir).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.equal(
      inputError(() => {
        throw refused
      }).problems.map((p) => p.allowed),
      [
        'an app with .deployer/supervisors/worker.sh (program worker)',
        'an app with .deployer/supervisors/jobs/cron.sh (program cron)',
      ],
    )
    await fs.writeFile(path.join(dir, '.deployer/supervisors/worker.sh'), '')
    await fs.writeFile(path.join(dir, '.deployer/supervisors/jobs/cron.sh'), '')
    await requireScripts(SITE, dir)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test.run()
