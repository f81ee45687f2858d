import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { validateInventory } from '../../lib/inventory/validate.ts'
import { resolveStatusScope } from '../../lib/status/scope.ts'
import { inputError } from '../helpers/input-error.ts'

// The scope status and the dashboard compare against: which servers, their desired states, and what cannot be read.

const TEMPLATES = new URL('../../templates/', import.meta.url).pathname
const { inventory } = validateInventory({
  servers: [
    { name: 'web-1', host: '203.0.113.10' },
    { name: 'web-2', host: '203.0.113.11' },
  ],
  sites: [
    {
      domain: 'a.test',
      server: 'web-1',
      supervisors: [
        { program: 'billing', script: 'billing.sh', environment: { API_TOKEN: { from_env: 'API_TOKEN' } } },
      ],
    },
    { domain: 'b.test', server: ['web-1', 'web-2'], supervisors: [{ program: 'mailer', script: 'mailer.sh' }] },
  ],
})
const names = (servers: { name: string }[]) => servers.map((s) => s.name)
const programsOn = (desired: { programs: { fullName: string }[] }) => desired.programs.map((p) => p.fullName).sort()

const cases: { target: { domain?: string; server?: string }; servers: string[]; onWeb1: string[] }[] = [
  { target: {}, servers: ['web-1', 'web-2'], onWeb1: ['a.test-billing', 'b.test-mailer'] },
  { target: { domain: 'a.test' }, servers: ['web-1'], onWeb1: ['a.test-billing'] },
  { target: { server: 'web-1' }, servers: ['web-1'], onWeb1: ['a.test-billing', 'b.test-mailer'] },
]
for (const { target, servers, onWeb1 } of cases) {
  test(`${JSON.stringify(target)}: servers ${servers.join(', ')}; web-1 compared with ${onWeb1.join(', ')}`, () => {
    const { scope, desiredFor } = resolveStatusScope(inventory, target, { env: {}, templatesDir: TEMPLATES })
    assert.equal(names(scope.servers), servers)
    assert.equal(programsOn(desiredFor(inventory.servers[0]!)), onWeb1)
    assert.is(scope.wholeServer, !target.domain)
  })
}

test('a from_env value this run cannot read is listed as unknown, not thrown (status compares around it)', () => {
  const unset = resolveStatusScope(inventory, {}, { env: {}, templatesDir: TEMPLATES })
  assert.equal(
    unset.unknown.map((u) => [u.program, u.variable, u.reason]),
    [['a.test-billing', 'API_TOKEN', 'unset']],
  )
  const set = resolveStatusScope(inventory, {}, { env: { API_TOKEN: 't0k3n-value' }, templatesDir: TEMPLATES })
  assert.equal(set.unknown, [])
})

test('an unknown --domain or --server is bad input, before anything is rendered', () => {
  for (const target of [{ domain: 'nope.test' }, { server: 'web-9' }]) {
    const error = inputError(() => resolveStatusScope(inventory, target, { env: {}, templatesDir: TEMPLATES }))
    assert.ok(
      error.problems.some((p) => p.value === (target.domain ?? target.server)),
      JSON.stringify(error.problems),
    )
  }
})

test.run()
