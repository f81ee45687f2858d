import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type DeployEvent,
  deployServer,
  releasePrograms,
  type ServerDeployInput,
} from '../../lib/deploy/deploy-server.ts'
import { deploySite } from '../../lib/deploy/deploy-site.ts'
import type { ReleaseRestart } from '../../lib/deploy/restart.ts'
import { groupsOnNewRelease } from '../../lib/deploy/rollback.ts'
import { InputError, RemoteError } from '../../lib/errors.ts'
import type { AppliedStep } from '../../lib/fleet.ts'
import type { Session } from '../../lib/remote/connection.ts'
import type { DesiredState } from '../../lib/sync/desired.ts'
import type { ServerSyncResult } from '../../lib/sync/sync-server.ts'
import type { Program, Server, Site } from '../../lib/types.ts'
import { fakeConnection, WEB_1 } from '../helpers/fake-connection.ts'
import { inputError } from '../helpers/input-error.ts'

// One server's deploy without a server: which groups a rollback puts back, the site's programs as the gate sees
// them, and the steps before the switch (an interrupt, a bad release name, a failed upload) with a fake connection.

const program = (name: string, numprocs: number, startsecs?: number) =>
  ({ program: name, script: `${name}.sh`, numprocs, ...(startsecs === undefined ? {} : { startsecs }) }) as Program
const SITE = { domain: 'd.test', servers: ['web-1'], supervisors: [program('a', 2, 5), program('b', 1)] } as Site

test("releasePrograms: each program as its supervisor group, with its processes and startsecs (supervisor's default 1)", () => {
  assert.equal(releasePrograms(SITE), [
    { name: 'd.test-a', numprocs: 2, startSecs: 5 },
    { name: 'd.test-b', numprocs: 1, startSecs: 1 },
  ])
})

const PROGRAMS = [{ name: 'd-a' }, { name: 'd-b' }, { name: 'd-c' }]
const synced = (added: string[], updated: string[]) =>
  ({ activation: { update: { added, updated, removed: ['d-old'] } } }) as unknown as ServerSyncResult
const restarted = (groups: string[]) => ({ mode: 'all', bySync: [], restarted: groups, lines: [] }) as ReleaseRestart

const GROUPS: Array<[string, Parameters<typeof groupsOnNewRelease>[0], string[]]> = [
  ['the sync never ran (failed before it): nothing', { programs: PROGRAMS, mode: 'all' }, []],
  [
    'the sync ran, the restart step did not finish: every program (it may have restarted any)',
    { programs: PROGRAMS, mode: 'all', synced: synced([], []) },
    ['d-a', 'd-b', 'd-c'],
  ],
  [
    'the same with --restart none: only those the sync updated',
    { programs: PROGRAMS, mode: 'none', synced: synced(['d-c'], []) },
    ['d-c'],
  ],
  [
    'the restart finished: those it restarted and those the sync added or changed, once each',
    { programs: PROGRAMS, mode: 'one-by-one', synced: synced(['d-c'], ['d-a']), restart: restarted(['d-a', 'd-b']) },
    ['d-c', 'd-a', 'd-b'],
  ],
  [
    'the restart had nothing to restart and the sync changed no group: nothing',
    { programs: PROGRAMS, mode: 'all', synced: synced([], []), restart: restarted([]) },
    [],
  ],
]

for (const [name, input, groups] of GROUPS) {
  test(`groupsOnNewRelease, ${name}`, () => {
    assert.equal(groupsOnNewRelease(input), groups)
  })
}

function input(overrides: Partial<ServerDeployInput> = {}) {
  const applied: AppliedStep[] = []
  const events: DeployEvent[] = []
  const value: ServerDeployInput = {
    site: SITE,
    release: 'r2',
    appDir: '/tmp/app',
    batch: 1,
    desired: { programs: [] } as unknown as DesiredState,
    rollout: { restart: 'all' },
    waitSeconds: 60,
    holdSeconds: 5,
    keep: 5,
    lockWaitSeconds: 60,
    interrupted: new AbortController().signal,
    applied: (step, result) => applied.push({ step, result }),
    onEvent: (event) => events.push(event),
    ...overrides,
  }
  return { value, applied, events }
}

test('deployServer: interrupted before its turn, it sends nothing and says it was cut off at connect', async () => {
  const stop = new AbortController()
  stop.abort('SIGINT')
  const { connection, sent } = fakeConnection(() => ({}))
  const { value, events } = input({ interrupted: stop.signal, batch: 2 })
  assert.equal(await deployServer(connection, value), { outcome: 'interrupted', batch: 2, step: 'connect' })
  assert.equal(sent, [])
  assert.equal(events, [])
})

test('deployServer: a bad release name is an InputError before anything is sent', async () => {
  const { connection, sent } = fakeConnection(() => ({}))
  const error = await deployServer(connection, input({ release: '../evil' }).value).then(
    () => undefined,
    (e: unknown) => e,
  )
  const refused = inputError(() => {
    throw error
  })
  assert.is(refused.problems[0]?.field, 'release')
  assert.equal(sent, [])
})

test('deployServer: a failed upload fails the server before the switch: nothing to roll back, nothing recorded', async () => {
  const { connection, sent } = fakeConnection(() => ({
    exitCode: 1,
    stderr: 'install: cannot create directory: No space left on device',
  }))
  const { value, applied, events } = input()
  const error = await deployServer(connection, value).then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.instance(error, RemoteError)
  assert.match((error as Error).message, 'No space left on device')
  assert.is(sent.length, 1, 'only the directories were asked for')
  assert.equal(applied, [])
  assert.equal(events, [{ kind: 'started', batch: 1, release: 'r2' }])
})

test('deployServer: an interrupt during the upload is reported as the upload cut off, not as a failure', async () => {
  const stop = new AbortController()
  const { connection } = fakeConnection(() => {
    stop.abort('SIGINT')
    return { exitCode: 255, stderr: 'Connection closed' }
  })
  const result = await deployServer(connection, input({ interrupted: stop.signal }).value)
  assert.equal(result, { outcome: 'interrupted', batch: 1, step: 'upload' })
})

test('control: a good name gets past the checks to the upload (the fake rsync is reached)', async () => {
  const { connection, sent } = fakeConnection((argv) =>
    argv[0] === 'find' ? { exitCode: 1, stderr: 'find: permission denied' } : {},
  )
  const error = await deployServer(connection, input().value).then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.instance(error, RemoteError)
  assert.ok(
    sent.some((argv) => argv[0] === 'rsync' && argv[2] === '/home/deployer/sites/d.test/releases/r2'),
    JSON.stringify(sent),
  )
  assert.not.instance(error, InputError)
})

// [max-fail, batches started, servers never touched, rollout stopped after batch]
const ROLLOUTS: Array<[number, string[][], string[], number | null]> = [
  [0, [['web-1']], ['web-2', 'web-3'], 1],
  [5, [['web-1'], ['web-2', 'web-3']], [], null],
]

for (const [maxFailures, started, skipped, stoppedAfter] of ROLLOUTS) {
  test(`deploySite, every upload failing, --max-fail ${maxFailures}: batches ${JSON.stringify(started)}`, async () => {
    const servers = ['web-1', 'web-2', 'web-3'].map((name) => ({ ...WEB_1, name }))
    const connected: string[] = []
    const session: Session = {
      async connect(server) {
        connected.push(server.name)
        return fakeConnection(() => ({ exitCode: 1, stderr: 'No space left on device' }), server).connection
      },
      async closeAll() {},
    }
    const seen = { started: [] as string[][], done: [] as number[], events: [] as string[] }
    const { applied: _applied, onEvent: _onEvent, batch: _batch, desired: _desired, ...shared } = input().value
    const result = await deploySite(session, {
      ...shared,
      rollout: { batch: { count: 2 }, canary: 1, maxFailures, restart: 'all' },
      batches: [[servers[0] as Server], servers.slice(1)],
      desiredFor: () => ({ programs: [] }) as unknown as DesiredState,
      onBatchStarted: (batch) => seen.started.push(batch.map((s) => s.name)),
      onBatchDone: (batch) => seen.done.push(batch.number),
      onServerEvent: (server, event) => seen.events.push(`${server} ${event.kind}`),
    })
    assert.equal(seen.started, started)
    assert.equal(
      seen.done,
      started.map((_, index) => index + 1),
    )
    assert.equal(connected, started.flat(), 'a server of a batch that never started is never connected to')
    assert.equal(
      seen.events,
      started.flat().map((name) => `${name} started`),
    )
    assert.equal(
      result.skipped.map((s) => s.name),
      skipped,
    )
    assert.is(result.stoppedAfter, stoppedAfter)
    assert.is(result.failures, started.flat().length)
  })
}

test.run()
