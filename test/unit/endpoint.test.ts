import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { describeEndpoint, resolveEndpoint } from '../../lib/remote/endpoint.ts'
import type { Server } from '../../lib/types.ts'

const CONFIG = `
Host web-*
  User deploy
  Port 2222
Host web-1
  HostName 10.0.0.11
Match exec "touch /tmp/zxs-match-exec-ran"
  HostName 10.9.9.9
`

const server = (host: string): Server => ({ name: 'web', host, port: 22, username: 'deployer', groups: [], siteUser: 'deployer', sitesPath: '/home/deployer/sites', local: false })

const CASES: Array<[string, string]> = [
  ['web-1', 'web-1 (10.0.0.11:22)'],
  ['203.0.113.10', '203.0.113.10:22'],
  ['db-1', 'db-1:22'],
]

for (const [host, expected] of CASES) {
  test(`describeEndpoint(${host})`, () => {
    assert.is(describeEndpoint(server(host), CONFIG), expected)
  })
}

test('the inventory port and user win over ~/.ssh/config (ssh gets them on its command line)', () => {
  const endpoint = resolveEndpoint(server('web-1'), CONFIG)
  assert.equal([endpoint.hostName, endpoint.port, endpoint.user], ['10.0.0.11', 22, 'deployer'])
})

test('Match exec lines are never executed to build a message', async () => {
  const fs = await import('node:fs')
  fs.rmSync('/tmp/zxs-match-exec-ran', { force: true })
  describeEndpoint(server('db-1'), CONFIG)
  assert.not.ok(fs.existsSync('/tmp/zxs-match-exec-ran'))
})

test('host: local has no endpoint to resolve', () => {
  assert.is(describeEndpoint({ ...server('local'), local: true }, CONFIG), 'local:22')
})

test.run()
