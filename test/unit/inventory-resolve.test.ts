import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  findProgram,
  findServer,
  findServers,
  findSite,
  groupNames,
  programUser,
  serversOfSite,
  siteRoot,
  sitesOnServer,
  siteUser,
} from '../../lib/inventory/resolve.ts'
import { validateInventory } from '../../lib/inventory/validate.ts'
import { fullName } from '../../lib/layout.ts'
import { inputError } from '../helpers/input-error.ts'

const { inventory, problems } = validateInventory({
  servers: [
    { name: 'web-1', host: '10.0.0.1', groups: ['web', 'eu'] },
    { name: 'web-2', host: '10.0.0.2', groups: ['web'], siteUser: 'app', sitesPath: '/srv/sites' },
    { name: 'db', host: '10.0.0.3' },
  ],
  sites: [
    {
      domain: 'example.com',
      server: ['web-2', 'web-1'],
      supervisors: [
        { program: 'worker', script: 'w.sh' },
        { program: 'mailer', script: 'm.sh', user: 'mail' },
      ],
    },
    { domain: 'blog.example.com', server: 'web-1', user: 'blog', root: '/var/www/blog' },
  ],
})
assert.equal(problems, [])
const [web1, web2] = inventory.servers as [
  (typeof inventory.servers)[0] & object,
  (typeof inventory.servers)[0] & object,
]
const [shop, blog] = inventory.sites as [(typeof inventory.sites)[0] & object, (typeof inventory.sites)[0] & object]

test('findSite returns the site or lists the known domains', () => {
  assert.is(findSite(inventory, 'blog.example.com'), blog)
  const error = inputError(() => findSite(inventory, 'nope.com'))
  assert.equal(error.problems, [
    {
      field: '--domain',
      value: 'nope.com',
      allowed: 'a domain from the inventory (example.com, blog.example.com)',
      hint: "Site 'nope.com' not found in inventory",
    },
  ])
  assert.is(inputError(() => findSite(inventory, 'x', 'domain')).problems[0]?.field, 'domain')
})

test('findServers takes a server name or a group name', () => {
  assert.equal(
    findServers(inventory, 'db').map((s) => s.name),
    ['db'],
  )
  assert.equal(
    findServers(inventory, 'web').map((s) => s.name),
    ['web-1', 'web-2'],
  )
  assert.equal(
    findServers(inventory, 'eu').map((s) => s.name),
    ['web-1'],
  )
  assert.equal(groupNames(inventory), ['web', 'eu'])
  const error = inputError(() => findServers(inventory, 'us'))
  assert.is(error.problems[0]?.allowed, 'a server (web-1, web-2, db) or a group (web, eu)')
  assert.is(error.problems[0]?.hint, "Server 'us' not found in inventory")
  assert.is(findServer(inventory, 'web-2'), web2)
  assert.match(inputError(() => findServer(inventory, 'web')).problems[0]?.allowed ?? '', /web-1, web-2, db/)
})

test('servers of a site and sites on a server', () => {
  assert.equal(
    serversOfSite(inventory, shop).map((s) => s.name),
    ['web-2', 'web-1'],
  )
  assert.equal(
    sitesOnServer(inventory, 'web-1').map((s) => s.domain),
    ['example.com', 'blog.example.com'],
  )
  assert.equal(sitesOnServer(inventory, 'db'), [])
})

test('site root and users fall back from program to site to server', () => {
  assert.is(siteRoot(web1, shop), '/home/deployer/sites/example.com')
  assert.is(siteRoot(web2, shop), '/srv/sites/example.com')
  assert.is(siteRoot(web1, blog), '/var/www/blog')
  assert.is(siteUser(web1, shop), 'deployer')
  assert.is(siteUser(web2, shop), 'app')
  assert.is(siteUser(web1, blog), 'blog')
  const [worker, mailer] = shop.supervisors as [
    (typeof shop.supervisors)[0] & object,
    (typeof shop.supervisors)[0] & object,
  ]
  assert.is(programUser(web2, shop, worker), 'app')
  assert.is(programUser(web2, shop, mailer), 'mail')
  assert.is(fullName(shop.domain, worker.program), 'example.com-worker')
})

test('findProgram returns the program or lists the site programs', () => {
  assert.is(findProgram(shop, 'mailer').script, 'm.sh')
  const error = inputError(() => findProgram(shop, 'sms'))
  assert.equal(error.problems, [
    {
      field: '--program',
      value: 'sms',
      allowed: 'a program of example.com (worker, mailer)',
      hint: "Supervisor program 'sms' not found",
    },
  ])
  assert.match(inputError(() => findProgram(blog, 'x')).problems[0]?.allowed ?? '', /none in the inventory/)
})

test.run()
