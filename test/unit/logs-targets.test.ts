import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  availableServicesOn,
  checkFollowedServers,
  chooseSiteFlag,
  MAX_FOLLOWED_SERVERS,
  resolveLogServers,
  resolveLogTargets,
} from '../../lib/logs/targets.ts'
import type { Inventory, Server, Site } from '../../lib/types.ts'
import { inputError } from '../helpers/input-error.ts'
import { server, site } from '../helpers/inventory-data.ts'

// server-logs across servers: which servers --server (name, group, comma list) and --site choose, and what each of
// them reads for a --service list; all of it before any connection.

const INVENTORY: Inventory = {
  id: 'default',
  servers: [
    server('web-1', ['web']),
    server('web-2', ['web']),
    server('web-3', ['web']),
    server('db-1', ['db']),
    server('bare'),
  ],
  sites: [
    // The site lists its servers out of inventory order: output follows the inventory.
    site('app.test', ['web-3', 'web-1', 'web-2'], ['worker']),
    site('shop.test', ['web-2', 'db-1'], ['queue']),
    site('db.test', ['db-1'], ['backup']),
  ],
}
const names = (servers: Server[] | undefined) => servers?.map((s) => s.name)

const choices: Array<{ name: string; server?: string; site?: string; servers: string[]; site_?: string }> = [
  { name: 'one server', server: 'web-2', servers: ['web-2'] },
  { name: 'a group', server: 'web', servers: ['web-1', 'web-2', 'web-3'] },
  { name: 'a comma list, in inventory order', server: 'db-1, web-1', servers: ['web-1', 'db-1'] },
  {
    name: 'a group and a name, each server once',
    server: 'web-2,web,bare,',
    servers: ['web-1', 'web-2', 'web-3', 'bare'],
  },
  { name: '--site alone: every server of the site', site: 'app.test', servers: ['web-1', 'web-2', 'web-3'] },
  { name: '--site with a group: those of them on the site', server: 'web', site: 'shop.test', servers: ['web-2'] },
  { name: '--site with one server of it', server: 'db-1', site: 'shop.test', servers: ['db-1'] },
]
for (const c of choices) {
  test(`servers: ${c.name}`, () => {
    const chosen = resolveLogServers(INVENTORY, { server: c.server, site: c.site })
    assert.equal(names(chosen?.servers), c.servers)
    assert.is(chosen?.site?.domain, c.site)
  })
}

test('servers: neither --server nor --site is undefined (the task asks, or names the missing flag)', () => {
  assert.is(resolveLogServers(INVENTORY, {}), undefined)
})

const badChoices: Array<{
  name: string
  server?: string
  site?: string
  field: string
  values: unknown[]
  says: string[]
}> = [
  {
    name: 'every unknown name of a list at once',
    server: 'web-1,nope,web-9',
    field: '--server',
    values: ['nope', 'web-9'],
    says: ['a server (web-1, web-2, web-3, db-1, bare) or a group (web, db)', "Server 'web-9' not found"],
  },
  { name: 'a list of nothing', server: ' , ', field: '--server', values: [' , '], says: ['name at least one server'] },
  {
    name: 'an unknown site',
    site: 'nope.test',
    field: '--site',
    values: ['nope.test'],
    says: ['app.test, shop.test, db.test'],
  },
  {
    name: 'a site on none of a group',
    server: 'web',
    site: 'db.test',
    field: '--site',
    values: ['db.test'],
    says: ['a site on web-1, web-2, web-3', 'db.test is on db-1; drop --server to read every server of db.test'],
  },
  {
    name: 'a site not on the one server (as before)',
    server: 'web-1',
    site: 'db.test',
    field: '--site',
    values: ['db.test'],
    says: ['db.test is on db-1, not web-1; use --server db-1'],
  },
]
for (const c of badChoices) {
  test(`servers: ${c.name} is exit 2 on ${c.field}`, () => {
    const error = inputError(() => resolveLogServers(INVENTORY, { server: c.server, site: c.site }))
    assert.ok(error.problems.every((p) => p.field === c.field))
    assert.equal(
      error.problems.map((p) => p.value),
      c.values,
    )
    for (const text of c.says) assert.match(error.message, text)
  })
}

const byName = (list: string[]) => INVENTORY.servers.filter((s) => list.includes(s.name))
const appTest = INVENTORY.sites[0]!

test('targets: a program is read on the servers that run it; servers left with nothing are dropped', () => {
  const targets = resolveLogTargets(INVENTORY, byName(['web-1', 'web-2', 'db-1', 'bare']), 'supervisor:shop.test/queue')
  assert.equal(
    targets.map((t) => [t.server.name, t.sources.map((s) => s.service)]),
    [
      ['web-2', ['supervisor:shop.test/queue']],
      ['db-1', ['supervisor:shop.test/queue']],
    ],
  )
  const source = targets[0]!.sources[0]!
  assert.is(source.kind === 'program' && source.path, '/var/log/supervisor/shop.test-queue.log')
})

test("targets: all-supervisors is each server's daemon and programs; with --site, the site's programs only", () => {
  assert.equal(
    resolveLogTargets(INVENTORY, byName(['web-2', 'bare']), 'all-supervisors').map((t) => [
      t.server.name,
      t.sources.map((s) => s.service),
    ]),
    [
      ['web-2', ['supervisor', 'supervisor:app.test/worker', 'supervisor:shop.test/queue']],
      ['bare', ['supervisor']],
    ],
  )
  assert.equal(
    resolveLogTargets(INVENTORY, byName(['web-1', 'web-2', 'web-3']), 'all-supervisors', appTest).map((t) =>
      t.sources.map((s) => s.service),
    ),
    [['supervisor:app.test/worker'], ['supervisor:app.test/worker'], ['supervisor:app.test/worker']],
  )
})

test('targets: each source once per server, in the order asked', () => {
  const [target] = resolveLogTargets(
    INVENTORY,
    byName(['web-2', 'web-3']),
    'supervisor:shop.test/queue,all-supervisors,supervisor',
  )
  assert.equal(
    target?.sources.map((s) => s.service),
    ['supervisor:shop.test/queue', 'supervisor', 'supervisor:app.test/worker'],
  )
})

const badServices: Array<{ name: string; servers: string[]; services: string; site?: Site; says: string }> = [
  {
    name: 'a site on none of them',
    servers: ['web-1', 'web-3'],
    services: 'supervisor:db.test/backup',
    says: 'db.test is on db-1, not on web-1, web-3; use --site db.test',
  },
  {
    name: 'an unknown program',
    servers: ['web-1', 'web-2'],
    services: 'supervisor:app.test/nope',
    says: 'app.test has no program nope (it has worker)',
  },
  {
    name: 'all-supervisors of a site without programs there',
    servers: ['web-1', 'web-2'],
    services: 'all-supervisors',
    site: { domain: 'empty.test', servers: ['web-1', 'web-2'], supervisors: [] },
    says: 'none of web-1, web-2 has supervisor programs of empty.test',
  },
  {
    name: 'a misspelt service',
    servers: ['web-1', 'web-2'],
    services: 'nginx',
    says: 'write supervisor, audit, all-supervisors',
  },
  { name: 'nothing', servers: ['web-1', 'web-2'], services: ',', says: 'name at least one service' },
]
for (const c of badServices) {
  test(`targets: ${c.name} is exit 2 with what exists on those servers`, () => {
    const error = inputError(() => resolveLogTargets(INVENTORY, byName(c.servers), c.services, c.site))
    assert.ok(error.problems.every((p) => p.field === '--service'))
    assert.match(error.message, c.says)
    assert.match(error.problems[0]!.allowed, availableServicesOn(INVENTORY, byName(c.servers), c.site).join(', '))
  })
}

test('targets: on one server, exactly the one-server rules and messages', () => {
  const error = inputError(() => resolveLogTargets(INVENTORY, byName(['web-1']), 'supervisor:db.test/backup'))
  assert.match(error.message, 'db.test is on db-1, not web-1; use --server db-1')
})

test('available services on several servers: each once, in server order', () => {
  assert.equal(availableServicesOn(INVENTORY, byName(['web-1', 'web-2'])), [
    'supervisor',
    'audit',
    'all-supervisors',
    'supervisor:app.test/worker',
    'supervisor:shop.test/queue',
  ])
})

test(`--follow: up to ${MAX_FOLLOWED_SERVERS} servers; more is exit 2 before any connection`, () => {
  const targets = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ server: server(`s-${i}`), sources: [] }))
  checkFollowedServers(targets(MAX_FOLLOWED_SERVERS))
  const error = inputError(() => checkFollowedServers(targets(MAX_FOLLOWED_SERVERS + 1)))
  assert.is(error.problems[0]?.field, '--server')
  assert.match(error.message, 'at most 256 servers with --follow')
})

test('--domain is another name for --site: either one, both the same, never two different sites', () => {
  assert.equal(chooseSiteFlag({ site: 'a.test' }), { site: 'a.test', field: '--site' })
  assert.equal(chooseSiteFlag({ domain: 'a.test' }), { site: 'a.test', field: '--domain' })
  assert.equal(chooseSiteFlag({ site: 'a.test', domain: 'a.test' }), { site: 'a.test', field: '--site' })
  assert.equal(chooseSiteFlag({}), { field: '--site' })
  const error = inputError(() => chooseSiteFlag({ site: 'a.test', domain: 'b.test' }))
  assert.is(error.problems[0]?.field, '--domain')
  assert.match(error.message, 'the same domain as --site (a.test), or nothing')
})

test('messages about the site name the flag it came from', () => {
  const unknown = inputError(() => resolveLogServers(INVENTORY, { site: 'nope.test', siteField: '--domain' }))
  assert.match(unknown.message, '--domain: got "nope.test"')
  const elsewhere = inputError(() =>
    resolveLogServers(INVENTORY, { server: 'web', site: 'db.test', siteField: '--domain' }),
  )
  assert.match(elsewhere.message, '--domain: got "db.test"')
})

test.run()
