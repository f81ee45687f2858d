import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  deployRecap,
  describeDeployEvent,
  describeRestart,
  interruptedRecap,
  reportDeploy,
  reportInterruptedDeploy,
} from '../../lib/cli/deploy-report.ts'
import type { DeployEvent, ServerDeploy } from '../../lib/deploy/deploy-server.ts'
import {
  type DeployRollout,
  deployFailed,
  deployReports,
  interruptedReports,
  serversToReadBack,
} from '../../lib/deploy/report.ts'
import type { ReleaseRestart } from '../../lib/deploy/restart.ts'
import type { ServerRollback } from '../../lib/deploy/rollback.ts'
import { InterruptedError, RemoteError } from '../../lib/errors.ts'
import type { AppliedStep, ServerOutcome } from '../../lib/fleet.ts'
import type { Server } from '../../lib/types.ts'
import { captureOutput } from '../helpers/capture.ts'
import { server } from '../helpers/inventory-data.ts'

// A rollout's report from fake outcomes, no server: which release each server runs and why, the recap row, the
// --json entry, and what an interrupt left where.

const [S1, S2, S3, S4, S5, S6] = ['s1', 's2', 's3', 's4', 's5', 's6'].map((name) => server(name)) as [
  Server,
  Server,
  Server,
  Server,
  Server,
  Server,
]
const AT = new Date('2024-06-01T12:00:00Z')
const RESTART: ReleaseRestart = {
  mode: 'all',
  bySync: ['d.test-a'],
  restarted: ['d.test-b'],
  lines: ['d.test-b: started'],
}
const ROLLBACK: ServerRollback = {
  release: 'r1',
  reverted: { update: { added: [], updated: ['d.test-a'], removed: [] }, output: '', kept: new Map() },
  restarted: ['d.test-b'],
  processes: [],
}
const UPLOAD: AppliedStep = { step: 'upload', result: { path: '/home/deployer/sites/d.test/releases/r2' } }

const deployed = (s: Server, batch: number): ServerOutcome<ServerDeploy> => ({
  server: s,
  ok: true,
  applied: [UPLOAD],
  value: {
    outcome: 'deployed',
    release: 'r2',
    batch,
    switchedAt: AT,
    gatePassedAt: AT,
    restart: RESTART,
    pruned: ['r0'],
  },
})
const rolledBack = (s: Server, batch: number, rollback: ServerRollback = ROLLBACK): ServerOutcome<ServerDeploy> => ({
  server: s,
  ok: true,
  applied: [UPLOAD],
  value: { outcome: 'rolled-back', release: rollback.release, batch, switchedAt: AT, reason: 'gate failed', rollback },
})
const failed = (s: Server, applied: AppliedStep[] = []): ServerOutcome<ServerDeploy> => ({
  server: s,
  ok: false,
  applied,
  error: new RemoteError(s.name, 'rsync failed'),
})
const cutOff = (
  s: Server,
  step: 'connect' | 'upload' | 'switch' | 'gate' | 'prune' | 'rollback',
  reason?: string,
): ServerOutcome<ServerDeploy> => ({
  server: s,
  ok: true,
  applied: step === 'connect' ? [] : [UPLOAD],
  value: { outcome: 'interrupted', batch: 1, step, ...(reason ? { reason } : {}) },
})
const notConnected = (s: Server): ServerOutcome<ServerDeploy> => ({
  server: s,
  ok: false,
  applied: [],
  error: new InterruptedError('SIGINT', s.name),
})

function rollout(batches: Array<ServerOutcome<ServerDeploy>[]>, rest: Partial<DeployRollout> = {}): DeployRollout {
  const done = batches.map((results, index) => ({
    number: index + 1,
    servers: results.map((o) => o.server),
    results,
    failures: 0,
    stopping: false,
  }))
  return { batches: done, skipped: [], stoppedAfter: null, failures: 0, interrupted: false, ...rest }
}

test('deployFailed: a rolled-back or failed server counts against --max-fail; a deployed or interrupted one does not', () => {
  const cases: Array<[ServerOutcome<ServerDeploy>, boolean]> = [
    [deployed(S1, 1), false],
    [rolledBack(S1, 1), true],
    [failed(S1), true],
    [cutOff(S1, 'gate'), false],
    [notConnected(S1), false],
  ]
  for (const [outcome, counted] of cases)
    assert.is(deployFailed(outcome), counted, JSON.stringify(outcome.ok ? outcome.value : String(outcome.error)))
})

test('serversToReadBack: the servers whose release the run does not know', () => {
  const finished = rollout([[deployed(S1, 1), rolledBack(S2, 1), failed(S3)]], { skipped: [S4], stoppedAfter: 1 })
  assert.equal(
    serversToReadBack(finished).map((s) => s.name),
    ['s4', 's3'],
    'skipped, then failed; deployed and rolled back are known',
  )
  const stopped = rollout(
    [
      [
        cutOff(S1, 'switch'),
        cutOff(S2, 'connect'),
        notConnected(S3),
        failed(S4),
        deployed(S5, 1),
        cutOff(S6, 'rollback', 'x'),
      ],
    ],
    { interrupted: true },
  )
  assert.equal(
    serversToReadBack(stopped).map((s) => s.name),
    ['s1', 's4', 's6'],
    'after an interrupt: the steps cut off and the failures, never the untouched ones',
  )
})

// [case, outcome, read back, report without its JSON-only fields, recap row]
const FINISHED: Array<
  [
    string,
    ServerOutcome<ServerDeploy> | undefined,
    string | null | undefined,
    Record<string, unknown>,
    [number, number, number, string],
  ]
> = [
  [
    'deployed',
    deployed(S1, 1),
    undefined,
    {
      server: 's1',
      ok: true,
      outcome: 'deployed',
      release: 'r2',
      batch: 1,
      switchedAt: AT,
      gatePassedAt: AT,
      pruned: ['r0'],
      restart: { mode: 'all', bySync: ['d.test-a'], restarted: ['d.test-b'] },
      note: 'r2 (new)',
    },
    [1, 1, 0, 'r2 (new)'],
  ],
  [
    'rolled back',
    rolledBack(S1, 2),
    undefined,
    {
      server: 's1',
      ok: false,
      outcome: 'rolled-back',
      release: 'r1',
      batch: 2,
      switchedAt: AT,
      reason: 'gate failed',
      rollback: {
        confsRestored: true,
        update: { added: [], updated: ['d.test-a'], removed: [] },
        restarted: ['d.test-b'],
      },
      note: 'r1 (rolled back: gate failed)',
    },
    [0, 1, 1, 'r1 (rolled back: gate failed)'],
  ],
  [
    'rolled back to no release, confs untouched',
    rolledBack(S1, 1, { release: null, reverted: null, restarted: [], processes: [] }),
    undefined,
    {
      server: 's1',
      ok: false,
      outcome: 'rolled-back',
      release: null,
      batch: 1,
      switchedAt: AT,
      reason: 'gate failed',
      rollback: { confsRestored: false, update: null, restarted: [] },
      note: 'no release (rolled back: gate failed)',
    },
    [0, 1, 1, 'no release (rolled back: gate failed)'],
  ],
  [
    'failed before changing anything, current read back',
    failed(S1),
    'r1',
    {
      server: 's1',
      batch: 1,
      ok: false,
      outcome: 'failed',
      release: 'r1',
      reason: 'rsync failed',
      applied: [],
      note: 'r1 (failed: rsync failed)',
    },
    [0, 0, 1, 'r1 (failed: rsync failed)'],
  ],
  [
    'failed after the upload, current not readable',
    failed(S1, [UPLOAD]),
    undefined,
    {
      server: 's1',
      batch: 1,
      ok: false,
      outcome: 'failed',
      release: null,
      reason: 'rsync failed',
      applied: [UPLOAD],
      note: '? (failed: rsync failed)',
    },
    [0, 1, 1, '? (failed: rsync failed)'],
  ],
  [
    'never in a batch',
    undefined,
    'r1',
    {
      server: 's1',
      ok: false,
      outcome: 'not-deployed',
      release: 'r1',
      reason: 'rollout stopped after batch 1',
      note: 'r1 (not deployed: rollout stopped after batch 1)',
    },
    [0, 0, 0, 'r1 (not deployed: rollout stopped after batch 1)'],
  ],
]

for (const [name, outcome, current, report, [ok, changed, failedCount, note]] of FINISHED) {
  test(`deployReports, ${name}: the report and its recap row`, () => {
    const result = outcome ? rollout([[outcome]]) : rollout([[deployed(S2, 1)]], { skipped: [S1], stoppedAfter: 1 })
    const [got] = deployReports([S1], result, new Map([['s1', current]]))
    assert.equal(got, report)
    assert.equal(deployRecap(got ? [got] : []), [{ server: 's1', ok, changed, failed: failedCount, note }])
  })
}

test('deployReports: every server of the site, in inventory order, whatever order the batches ran in', () => {
  const result = rollout([[deployed(S3, 1)], [deployed(S1, 2)]], { skipped: [S2], stoppedAfter: 2 })
  assert.equal(
    deployReports([S1, S2, S3], result, new Map()).map((r) => [r.server, r.outcome]),
    [
      ['s1', 'deployed'],
      ['s2', 'not-deployed'],
      ['s3', 'deployed'],
    ],
  )
})

// [case, outcome, read back, outcome, release, ok, changed, failed, note]
const INTERRUPTED: Array<
  [
    string,
    ServerOutcome<ServerDeploy> | undefined,
    string | null | undefined,
    string,
    string | null,
    boolean,
    number,
    number,
    string,
  ]
> = [
  ['never reached', undefined, undefined, 'not-started', null, false, 0, 0, '(not started)'],
  ['interrupted while connecting', notConnected(S1), undefined, 'not-started', null, false, 0, 0, '(not started)'],
  ['cut off at the connect step', cutOff(S1, 'connect'), undefined, 'not-started', null, false, 0, 0, '(not started)'],
  ['failed on its own before', failed(S1), 'r1', 'failed', 'r1', false, 0, 1, 'r1 (failed: rsync failed)'],
  [
    'upload cut off',
    cutOff(S1, 'upload'),
    'r1',
    'upload-cut-off',
    'r1',
    false,
    1,
    0,
    'r1 (interrupted: upload of r2 cut off; current not switched)',
  ],
  [
    'switch not done',
    cutOff(S1, 'switch'),
    null,
    'uploaded',
    null,
    false,
    1,
    0,
    'no release (interrupted: r2 uploaded, current not switched)',
  ],
  ['switch done', cutOff(S1, 'switch'), 'r2', 'switched', 'r2', false, 1, 0, 'r2 (interrupted: switched, not gated)'],
  [
    'gate cut off, current unreadable',
    cutOff(S1, 'gate'),
    undefined,
    'switched',
    null,
    false,
    1,
    0,
    '(interrupted: switched, not gated)',
  ],
  ['prune cut off: the gate had passed', cutOff(S1, 'prune'), 'r2', 'deployed', 'r2', true, 1, 0, 'r2 (new)'],
  [
    'rollback cut off',
    cutOff(S1, 'rollback', 'gate failed'),
    'r2',
    'failed',
    'r2',
    false,
    1,
    1,
    'r2 (failed: gate failed; interrupted during its rollback)',
  ],
  ['deployed before the interrupt', deployed(S1, 1), undefined, 'deployed', 'r2', true, 1, 0, 'r2 (new)'],
  [
    'rolled back before the interrupt',
    rolledBack(S1, 1),
    undefined,
    'rolled-back',
    'r1',
    false,
    1,
    1,
    'r1 (rolled back: gate failed)',
  ],
]

for (const [name, outcome, current, state, release, ok, changed, failedCount, note] of INTERRUPTED) {
  test(`interruptedReports, ${name}: ${state}`, () => {
    const result = rollout(outcome ? [[outcome]] : [[cutOff(S2, 'gate')]], { interrupted: true })
    const [got] = interruptedReports([S1], result, new Map([['s1', current]]), 'r2')
    assert.is(got?.outcome, state)
    assert.is(got?.release, release)
    assert.is(got?.ok, ok)
    assert.is(got?.batch, outcome ? 1 : null)
    assert.equal(interruptedRecap(got ? [got] : []), [
      { server: 's1', ok: Number(ok), changed, failed: failedCount, note },
    ])
  })
}

const EVENTS: Array<[Exclude<DeployEvent, { kind: 'prune-failed' }>, string]> = [
  [{ kind: 'started', batch: 2, release: 'r2' }, 'batch 2: deploying release r2'],
  [
    { kind: 'rollback-target', release: 'r2', previous: 'releases/r1' },
    'current already pointed to r2; a rollback would go back to r1 (uploaded before it)',
  ],
  [
    { kind: 'rollback-target', release: 'r2', previous: null },
    'current already pointed to r2; a rollback would go back to no release (uploaded before it)',
  ],
  [
    {
      kind: 'adopted',
      path: '/etc/supervisor/conf.d/handmade.conf',
      removed: true,
      kept: '/var/lib/zx-supervisor/adopted/x/etc/supervisor/conf.d/handmade.conf',
    },
    'removed imported original /etc/supervisor/conf.d/handmade.conf; original kept in /var/lib/zx-supervisor/adopted/x/etc/supervisor/conf.d/handmade.conf',
  ],
  [
    { kind: 'adopted', path: '/etc/supervisor/conf.d/d-w.conf', removed: false, kept: null },
    'adopted (unmarked) /etc/supervisor/conf.d/d-w.conf',
  ],
  [{ kind: 'gate', line: 'gate: health command exited 0' }, 'gate: health command exited 0'],
  [{ kind: 'live', release: 'r2', processes: 3 }, 'release r2 live; 3 process(es) running'],
  [{ kind: 'failed', reason: 'gate failed' }, 'failed: gate failed; rolling back'],
  [{ kind: 'rolled-back', release: 'r1' }, 'rolled back to r1'],
  [{ kind: 'rolled-back', release: null }, 'rolled back to no release (there was none before)'],
]

for (const [event, line] of EVENTS) {
  test(`describeDeployEvent ${event.kind}: ${line}`, () => {
    assert.is(describeDeployEvent(event), line)
  })
}

const RESTARTS: Array<[Partial<ReleaseRestart>, string]> = [
  [{ mode: 'all', restarted: ['d-a', 'd-b'] }, 'restarted all at once: d-a, d-b'],
  [{ mode: 'one-by-one', restarted: ['d-a'] }, 'restarted one by one: d-a'],
  [
    { mode: 'all', bySync: ['d-a'] },
    "d-a: conf changed, so the sync's update already restarted the whole group (all its processes at once)",
  ],
  [
    { mode: 'all', bySync: ['d-a'], restarted: ['d-b'] },
    "restarted all at once: d-b; d-a: conf changed, so the sync's update already restarted the whole group (all its processes at once)",
  ],
  [{ mode: 'none' }, '--restart none: the programs keep running their release until restarted'],
  [
    { mode: 'none', bySync: ['d-a'] },
    "--restart none: the other programs keep running their release until restarted; d-a: conf changed, so the sync's update already restarted the whole group (all its processes at once)",
  ],
  [{ mode: 'all' }, 'nothing to restart'],
]

for (const [restart, line] of RESTARTS) {
  test(`describeRestart: ${line}`, () => {
    assert.is(describeRestart({ mode: 'all', bySync: [], restarted: [], lines: [], ...restart }), line)
  })
}

const RUN = { domain: 'd.test', release: 'r2', batches: [[S1], [S2]], canary: false, maxFailures: 0 }

test('reportDeploy: exit 1 when a server is not on the new release; the --json document without the recap notes', () => {
  const result = rollout([[rolledBack(S1, 1)]], { skipped: [S2], stoppedAfter: 1, failures: 1 })
  const captured = captureOutput({ json: true })
  const code = reportDeploy(captured.output, RUN, result, deployReports([S1, S2], result, new Map([['s2', 'r1']])))
  assert.is(code, 1)
  const json = JSON.parse(captured.stdout())
  assert.equal(Object.keys(json), [
    'ok',
    'domain',
    'release',
    'batches',
    'maxFailures',
    'failures',
    'stoppedAfterBatch',
    'servers',
  ])
  assert.equal(json.batches, [['s1'], ['s2']])
  assert.is(json.stoppedAfterBatch, 1)
  assert.equal(
    json.servers.map((s: { outcome: string; note?: string }) => [s.outcome, s.note]),
    [
      ['rolled-back', undefined],
      ['not-deployed', undefined],
    ],
  )
  assert.match(captured.stderr(), /s2\s+ok=0 changed=0 failed=0\s+r1 \(not deployed: rollout stopped after batch 1\)/)
})

test("reportDeploy: a failed server's applied steps in the --json; exit 0 when every server runs the new release", () => {
  const failing = rollout([[failed(S1, [UPLOAD])]], { failures: 1 })
  const captured = captureOutput({ json: true })
  reportDeploy(captured.output, RUN, failing, deployReports([S1], failing, new Map()))
  assert.equal(JSON.parse(captured.stdout()).servers[0].applied, [UPLOAD])
  assert.match(captured.stderr(), 's1: applied upload, then failed: rsync failed')
  const passing = rollout([[deployed(S1, 1)]])
  assert.is(
    reportDeploy(captureOutput({ json: true }).output, RUN, passing, deployReports([S1], passing, new Map())),
    0,
  )
})

test('reportInterruptedDeploy: exit 130, the command to finish, no failure line for a server the interrupt cut off', () => {
  const result = rollout([[cutOff(S1, 'gate'), notConnected(S2)]], { interrupted: true, stoppedAfter: 1 })
  const captured = captureOutput({ json: true })
  const next = 'npx zx tasks/deploy.mjs --domain d.test --release r2'
  const code = reportInterruptedDeploy(
    captured.output,
    { ...RUN, signal: 'SIGINT', next },
    result,
    interruptedReports([S1, S2], result, new Map([['s1', 'r2']]), 'r2'),
  )
  assert.is(code, 130)
  const json = JSON.parse(captured.stdout())
  assert.is(json.interrupted, 'SIGINT')
  assert.is(json.interruptedInBatch, 1)
  assert.is(json.next, next)
  assert.equal(
    json.servers.map((s: { outcome: string; note?: string }) => [s.outcome, s.note]),
    [
      ['switched', undefined],
      ['not-started', undefined],
    ],
  )
  assert.match(
    captured.stderr(),
    `interrupted by SIGINT during batch 1/2: nothing was rolled back for it and no later batch was started. To finish every server, run the same deploy again: ${next}`,
  )
  assert.not.match(captured.stderr(), 's2: ', 'an interrupted connection is not reported as a failure')
})

test.run()
