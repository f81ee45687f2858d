import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { summarizeStatus } from '../../lib/status/summarize.ts'
import { desiredOn, type FakeLive, type FakeSite, liveState, processOf, syncedFiles } from '../helpers/fake-server.ts'

// summarizeStatus on fake servers: each program's processes and every way it differs from the inventory (drift),
// the site files' drift, our leftovers, the release each process runs, and programs the inventory does not know.

const CONF = '/etc/supervisor/conf.d/a.test-w.conf'
const LOGROTATE = '/etc/logrotate.d/supervisor-a.test-w.conf'
const RUNNER = '/home/deployer/sites/a.test/runner.sh'
const CURRENT = '/home/deployer/sites/a.test/current'
const RELEASES = '/home/deployer/sites/a.test/releases'
const DIFFERS = 'differs from the inventory (edited by hand, or the inventory changed since the last sync)'
const NO_MARKER = 'no zx-supervisor marker (written by hand or by another tool)'

const W: FakeSite = { domain: 'a.test', supervisors: [{ program: 'w', numprocs: 2, environment: { QUEUE: 'high' } }] }
const W_AND_GONE: FakeSite = { domain: 'a.test', supervisors: [...W.supervisors, { program: 'gone' }] }

const desired = desiredOn([W])
const files = syncedFiles(desired)
const running = [processOf('a.test-w', 0), processOf('a.test-w', 1)]
const onRelease = (release: string) => running.map((p) => ({ ...p, releasePath: `${RELEASES}/${release}` }))

/** The synced files, with one changed. */
function withFile(path: string, change: (file: (typeof files)[number]) => Partial<(typeof files)[number]>) {
  assert.ok(
    files.some((f) => f.path === path),
    `the server holds ${path}`,
  )
  return files.map((f) => (f.path === path ? { ...f, ...change(f) } : f))
}

/** A server that matches the inventory, its processes on the release `current` points to, with `fake` on top. */
const server = (fake: FakeLive = {}) =>
  liveState({ files, processes: onRelease('r2'), currents: { [CURRENT]: `${RELEASES}/r2` }, ...fake })

interface StatusCase {
  name: string
  live: ReturnType<typeof liveState>
  listUnknown?: boolean
  drift?: string[]
  siteDrift?: string[]
  leftovers?: Array<[string, string]>
  unknown?: string[]
  running?: number
  healthy: boolean
}

const cases: StatusCase[] = [
  {
    name: 'a server that matches the inventory, every process RUNNING on the current release',
    live: server(),
    healthy: true,
  },
  {
    name: 'a process not RUNNING: unhealthy, though nothing drifts',
    live: server({ processes: [running[0]!, processOf('a.test-w', 1, 'FATAL')] }),
    running: 1,
    healthy: false,
  },
  {
    name: 'a conf never synced',
    live: server({ files: files.filter((f) => f.path !== CONF) }),
    drift: [`${CONF} is missing (never synced?)`],
    healthy: false,
  },
  {
    name: 'a conf edited by hand: the variables that differ, server → inventory',
    live: server({ files: withFile(CONF, (f) => ({ content: f.content.replace('QUEUE="high"', 'QUEUE="low"') })) }),
    drift: [`${CONF} ${DIFFERS}; environment (server → inventory): QUEUE low → high`],
    healthy: false,
  },
  {
    name: 'a logrotate file with another owner and mode',
    live: server({ files: withFile(LOGROTATE, () => ({ owner: 'deployer', mode: '0666' })) }),
    drift: [`${LOGROTATE} has owner/mode deployer:root 0666, expected root:root 0644`],
    healthy: false,
  },
  {
    name: 'an unmarked file where our conf belongs',
    live: server({ files: withFile(CONF, () => ({ content: '[program:a.test-w]\ncommand=/bin/true\n' })) }),
    drift: [`${CONF} is not ours (owner: ${NO_MARKER}); sync refuses it unless --adopt`],
    healthy: false,
  },
  {
    name: "another inventory's conf where ours belongs: no --adopt offered",
    live: server({ files: withFile(CONF, (f) => ({ content: f.content.replace('=default', '=blog') })) }),
    drift: [`${CONF} is not ours (owner: inventory 'blog', site a.test, program w); sync refuses it`],
    healthy: false,
  },
  {
    name: 'supervisor has not applied the conf on disk yet',
    live: server({ pending: { 'a.test-w': 'changed' } }),
    drift: ['supervisor has not applied the conf on disk yet (reread: changed); run supervisor-sync'],
    healthy: false,
  },
  {
    name: 'more processes than numprocs: the extra ones named',
    live: server({ processes: [...onRelease('r2'), { ...processOf('a.test-w', 2), releasePath: `${RELEASES}/r2` }] }),
    drift: ['1 process(es) more than numprocs 2: a.test-w_02'],
    running: 3,
    healthy: false,
  },
  {
    name: 'processes on an older release than current: stale, with the restart to run',
    live: server({ processes: onRelease('r1') }),
    drift: [
      'a.test-w_00 runs release r1, a.test-w_01 runs release r1, not the current r2: ' +
        'restart to pick up the deploy (supervisor-restart --domain a.test --program w)',
    ],
    healthy: false,
  },
  {
    name: 'a process in a folder inside the current release (no release in its environment) is not stale',
    live: server({ processes: running.map((p) => ({ ...p, cwd: `${RELEASES}/r2/workers` })) }),
    healthy: true,
  },
  {
    name: 'a stopped process is not stale, whatever release it last ran',
    live: server({
      processes: [
        { ...running[0]!, releasePath: `${RELEASES}/r2` },
        { ...processOf('a.test-w', 1, 'STOPPED'), releasePath: `${RELEASES}/r1` },
      ],
    }),
    running: 1,
    healthy: false,
  },
  {
    name: 'no current release yet: nothing is stale',
    live: server({ currents: { [CURRENT]: null }, processes: onRelease('r1') }),
    healthy: true,
  },
  {
    name: 'runner.sh edited by hand: site drift',
    live: server({ files: withFile(RUNNER, (f) => ({ content: `${f.content}# edited\n` })) }),
    siteDrift: [`${RUNNER} ${DIFFERS}`],
    healthy: false,
  },
  {
    name: 'files of a program the inventory dropped: leftovers',
    live: server({ files: syncedFiles(desiredOn([W_AND_GONE])) }),
    leftovers: [
      ['/etc/supervisor/conf.d/a.test-gone.conf', 'program gone is no longer in the inventory for a.test'],
      ['/etc/logrotate.d/supervisor-a.test-gone.conf', 'program gone is no longer in the inventory for a.test'],
    ],
    healthy: false,
  },
  {
    name: 'programs the inventory does not know, when asked for: listed, health unaffected',
    live: server({ processes: [...onRelease('r2'), processOf('legacy', 0), processOf('cron', 0, 'EXITED')] }),
    listUnknown: true,
    unknown: ['legacy', 'cron'],
    healthy: true,
  },
  {
    name: 'programs the inventory does not know, not asked for: not listed',
    live: server({ processes: [...onRelease('r2'), processOf('legacy', 0)] }),
    healthy: true,
  },
  {
    name: 'supervisord down: unhealthy',
    live: server({ daemon: { running: false, message: 'no socket' }, processes: [] }),
    running: 0,
    healthy: false,
  },
]

for (const c of cases) {
  test(`summarizeStatus: ${c.name}`, () => {
    const status = summarizeStatus(desired, c.live, { listUnknown: c.listUnknown ?? false })
    const [program] = status.programs
    assert.equal(
      status.programs.map((p) => [p.fullName, p.expected]),
      [['a.test-w', 2]],
    )
    assert.equal(program?.drift, c.drift ?? [])
    assert.is(program?.running, c.running ?? 2)
    assert.equal(status.siteDrift, c.siteDrift ?? [])
    assert.equal(
      status.leftovers.map((l) => [l.path, l.reason]),
      c.leftovers ?? [],
    )
    assert.equal(
      status.unknown.map((u) => u.group),
      c.unknown ?? [],
    )
    assert.is(status.healthy, c.healthy)
  })
}

const HANDMADE = '/etc/supervisor/conf.d/handmade.conf'
const handmade = (content: string) => ({ path: HANDMADE, content, owner: 'root', group: 'root', mode: '0644' })
const ORIGINAL = '; by hand\n[program:worker]\ncommand=/bin/sleep 100\n'
const STILL_DEFINES = `imported original ${HANDMADE} still defines worker: supervisor runs both; run supervisor-sync --domain a.test --adopt`

/** Status of a.test-w imported from handmade.conf, on a server that holds `extra` beside the synced files. */
function importedStatus(extra: Array<ReturnType<typeof handmade>>, importedFrom = HANDMADE) {
  const imported = desiredOn([
    { domain: 'a.test', supervisors: [{ ...W.supervisors[0]!, imported_from: importedFrom }] },
  ])
  const live = liveState({
    files: [...syncedFiles(imported), ...extra],
    processes: onRelease('r2'),
    currents: { [CURRENT]: `${RELEASES}/r2` },
  })
  return summarizeStatus(imported, live, { listUnknown: false })
}

test('summarizeStatus: an imported original still on the server, defining its program, is drift naming the fix', () => {
  const status = importedStatus([handmade(ORIGINAL)])
  assert.equal(status.programs[0]?.drift, [STILL_DEFINES])
  assert.is(status.healthy, false)
  const two = importedStatus([handmade(`${ORIGINAL}[program:other]\ncommand=/bin/true\n`)])
  assert.equal(status.programs[0]?.drift, [STILL_DEFINES])
  assert.match(two.programs[0]?.drift[0] ?? '', `still defines worker, other: supervisor runs both`)
})

test('summarizeStatus: an imported original that is gone, ours, defines no program, or is our own path is no drift', () => {
  assert.equal(importedStatus([]).programs[0]?.drift, [])
  assert.is(importedStatus([]).healthy, true)
  const marker = files.find((f) => f.path === CONF)?.content.split('\n')[0]
  const marked = `${marker}\n${ORIGINAL}`
  assert.equal(importedStatus([handmade(marked)]).programs[0]?.drift, [])
  assert.equal(importedStatus([handmade('; emptied by hand\n')]).programs[0]?.drift, [])
  // Imported in place (DeployerPHP's path): the adopting sync rewrote that file; nothing more to remove.
  assert.is(importedStatus([], CONF).healthy, true)
})

test('summarizeStatus: each process carries the release it runs and whether that is stale', () => {
  const processes = [
    { ...running[0]!, releasePath: `${RELEASES}/r1` },
    { ...running[1]!, cwd: `${RELEASES}/r2/` },
  ]
  const status = summarizeStatus(desired, server({ processes }), { listUnknown: false })
  assert.equal(
    status.programs[0]?.processes.map((p) => [p.process, p.release, p.stale]),
    [
      ['a.test-w_00', 'r1', true],
      ['a.test-w_01', 'r2', false],
    ],
  )
})

test('summarizeStatus: an unknown program lists its processes; the daemon state is named', () => {
  const processes = [...onRelease('r2'), processOf('legacy', 0), processOf('legacy', 1)]
  const status = summarizeStatus(desired, server({ processes }), { listUnknown: true })
  assert.is(status.daemon, 'running')
  const unknown = status.unknown.map((u) => [u.group, u.processes.map((p) => p.process)])
  assert.equal(unknown, [['legacy', ['legacy_00', 'legacy_01']]])
  assert.is(summarizeStatus(desired, server({ daemon: { running: false } }), { listUnknown: false }).daemon, 'down')
})

test.run()
