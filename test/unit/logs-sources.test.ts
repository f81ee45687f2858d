import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { availableServices, checkLines, findSiteOnServer, resolveLogSources } from '../../lib/logs/sources.ts'
import type { Inventory, Server } from '../../lib/types.ts'
import { inputError } from '../helpers/input-error.ts'
import { server, site } from '../helpers/inventory-data.ts'

// server-logs' inputs: --lines, --site and the --service list, good and bad, against a small inventory.

const INVENTORY: Inventory = {
  id: 'default',
  servers: [server('web-1'), server('web-2'), server('bare')],
  sites: [
    site('app.test', ['web-1'], ['worker', 'ws']),
    site('shop.test', ['web-1', 'web-2'], ['queue']),
    site('other.test', ['web-2'], ['x']),
    site('empty.test', ['bare'], []),
  ],
}
const web1 = INVENTORY.servers[0]!
const bare = INVENTORY.servers[2]!

const goodLines: Array<[unknown, number]> = [
  ['1', 1],
  ['50', 50],
  ['1000', 1000],
  ['007', 7],
  [' 12 ', 12],
  [25, 25],
]
for (const [value, expected] of goodLines) {
  test(`--lines ${JSON.stringify(value)} is ${expected}`, () => assert.is(checkLines(value), expected))
}

const badLines: Array<[unknown, string]> = [
  ['0', 'at least one line'],
  ['1001', 'cannot exceed 1000 lines'],
  ['99999', 'cannot exceed 1000 lines'],
  ['abc', 'for example --lines 50'],
  ['-5', 'for example'],
  ['1.5', 'for example'],
  ['1e3', 'for example'],
  ['', 'for example'],
  [undefined, 'for example'],
]
for (const [value, hint] of badLines) {
  test(`--lines ${JSON.stringify(value)} is refused, naming the flag and the value`, () => {
    const error = inputError(() => checkLines(value))
    assert.is(error.exitCode, 2)
    assert.is(error.problems[0]?.field, '--lines')
    assert.is(error.problems[0]?.value, value)
    assert.match(error.message, '--lines: got ')
    assert.match(error.message, 'a whole number from 1 to 1000')
    assert.match(error.message, hint)
    if (typeof value === 'string' && value) assert.match(error.message, JSON.stringify(value))
  })
}

const goodServices: Array<{ services: string; site?: string; expected: string[]; paths?: string[] }> = [
  { services: 'supervisor', expected: ['supervisor'] },
  { services: 'audit', expected: ['audit'], paths: ['/var/log/zx-supervisor/audit.log'] },
  { services: 'audit,supervisor,audit', expected: ['audit', 'supervisor'] },
  {
    services: 'supervisor:app.test/worker',
    expected: ['supervisor:app.test/worker'],
    paths: ['/var/log/supervisor/app.test-worker.log'],
  },
  {
    services: 'all-supervisors',
    expected: ['supervisor', 'supervisor:app.test/worker', 'supervisor:app.test/ws', 'supervisor:shop.test/queue'],
  },
  { services: ' supervisor:shop.test/queue , supervisor,, ', expected: ['supervisor:shop.test/queue', 'supervisor'] },
  {
    services: 'supervisor:app.test/ws,all-supervisors,supervisor',
    expected: ['supervisor:app.test/ws', 'supervisor', 'supervisor:app.test/worker', 'supervisor:shop.test/queue'],
  },
  // With --site, all-supervisors is that site's programs only: the daemon's log is the whole server's, asked by name.
  { services: 'all-supervisors', site: 'app.test', expected: ['supervisor:app.test/worker', 'supervisor:app.test/ws'] },
  {
    services: 'supervisor,all-supervisors',
    site: 'app.test',
    expected: ['supervisor', 'supervisor:app.test/worker', 'supervisor:app.test/ws'],
  },
  {
    services: 'supervisor:shop.test/queue',
    site: 'shop.test',
    expected: ['supervisor:shop.test/queue'],
    paths: ['/var/log/supervisor/shop.test-queue.log'],
  },
]
for (const c of goodServices) {
  test(`--service ${JSON.stringify(c.services)}${c.site ? ` --site ${c.site}` : ''} on web-1`, () => {
    const sources = resolveLogSources(
      INVENTORY,
      web1,
      c.services,
      c.site ? findSiteOnServer(INVENTORY, web1, c.site) : undefined,
    )
    assert.equal(
      sources.map((s) => s.service),
      c.expected,
    )
    if (c.paths)
      assert.equal(
        sources.map((s) => (s.kind === 'daemon' ? null : s.path)),
        c.paths,
      )
  })
}

const badServices: Array<{
  name: string
  server?: Server
  services: string
  site?: string
  bad: string[]
  hint: string
}> = [
  {
    name: 'an unknown service',
    services: 'nginx',
    bad: ['nginx'],
    hint: 'write supervisor, audit, all-supervisors or supervisor:<domain>/<program>',
  },
  {
    name: 'an unknown program',
    services: 'supervisor:app.test/nope',
    bad: ['supervisor:app.test/nope'],
    hint: 'app.test has no program nope (it has worker, ws)',
  },
  {
    name: 'an unknown domain',
    services: 'supervisor:nope.test/worker',
    bad: ['supervisor:nope.test/worker'],
    hint: 'no site nope.test in the inventory',
  },
  {
    name: 'a site on another server',
    services: 'supervisor:other.test/x',
    bad: ['supervisor:other.test/x'],
    hint: 'other.test is on web-2, not web-1; use --server web-2',
  },
  {
    name: 'a program outside --site',
    services: 'supervisor:shop.test/queue',
    site: 'app.test',
    bad: ['supervisor:shop.test/queue'],
    hint: '--site app.test shows only that site',
  },
  {
    name: 'no program name',
    services: 'supervisor:app.test',
    bad: ['supervisor:app.test'],
    hint: 'write supervisor:<domain>/<program>',
  },
  {
    name: 'too many slashes',
    services: 'supervisor:app.test/worker/x',
    bad: ['supervisor:app.test/worker/x'],
    hint: 'write supervisor:<domain>/<program>',
  },
  {
    name: 'every bad entry at once',
    services: 'supervisor,nginx,supervisor:app.test/nope',
    bad: ['nginx', 'supervisor:app.test/nope'],
    hint: 'Invalid service(s): nginx, supervisor:app.test/nope',
  },
  { name: 'nothing but commas', services: ' , ', bad: [' , '], hint: 'name at least one service' },
  {
    name: 'all-supervisors on a server without programs',
    server: bare,
    services: 'all-supervisors',
    bad: ['all-supervisors'],
    hint: 'bare has no supervisor programs in the inventory',
  },
]
for (const c of badServices) {
  test(`--service: ${c.name} is exit 2 with what exists`, () => {
    const on = c.server ?? web1
    const error = inputError(() =>
      resolveLogSources(INVENTORY, on, c.services, c.site ? findSiteOnServer(INVENTORY, on, c.site) : undefined),
    )
    assert.is(error.exitCode, 2)
    assert.equal(
      error.problems.map((p) => p.value),
      c.bad,
    )
    assert.ok(error.problems.every((p) => p.field === '--service'))
    assert.match(error.message, c.hint)
    assert.match(
      error.problems[0]!.allowed,
      availableServices(INVENTORY, on, c.site ? INVENTORY.sites.find((s) => s.domain === c.site) : undefined).join(
        ', ',
      ),
    )
  })
}

test('all-supervisors on a server without programs says "Invalid service(s): all-supervisors" and lists what exists', () => {
  const error = inputError(() => resolveLogSources(INVENTORY, bare, 'all-supervisors'))
  assert.match(error.message, 'Invalid service(s): all-supervisors')
  assert.equal(availableServices(INVENTORY, bare), ['supervisor', 'audit'])
  assert.match(error.message, 'allowed: one or more of supervisor, audit (comma-separated)')
})

test('available services: the daemon, the audit trail, all-supervisors when programs exist, each program', () => {
  assert.equal(availableServices(INVENTORY, web1), [
    'supervisor',
    'audit',
    'all-supervisors',
    'supervisor:app.test/worker',
    'supervisor:app.test/ws',
    'supervisor:shop.test/queue',
  ])
  assert.equal(availableServices(INVENTORY, web1, INVENTORY.sites[1]), [
    'supervisor',
    'audit',
    'all-supervisors',
    'supervisor:shop.test/queue',
  ])
})

test('--site on another server is exit 2 saying which servers it is on', () => {
  const error = inputError(() => findSiteOnServer(INVENTORY, web1, 'other.test'))
  assert.is(error.problems[0]?.field, '--site')
  assert.match(error.message, 'other.test is on web-2, not web-1')
  assert.match(error.message, 'a site on web-1 (app.test, shop.test)')
})

test('--site unknown is exit 2 listing the sites', () => {
  const error = inputError(() => findSiteOnServer(INVENTORY, web1, 'nope.test'))
  assert.is(error.problems[0]?.field, '--site')
  assert.match(error.message, 'app.test, shop.test, other.test, empty.test')
})

test.run()
