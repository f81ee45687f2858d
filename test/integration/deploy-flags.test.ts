import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deploy } from '../../tasks/deploy.mjs'
import { unreachableSite } from '../helpers/unreachable-site.ts'

// The counterpart of test/unit/deploy-options.test.ts, which checks that bad rollout flags stop a deploy before any
// server is contacted: valid ones get past the checks to the servers. It spawns ssh, so it is no unit test.

test('valid rollout flags get past the checks to the servers (unreachable here: exit 1, not 2)', async () => {
  const site = await unreachableSite()
  try {
    const flags = { batch: '1', canary: 1, maxFail: '1', restart: 'one-by-one', hold: 1, healthCmd: 'true' }
    const { exitCode, result } = await deploy.call({ ...site.base, ...flags })
    assert.is(exitCode, 1, JSON.stringify(result))
    const servers = (result as { servers: Array<{ server: string; outcome: string; reason?: string }> }).servers
    // The canary and batch 2 failed; past --max-fail 1 the rollout stops before batch 3.
    assert.equal(
      servers.map((s) => s.outcome),
      ['failed', 'failed', 'not-deployed'],
    )
    assert.match(servers[0]?.reason ?? '', 'connection refused by 127.0.0.254:2')
  } finally {
    await site.remove()
  }
})

test.run()
