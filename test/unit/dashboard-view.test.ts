import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildView, gridShape } from '../../lib/dashboard/view.ts'
import { RemoteError } from '../../lib/errors.ts'
import type { ServerOutcome } from '../../lib/fleet.ts'
import type { ProcessWithRelease, ProgramStatus, ServerStatus } from '../../lib/status/summarize.ts'
import type { Inventory, Server } from '../../lib/types.ts'

// The status of each server → the dashboard's grid: cells per site × server with their worst state, badges and the
// summary bar. Table-driven over the states a program can be in.

const AT = new Date('2026-12-05T12:00:00Z')

function server(name: string, groups: string[] = []): Server {
  return { name, host: '127.0.0.9', groups, siteUser: 'deployer', sitesPath: '/home/deployer/sites', local: false }
}

function proc(name: string, state: string, extra: Partial<ProcessWithRelease> = {}): ProcessWithRelease {
  return {
    name: `app.test-worker:${name}`,
    group: 'app.test-worker',
    process: name,
    state,
    description: '',
    release: 'r1',
    stale: false,
    ...extra,
  }
}

function program(processes: ProcessWithRelease[], extra: Partial<ProgramStatus> = {}): ProgramStatus {
  return {
    domain: 'app.test',
    program: 'worker',
    fullName: 'app.test-worker',
    expected: 2,
    processes,
    running: processes.filter((p) => p.state === 'RUNNING').length,
    drift: [],
    ...extra,
  }
}

function status(programs: ProgramStatus[], extra: Partial<ServerStatus> = {}): ServerStatus {
  return { daemon: 'running', programs, siteDrift: [], leftovers: [], unknown: [], healthy: true, ...extra }
}

const ok = (name: string, value: ServerStatus): ServerOutcome<ServerStatus> => ({
  server: server(name, ['web']),
  ok: true,
  value,
  applied: [],
})
const SHAPE = { sites: [{ domain: 'app.test', servers: ['web-1'] }] }
const running = [proc('app.test-worker_00', 'RUNNING', { pid: 10 }), proc('app.test-worker_01', 'RUNNING')]

const CELLS: Array<
  [string, ServerOutcome<ServerStatus>, string, boolean, Partial<Record<'stale' | 'drift', boolean>>?]
> = [
  ['every process running', ok('web-1', status([program(running)])), 'RUNNING', false],
  [
    'one stopped by hand',
    ok('web-1', status([program([running[0]!, proc('app.test-worker_01', 'STOPPED')])])),
    'STOPPED',
    true,
  ],
  [
    'FATAL beats STOPPED',
    ok(
      'web-1',
      status([program([proc('a_00', 'STOPPED'), proc('a_01', 'FATAL', { spawnerr: 'Exited too quickly' })])]),
    ),
    'FATAL',
    true,
  ],
  ['a group supervisor does not know', ok('web-1', status([program([])])), 'NOT LOADED', true],
  [
    'drift alone is a problem',
    ok('web-1', status([program(running, { drift: ['/etc/supervisor/conf.d/x.conf differs'] })])),
    'RUNNING',
    true,
    { drift: true },
  ],
  [
    'a process on an old release',
    ok(
      'web-1',
      status([program([running[0]!, proc('app.test-worker_01', 'RUNNING', { stale: true, release: 'r0' })])]),
    ),
    'RUNNING',
    true,
    { stale: true },
  ],
  ['supervisord down', ok('web-1', status([program([])], { daemon: 'down', healthy: false })), 'DAEMON DOWN', true],
  [
    'unreachable',
    {
      server: server('web-1'),
      ok: false,
      error: new RemoteError('web-1', 'connection refused', '', 'UNREACHABLE'),
      applied: [],
    },
    'UNREACHABLE',
    true,
  ],
]

for (const [name, outcome, state, problem, badges = {}] of CELLS) {
  test(`buildView: ${name} → ${state}${problem ? ', a problem' : ''}`, () => {
    const view = buildView(SHAPE, [outcome], { at: AT, allowControl: false })
    const cell = view.cells[0]!
    assert.is(cell.state, state)
    assert.is(cell.problem, problem)
    assert.is(view.summary.problems > 0, problem)
    assert.is(cell.programs[0]?.stale ?? false, Boolean(badges.stale))
    assert.is((cell.programs[0]?.drift.length ?? 0) > 0, Boolean(badges.drift))
  })
}

test('buildView: the note of a process that gave up carries supervisor reason and its last log line', () => {
  const fatal = proc('a_00', 'FATAL', { spawnerr: 'Exited too quickly', lastLog: 'no database' })
  const view = buildView(SHAPE, [ok('web-1', status([program([fatal])]))], { at: AT, allowControl: true })
  assert.is(view.cells[0]!.programs[0]!.processes[0]!.note, 'Exited too quickly; last log line: no database')
  assert.is(view.allowControl, true)
  assert.is(view.at, AT.toISOString())
})

test('buildView: the summary counts servers reached, processes running and wanted, problems', () => {
  const shape = {
    sites: [
      { domain: 'app.test', servers: ['web-1', 'web-2', 'web-3'] },
      { domain: 'other.test', servers: ['web-1'] },
    ],
  }
  const other = program([proc('o_00', 'RUNNING')], {
    domain: 'other.test',
    program: 'o',
    fullName: 'other.test-o',
    expected: 1,
  })
  const view = buildView(
    shape,
    [
      ok('web-1', status([program(running), other], { leftovers: [{ path: '/x', reason: 'gone' }] })),
      ok('web-2', status([program([running[0]!])])),
      {
        server: server('web-3'),
        ok: false,
        error: new RemoteError('web-3', 'timed out', '', 'UNREACHABLE'),
        applied: [],
      },
    ],
    { at: AT, allowControl: false },
  )
  assert.equal(view.summary, { servers: 3, reached: 2, running: 4, wanted: 5, problems: 3 })
  assert.equal(
    view.cells.map((c) => `${c.domain}@${c.server}:${c.state}${c.problem ? '!' : ''}`),
    ['app.test@web-1:RUNNING', 'app.test@web-2:RUNNING!', 'app.test@web-3:UNREACHABLE!', 'other.test@web-1:RUNNING'],
    'a program short of processes (1/2) is a problem even when those it has run',
  )
  assert.is(view.cells.find((c) => c.domain === 'other.test')?.programs.length, 1, 'a cell holds its own site only')
  assert.equal(
    view.servers.map((s) => [s.name, s.reached, s.leftovers.length]),
    [
      ['web-1', true, 1],
      ['web-2', true, 0],
      ['web-3', false, 0],
    ],
  )
  assert.match(view.servers[2]!.error ?? '', /^UNREACHABLE: timed out/)
})

test('gridShape: the sites on the watched servers, in inventory order; --domain narrows to one', () => {
  const inventory = {
    sites: [
      { domain: 'a.test', servers: ['web-1', 'web-2'] },
      { domain: 'b.test', servers: ['web-3'] },
      { domain: 'c.test', servers: ['web-2'] },
    ],
  } as unknown as Inventory
  const watched = [server('web-2'), server('web-1')]
  assert.equal(gridShape(inventory, watched).sites, [
    { domain: 'a.test', servers: ['web-1', 'web-2'] },
    { domain: 'c.test', servers: ['web-2'] },
  ])
  assert.equal(gridShape(inventory, watched, 'c.test').sites, [{ domain: 'c.test', servers: ['web-2'] }])
})

test.run()
