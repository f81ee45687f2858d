import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type FlagSpec, parseFlags } from '../../lib/cli/flags.ts'
import {
  type DeployStep,
  describeInterrupted,
  type InterruptedOutcome,
  interruptedOutcome,
  isInterrupt,
  sameDeployCommand,
} from '../../lib/deploy/interrupted.ts'
import { rollOut } from '../../lib/deploy/rollout.ts'
import { InterruptedError, RemoteError } from '../../lib/errors.ts'

// Where an interrupted deploy left a server, from the step it was at and (for the switch) where current points now.

const CASES: Array<[DeployStep, string | null | undefined, InterruptedOutcome, string]> = [
  ['connect', undefined, 'not-started', '(not started)'],
  ['upload', 'v1', 'upload-cut-off', 'v1 (interrupted: upload of v2 cut off; current not switched)'],
  ['switch', 'v1', 'uploaded', 'v1 (interrupted: v2 uploaded, current not switched)'],
  ['switch', null, 'uploaded', 'no release (interrupted: v2 uploaded, current not switched)'],
  ['switch', 'v2', 'switched', 'v2 (interrupted: switched, not gated)'],
  ['gate', 'v2', 'switched', 'v2 (interrupted: switched, not gated)'],
  ['prune', 'v2', 'deployed', 'v2 (new)'],
  ['rollback', 'v2', 'failed', 'v2 (failed: gate failed; interrupted during its rollback)'],
]

for (const [step, current, outcome, note] of CASES) {
  test(`interrupted at ${step} with current on ${current}: ${outcome}`, () => {
    assert.is(interruptedOutcome(step, 'v2', current), outcome)
    assert.is(describeInterrupted(outcome, 'v2', current, 'gate failed'), note)
  })
}

test('isInterrupt: our InterruptedError, or any error once the run is interrupted (ssh exits 255 on a Ctrl-C too)', () => {
  const running = new AbortController()
  const stopped = new AbortController()
  stopped.abort('SIGINT')
  assert.ok(isInterrupt(new InterruptedError('SIGINT', 's1'), running.signal))
  assert.not.ok(
    isInterrupt(new RemoteError('s1', 'the connection to 127.0.0.4:22 was lost (ssh exited 255)'), running.signal),
  )
  assert.ok(
    isInterrupt(new RemoteError('s1', 'the connection to 127.0.0.4:22 was lost (ssh exited 255)'), stopped.signal),
  )
})

const SPECS: FlagSpec[] = (
  [
    { name: 'domain', type: 'string' },
    { name: 'app-dir', type: 'string' },
    { name: 'release', type: 'string' },
    { name: 'batch', type: 'string', default: '1' },
    { name: 'health-cmd', type: 'string' },
    { name: 'verbose', type: 'boolean' },
    { name: 'persist', type: 'boolean', negatable: true },
  ] as const
).map((spec) => ({ ...spec, description: spec.name }))

test('sameDeployCommand: the flags as given (quoted once), defaults left out, site, folder and release pinned', () => {
  const { flags, given } = parseFlags(SPECS, [
    '--domain',
    'd.test',
    '--app-dir',
    './my build',
    '--health-cmd',
    "test -e 'x'",
    '--verbose',
    '--no-persist',
  ])
  assert.is(
    sameDeployCommand('tasks/deploy.mjs', SPECS, flags, given, {
      domain: 'd.test',
      appDir: './my build',
      release: '20240601120000',
    }),
    `npx zx tasks/deploy.mjs --domain d.test --app-dir './my build' --release 20240601120000 --health-cmd 'test -e '"'"'x'"'"'' --verbose --no-persist`,
  )
  // The site and folder answered at prompts: in the command, as deployed.
  const asked = parseFlags(SPECS, ['--release', 'v2', '--batch', '2'])
  assert.is(
    sameDeployCommand('tasks/deploy.mjs', SPECS, asked.flags, asked.given, {
      domain: 'd.test',
      appDir: '/srv/build',
      release: 'v2',
    }),
    'npx zx tasks/deploy.mjs --domain d.test --app-dir /srv/build --release v2 --batch 2',
  )
})

test('rollOut: an interrupt during a batch ends the rollout after it, without calling it done; later batches never start', async () => {
  const interrupted = new AbortController()
  const ran: string[][] = []
  const done: number[] = []
  const result = await rollOut(
    [['s1', 's2'], ['s3', 's4'], ['s5']],
    async (servers, number) => {
      ran.push(servers)
      if (number === 2) interrupted.abort('SIGINT')
      return servers.map((server) => ({ server, failed: false }))
    },
    {
      maxFailures: 0,
      failed: (r) => r.failed,
      interrupted: interrupted.signal,
      onBatchDone: (b) => done.push(b.number),
    },
  )
  assert.equal(ran, [
    ['s1', 's2'],
    ['s3', 's4'],
  ])
  assert.equal(done, [1])
  assert.equal([result.interrupted, result.stoppedAfter, result.skipped, result.batches.length], [true, 2, ['s5'], 2])
})

test('rollOut: an interrupt before the first batch starts nothing', async () => {
  const interrupted = new AbortController()
  interrupted.abort('SIGTERM')
  const result = await rollOut(
    [['s1'], ['s2']],
    async () => {
      throw new Error('must not start')
    },
    { maxFailures: 0, failed: () => false, interrupted: interrupted.signal },
  )
  assert.equal(
    [result.interrupted, result.stoppedAfter, result.skipped, result.batches.length],
    [true, null, ['s1', 's2'], 0],
  )
})

test.run()
