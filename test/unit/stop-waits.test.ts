import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseMarker } from '../../lib/layout.ts'
import type { RenderedFile } from '../../lib/render/program-files.ts'
import { runningStopWaits } from '../../lib/sync/activate.ts'
import type { FileChange } from '../../lib/sync/plan.ts'
import type { LiveFile } from '../../lib/sync/read-state.ts'

// While a sync waits for an old process to stop, it names the stopwaitsecs that process runs under: the one in the
// conf being replaced (marked by us, or hand-written and adopted), not the new conf's.

const CONF = '/etc/supervisor/conf.d/a.test-worker.conf'
const MARKED =
  '; zx-supervisor inventory=default site=a.test program=worker\n[program:a.test-worker]\nstopwaitsecs=60\n'
const HAND_WRITTEN =
  '[program:a.test-worker]\ncommand=/home/deployer/sites/a.test/runner.sh .deployer/supervisors/worker.sh\nstopwaitsecs=3600\nnumprocs=1\n'
const NEW = '; zx-supervisor inventory=default site=a.test program=worker\n[program:a.test-worker]\nstopwaitsecs=10\n'

function live(content: string): LiveFile {
  return {
    path: CONF,
    content,
    owner: 'root',
    group: 'root',
    mode: '0644',
    marker: parseMarker(content),
    spec: null,
    sha256: 'x',
  }
}

const rendered: RenderedFile = {
  path: CONF,
  content: NEW,
  owner: 'root',
  group: 'root',
  mode: '0600',
  kind: 'conf',
  domain: 'a.test',
  program: 'worker',
  updatesGroup: true,
  readPath: CONF,
  template: 'supervisor/program.conf',
}

const cases: Array<[string, FileChange[], Record<string, string>]> = [
  [
    'a change of our own conf: the old conf says',
    [{ kind: 'change', path: CONF, before: live(MARKED), after: rendered }],
    { 'a.test-worker': '60' },
  ],
  [
    'an adopted hand-written conf: the conf it replaces says',
    [{ kind: 'adopt', path: CONF, before: live(HAND_WRITTEN), after: rendered }],
    { 'a.test-worker': '3600' },
  ],
  [
    'a removed conf of ours',
    [{ kind: 'remove', path: CONF, before: live(MARKED), reason: 'gone' }],
    { 'a.test-worker': '60' },
  ],
  ['a new conf: nothing runs yet', [{ kind: 'add', path: CONF, after: rendered }], {}],
]

for (const [name, changes, expected] of cases) {
  test(`runningStopWaits: ${name}`, () => {
    assert.equal(Object.fromEntries(runningStopWaits({ changes })), expected)
  })
}

test.run()
