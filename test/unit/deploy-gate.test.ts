import crypto from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type GateProgram, judgeHold, judgeProcesses } from '../../lib/deploy/gate.ts'
import { MANAGED_FILES } from '../../lib/layout.ts'
import type { RenderedFile } from '../../lib/render/program-files.ts'
import type { ProcessStatus } from '../../lib/supervisor/process.ts'
import type { SyncPlan } from '../../lib/sync/plan.ts'
import type { LiveFile, LiveState } from '../../lib/sync/read-state.ts'
import { planRollback } from '../../lib/sync/rollback.ts'

// The gate's verdicts on one look at the process table, and the reverse plan a rollback activates.

const CURRENT = '/home/deployer/sites/d.test/current'
const R2 = '/home/deployer/sites/d.test/releases/r2'
const R1 = '/home/deployer/sites/d.test/releases/r1'
const GROUP = 'd.test-worker'

const proc = (n: number, state: string, pid: number | undefined, runs = R2, description = ''): ProcessStatus => ({
  name: `${GROUP}:${GROUP}_0${n}`,
  group: GROUP,
  process: `${GROUP}_0${n}`,
  state,
  description,
  ...(pid ? { pid } : {}),
  releasePath: runs,
  cwd: runs,
})
const live = (processes: ProcessStatus[], current: string | null = R2) =>
  ({ processes, currents: new Map([[CURRENT, current]]) }) as unknown as LiveState
const OPTIONS: { programs: GateProgram[]; currentPath: string; release: string | null; checkRelease: boolean } = {
  programs: [{ name: GROUP, numprocs: 2, startSecs: 1 }],
  currentPath: CURRENT,
  release: 'r2',
  checkRelease: true,
}

const VERDICTS: Array<[string, LiveState, Partial<typeof OPTIONS>, { kind: string; reason?: RegExp }]> = [
  [
    'every process RUNNING on the new release: up',
    live([proc(0, 'RUNNING', 10), proc(1, 'RUNNING', 11)]),
    {},
    { kind: 'up' },
  ],
  [
    'one still STARTING: waiting',
    live([proc(0, 'RUNNING', 10), proc(1, 'STARTING', 11)]),
    {},
    { kind: 'waiting', reason: /^d\.test-worker_01 starting$/ },
  ],
  [
    'BACKOFF is still waiting (supervisor retries)',
    live([proc(0, 'BACKOFF', undefined), proc(1, 'RUNNING', 11)]),
    {},
    { kind: 'waiting', reason: /worker_00 backoff/ },
  ],
  [
    'fewer processes than numprocs: waiting',
    live([proc(0, 'RUNNING', 10)]),
    {},
    { kind: 'waiting', reason: /^d\.test-worker: 1 of 2 process\(es\)$/ },
  ],
  [
    'FATAL fails at once',
    live([
      proc(0, 'FATAL', undefined, R2, 'Exited too quickly (process log may have details)'),
      proc(1, 'RUNNING', 11),
    ]),
    {},
    {
      kind: 'failed',
      reason: /^d\.test-worker_00 fatal: not RUNNING, supervisor gave up starting it \(Exited too quickly/,
    },
  ],
  [
    'RUNNING on the old release fails: not restarted',
    live([proc(0, 'RUNNING', 10, R1), proc(1, 'RUNNING', 11)]),
    {},
    { kind: 'failed', reason: /^d\.test-worker_00 runs release r1, not r2/ },
  ],
  [
    'a folder inside the release is the release',
    live([proc(0, 'RUNNING', 10, `${R2}/public`), proc(1, 'RUNNING', 11)]),
    {},
    { kind: 'up' },
  ],
  [
    '--restart none: the old release is accepted',
    live([proc(0, 'RUNNING', 10, R1), proc(1, 'RUNNING', 11, R1)]),
    { checkRelease: false },
    { kind: 'up' },
  ],
  [
    'current moved to another release meanwhile',
    live([proc(0, 'RUNNING', 10), proc(1, 'RUNNING', 11)], R1),
    {},
    { kind: 'failed', reason: /^current points to r1, not r2/ },
  ],
  [
    'a rollback check: any number of processes, whatever release current names',
    live([proc(0, 'RUNNING', 10, R1)], R1),
    { programs: [{ name: GROUP, numprocs: 0, startSecs: 0 }], release: null },
    { kind: 'up' },
  ],
  [
    'a rollback check: no process at all is waiting',
    live([], R1),
    { programs: [{ name: GROUP, numprocs: 0, startSecs: 0 }], release: null },
    { kind: 'waiting', reason: /its process/ },
  ],
]

for (const [name, state, options, expected] of VERDICTS) {
  test(`judgeProcesses: ${name}`, () => {
    const verdict = judgeProcesses(state, { ...OPTIONS, ...options })
    assert.is(verdict.kind, expected.kind, JSON.stringify(verdict))
    if (expected.reason && verdict.kind !== 'up') assert.match(verdict.reason, expected.reason)
  })
}

test('judgeHold: the same pids RUNNING hold; a restart, an exit or a vanished process break the hold', () => {
  const held = [proc(0, 'RUNNING', 10), proc(1, 'RUNNING', 11)]
  assert.is(judgeHold(live(held), held), null)
  assert.is(
    judgeHold(live([proc(0, 'RUNNING', 10), proc(1, 'RUNNING', 12)]), held),
    'd.test-worker_01 restarted during the hold (pid 11 → 12)',
  )
  assert.is(
    judgeHold(live([proc(0, 'EXITED', undefined), proc(1, 'RUNNING', 11)]), held),
    'd.test-worker_00 exited during the hold (was RUNNING, pid 10)',
  )
  assert.is(judgeHold(live([proc(0, 'RUNNING', 10)]), held), 'd.test-worker_01 disappeared during the hold')
})

const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex')
const CONF = MANAGED_FILES.find((spec) => spec.kind === 'conf')
const rendered = (path: string, content: string, program: string | null): RenderedFile => ({
  path,
  content,
  owner: 'root',
  group: 'root',
  mode: '0644',
  kind: 'conf',
  domain: 'd.test',
  program,
  updatesGroup: program !== null,
  readPath: path,
  template: 'supervisor/program.conf',
})
const liveFile = (path: string, content: string, program: string): LiveFile => ({
  path,
  content,
  owner: 'root',
  group: 'root',
  mode: '0600',
  sha256: sha(content),
  marker: { inventory: 'default', site: 'd.test', program, file: null },
  spec: CONF ?? null,
})

test('planRollback: changed files get their old bytes and mode, added ones go, removed ones come back; the same groups update', () => {
  const changed = '/etc/supervisor/conf.d/d.test-worker.conf'
  const added = '/etc/supervisor/conf.d/d.test-new.conf'
  const removed = '/etc/supervisor/conf.d/d.test-old.conf'
  const other = '/etc/supervisor/conf.d/e.test-worker.conf'
  const plan = {
    changes: [
      {
        kind: 'change',
        path: changed,
        before: liveFile(changed, 'old worker', 'worker'),
        after: rendered(changed, 'new worker', 'worker'),
      },
      { kind: 'add', path: added, after: rendered(added, 'new program', 'new') },
      { kind: 'remove', path: removed, before: liveFile(removed, 'old program', 'old'), reason: 'gone' },
    ],
    expected: new Map([
      [changed, sha('old worker')],
      [added, null],
      [removed, sha('old program')],
      [other, sha('another site')],
    ]),
    groups: ['d.test-worker', 'd.test-new', 'd.test-old'],
    directories: [{ path: '/home/deployer/sites/d.test', owner: 'deployer', group: 'deployer', mode: '0755' }],
    logs: ['/var/log/supervisor/d.test-worker.log'],
  } as unknown as SyncPlan
  const rollback = planRollback(plan)
  assert.equal(
    rollback.changes.map((c) => [c.kind, c.path, c.after?.content ?? null, c.after?.mode ?? null]),
    [
      ['change', changed, 'old worker', '0600'],
      ['remove', added, null, null],
      ['add', removed, 'old program', '0600'],
    ],
  )
  assert.equal(
    [...rollback.expected],
    [
      [changed, sha('new worker')],
      [added, sha('new program')],
      [removed, null],
      [other, sha('another site')],
    ],
    'the server as the sync left it',
  )
  assert.equal(rollback.groups, ['d.test-worker', 'd.test-new', 'd.test-old'])
  assert.equal([rollback.directories, rollback.logs, rollback.needsActivation], [[], [], true])
  assert.is(
    planRollback({ ...plan, changes: [] } as SyncPlan).needsActivation,
    false,
    'nothing applied, nothing to undo',
  )
})

test.run()
