import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatPlanDiff, planSync } from '../../lib/sync/plan.ts'
import { desiredOn, type FakeLive, type FakeSite, liveState, syncedFiles } from '../helpers/fake-server.ts'

// What --dry-run shows: formatPlanDiff of plans against fake servers, compared with expected files. Values here
// are literals in the clear (test/unit/plan-values.test.ts covers the fingerprinted ones).
// UPDATE_GOLDEN=1 rewrites the expected files; review the diff before keeping it.

const EXPECTED = fileURLToPath(new URL('../fixtures/plan-diff/', import.meta.url))
const UPDATE = process.env.UPDATE_GOLDEN === '1'

const W: FakeSite = { domain: 'a.test', supervisors: [{ program: 'w', environment: { QUEUE: 'high' } }] }
const W_CHANGED: FakeSite = {
  domain: 'a.test',
  supervisors: [{ program: 'w', numprocs: 2, environment: { QUEUE: 'low', RATE: '5' } }],
}
const W_AND_API: FakeSite = {
  domain: 'a.test',
  supervisors: [...W.supervisors, { program: 'api', autorestart: 'unexpected', stopwaitsecs: 30 }],
}
const API: FakeSite = { domain: 'a.test', supervisors: [{ program: 'api' }] }
const API_AND_W: FakeSite = { domain: 'a.test', supervisors: [{ program: 'api' }, { program: 'w' }] }
const files = syncedFiles(desiredOn([W]))
const HAND_WRITTEN = '[program:a.test-w]\ncommand=php artisan queue:work\nnumprocs=1\n'
const CONF = '/etc/supervisor/conf.d/a.test-w.conf'
const LOGROTATE = '/etc/logrotate.d/supervisor-a.test-w.conf'
const withFile = (path: string, change: Partial<(typeof files)[number]>) =>
  files.map((f) => (f.path === path ? { ...f, ...change } : f))

const cases: Array<{ name: string; want: FakeSite; live: FakeLive; adopt?: boolean }> = [
  { name: 'nothing-to-do', want: W, live: { files } },
  { name: 'program-changed', want: W_CHANGED, live: { files } },
  { name: 'program-added', want: W_AND_API, live: { files } },
  { name: 'program-removed', want: API, live: { files: syncedFiles(desiredOn([API_AND_W])) } },
  { name: 'mode-only', want: W, live: { files: withFile(LOGROTATE, { mode: '0600', owner: 'deployer' }) } },
  {
    name: 'adopted',
    want: W,
    adopt: true,
    live: { files: withFile(CONF, { mode: '0644', content: HAND_WRITTEN }) },
  },
]

for (const { name, want, live, adopt } of cases) {
  test(`formatPlanDiff matches the expected diff: ${name}`, () => {
    const diff = formatPlanDiff(planSync(desiredOn([want]), liveState(live), { adopt: adopt ?? false }))
    const expectedPath = join(EXPECTED, `${name}.diff`)
    if (UPDATE || !existsSync(expectedPath)) {
      assert.ok(UPDATE, `${expectedPath} is missing: run with UPDATE_GOLDEN=1 and review it`)
      mkdirSync(EXPECTED, { recursive: true })
      writeFileSync(expectedPath, diff)
    }
    assert.fixture(diff, readFileSync(expectedPath, 'utf8'))
  })
}

test.run()
