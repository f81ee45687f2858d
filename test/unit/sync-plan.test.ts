import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteError } from '../../lib/errors.ts'
import type { DesiredState } from '../../lib/sync/desired.ts'
import { assertNothingRefused, filesToUpload, leftoverReason, planSync, type SyncPlan } from '../../lib/sync/plan.ts'
import type { LiveFile, LiveState } from '../../lib/sync/read-state.ts'
import { desiredOn, type FakeSite, liveFile, liveState, syncedFiles } from '../helpers/fake-server.ts'
import { thrown } from '../helpers/input-error.ts'

// planSync on fake servers: what a sync adds, changes, adopts, removes and refuses, and which supervisor groups it
// updates, for each way a server can differ from the inventory. No server, no root: the plan is pure.

const conf = (name: string) => `/etc/supervisor/conf.d/${name}.conf`
const logrotate = (name: string) => `/etc/logrotate.d/supervisor-${name}.conf`
const runner = (domain: string) => `/home/deployer/sites/${domain}/runner.sh`

const A: FakeSite = { domain: 'a.test', supervisors: [{ program: 'w', environment: { QUEUE: 'high' } }] }
const A_TWO_PROCS: FakeSite = {
  domain: 'a.test',
  supervisors: [{ program: 'w', environment: { QUEUE: 'high' }, numprocs: 2 }],
}
const A_WITH_GONE: FakeSite = { domain: 'a.test', supervisors: [...A.supervisors, { program: 'gone' }] }
const B: FakeSite = { domain: 'b.test', supervisors: [{ program: 'x' }] }
const withEnvironment = (environment: Record<string, unknown>): FakeSite => ({
  domain: 'a.test',
  supervisors: [{ program: 'w', environment }],
})

const synced = (sites: FakeSite[], inventoryId = 'default') => syncedFiles(desiredOn(sites, { inventoryId }))
const UNMARKED = '[program:a.test-w]\ncommand=/usr/bin/php artisan queue:work\n'
const UNMARKED_CONF = {
  path: conf('a.test-w'),
  content: UNMARKED,
  owner: 'root',
  group: 'root',
  mode: '0644',
  kind: 'conf',
}
const NO_MARKER = 'no zx-supervisor marker (written by hand or by another tool)'

type FileChange = Partial<{ content: string; mode: string; owner: string }>

/** A server synced with site A, then one of its files changed (a text edit must find what it replaces). */
function afterEdit(path: string, change: FileChange | { replace: string; by: string }) {
  const files = synced([A])
  const file = files.find((f) => f.path === path)
  assert.ok(file, `the server holds ${path}`)
  if ('replace' in change) assert.ok(file?.content.includes(change.replace), `${path} holds ${change.replace}`)
  const edit = 'replace' in change ? { content: file?.content.replace(change.replace, change.by) } : change
  return liveState({ files: files.map((f) => (f.path === path ? { ...f, ...edit } : f)) })
}

interface PlanCase {
  name: string
  desired: DesiredState
  live: LiveState
  adopt?: boolean
  /** [kind, path] of every change, in plan order; removals also give their reason. */
  changes: Array<[string, string] | [string, string, string]>
  refused?: Array<[string, string]>
  groups: string[]
  removedPrograms?: string[]
  needsActivation: boolean
}

const cases: PlanCase[] = [
  {
    name: 'a server with nothing of ours: every file is added and the group updated',
    desired: desiredOn([A]),
    live: liveState(),
    changes: [
      ['add', runner('a.test')],
      ['add', conf('a.test-w')],
      ['add', logrotate('a.test-w')],
    ],
    groups: ['a.test-w'],
    needsActivation: true,
  },
  {
    name: 'a server that holds what the inventory renders: nothing to do',
    desired: desiredOn([A]),
    live: liveState({ files: synced([A]) }),
    changes: [],
    groups: [],
    needsActivation: false,
  },
  {
    name: 'files in place, but supervisor has not applied our conf yet: only our pending group is updated',
    desired: desiredOn([A]),
    live: liveState({ files: synced([A]), pending: { 'a.test-w': 'changed', 'someone-else': 'available' } }),
    changes: [],
    groups: ['a.test-w'],
    needsActivation: true,
  },
  {
    name: 'the inventory changed a program: its conf changes and its group is updated',
    desired: desiredOn([A_TWO_PROCS]),
    live: liveState({ files: synced([A]) }),
    changes: [['change', conf('a.test-w')]],
    groups: ['a.test-w'],
    needsActivation: true,
  },
  {
    name: 'a conf edited by hand is put back',
    desired: desiredOn([A]),
    live: afterEdit(conf('a.test-w'), { replace: 'QUEUE="high"', by: 'QUEUE="low"' }),
    changes: [['change', conf('a.test-w')]],
    groups: ['a.test-w'],
    needsActivation: true,
  },
  {
    name: 'a conf whose mode was changed: changed, though its bytes are the same',
    desired: desiredOn([A]),
    live: afterEdit(conf('a.test-w'), { mode: '0644' }),
    changes: [['change', conf('a.test-w')]],
    groups: ['a.test-w'],
    needsActivation: true,
  },
  {
    name: 'only the logrotate file differs: changed, no supervisor group to update',
    desired: desiredOn([A]),
    live: afterEdit(logrotate('a.test-w'), { owner: 'deployer' }),
    changes: [['change', logrotate('a.test-w')]],
    groups: [],
    needsActivation: true,
  },
  {
    name: 'runner.sh edited by hand: changed, no group to update',
    desired: desiredOn([A]),
    live: afterEdit(runner('a.test'), { replace: 'set -eu\n', by: 'set -eu\necho hacked\n' }),
    changes: [['change', runner('a.test')]],
    groups: [],
    needsActivation: true,
  },
  {
    name: 'a marker written before inventories had ids is ours: the file is upgraded',
    desired: desiredOn([A]),
    live: afterEdit(conf('a.test-w'), { replace: ' inventory=default', by: '' }),
    changes: [['change', conf('a.test-w')]],
    groups: ['a.test-w'],
    needsActivation: true,
  },
  {
    name: 'a program left the inventory: its files go and its group is updated',
    desired: desiredOn([A]),
    live: liveState({ files: synced([A_WITH_GONE]) }),
    changes: [
      ['remove', conf('a.test-gone'), 'program gone is no longer in the inventory for a.test'],
      ['remove', logrotate('a.test-gone'), 'program gone is no longer in the inventory for a.test'],
    ],
    groups: ['a.test-gone'],
    removedPrograms: ['a.test-gone'],
    needsActivation: true,
  },
  {
    name: 'a site left the server (a whole-server run): all its files go',
    desired: desiredOn([A]),
    live: liveState({ files: synced([A, B]) }),
    changes: [
      ['remove', runner('b.test'), 'site b.test is no longer placed on this server by the inventory'],
      ['remove', conf('b.test-x'), 'site b.test is no longer placed on this server by the inventory'],
      ['remove', logrotate('b.test-x'), 'site b.test is no longer placed on this server by the inventory'],
    ],
    groups: ['b.test-x'],
    removedPrograms: ['b.test-x'],
    needsActivation: true,
  },
  {
    name: 'a --domain run leaves the other sites of the server alone',
    desired: desiredOn([A], { wholeServer: false }),
    live: liveState({ files: synced([A, B]) }),
    changes: [],
    groups: [],
    needsActivation: false,
  },
  {
    name: "another inventory's files are never leftovers, not even on a whole-server run",
    desired: desiredOn([A], { inventoryId: 'shop' }),
    live: liveState({ files: [...synced([A], 'shop'), ...synced([B], 'blog')] }),
    changes: [],
    groups: [],
    needsActivation: false,
  },
  {
    name: 'an unmarked file where we want ours: refused (the other files are still planned)',
    desired: desiredOn([A]),
    live: liveState({ files: [UNMARKED_CONF] }),
    changes: [
      ['add', runner('a.test')],
      ['add', logrotate('a.test-w')],
    ],
    refused: [[conf('a.test-w'), NO_MARKER]],
    groups: [],
    needsActivation: true,
  },
  {
    name: 'an unmarked file where we want ours, with --adopt: adopted',
    desired: desiredOn([A]),
    live: liveState({ files: [UNMARKED_CONF] }),
    adopt: true,
    changes: [
      ['add', runner('a.test')],
      ['adopt', conf('a.test-w')],
      ['add', logrotate('a.test-w')],
    ],
    groups: ['a.test-w'],
    needsActivation: true,
  },
  {
    name: "another inventory's file where we want ours: refused, even with --adopt",
    desired: desiredOn([A], { inventoryId: 'shop' }),
    live: liveState({ files: synced([A], 'blog') }),
    adopt: true,
    changes: [],
    refused: [
      [runner('a.test'), "inventory 'blog', site a.test"],
      [conf('a.test-w'), "inventory 'blog', site a.test, program w"],
      [logrotate('a.test-w'), "inventory 'blog', site a.test, program w"],
    ],
    groups: [],
    needsActivation: false,
  },
  {
    name: 'a value this run could not read (its variable unset) is no difference',
    desired: desiredOn([withEnvironment({ STRIPE: { from_env: 'STRIPE_KEY' } })]),
    live: liveState({ files: synced([withEnvironment({ STRIPE: 'sk_1' })]) }),
    changes: [],
    groups: [],
    needsActivation: false,
  },
]

for (const c of cases) {
  test(`planSync: ${c.name}`, () => {
    const plan = planSync(c.desired, c.live, { adopt: c.adopt ?? false })
    const changes = plan.changes.map((change) => [change.kind, change.path, ...(change.reason ? [change.reason] : [])])
    assert.equal(changes, c.changes)
    assert.equal(
      plan.refused.map((r) => [r.path, r.owner]),
      c.refused ?? [],
    )
    assert.equal(plan.groups, c.groups)
    assert.equal(plan.removedPrograms, c.removedPrograms ?? [])
    assert.is(plan.needsActivation, c.needsActivation)
  })
}

test('planSync: every change carries the file as the server holds it and as it will be', () => {
  const plan = planSync(desiredOn([A_TWO_PROCS]), liveState({ files: synced([A_WITH_GONE]) }))
  const byKind = (kind: string) => plan.changes.filter((c) => c.kind === kind)
  for (const change of byKind('change')) {
    assert.match(change.before?.content ?? '', 'numprocs=1')
    assert.match(change.after?.content ?? '', 'numprocs=2')
  }
  for (const change of byKind('remove')) {
    assert.ok(change.before, `${change.path}: what is removed`)
    assert.is(change.after, undefined, `${change.path}: nothing takes its place`)
  }
  assert.equal(
    filesToUpload(plan).map((f) => f.path),
    [conf('a.test-w')],
    'the changed file, nothing for removals',
  )
})

test('planSync: activation expects every file as read (its sha256), and the files it adds as absent', () => {
  const live = liveState({ files: synced([A_WITH_GONE]).filter((f) => f.path !== logrotate('a.test-w')) })
  const plan = planSync(desiredOn([A]), live)
  const expected = Object.fromEntries(plan.expected)
  const read = [runner('a.test'), conf('a.test-w'), conf('a.test-gone'), logrotate('a.test-gone')]
  assert.equal(Object.keys(expected).sort(), [...read, logrotate('a.test-w')].sort())
  assert.is(expected[logrotate('a.test-w')], null)
  for (const [path, file] of live.files) assert.is(expected[path], file.sha256)
})

test("planSync: files go where the server's own supervisord config says (a RHEL layout), logs too", () => {
  const rhel = {
    ...liveState().layout,
    config: '/etc/supervisord.conf',
    confDir: '/etc/supervisord.d',
    confExt: '.ini',
    logDir: '/var/log/supervisord',
    service: 'supervisord',
  }
  const plan = planSync(desiredOn([A]), liveState({ layout: rhel }))
  const paths = plan.changes.map((c) => c.path)
  assert.equal(paths, [runner('a.test'), '/etc/supervisord.d/a.test-w.ini', logrotate('a.test-w')])
  assert.match(plan.changes[1]?.after?.content ?? '', 'stdout_logfile=/var/log/supervisord/a.test-w.log')
  assert.equal(plan.logs, ['/var/log/supervisord/a.test-w.log'])
  assert.is(plan.layout, rhel)
})

test('planSync: the plan names the programs, their directories and the scripts the server lacks', () => {
  const script = '/home/deployer/sites/a.test/current/.deployer/supervisors/w.sh'
  const plan = planSync(desiredOn([A]), liveState({ missingScripts: [script] }))
  assert.equal(
    plan.programs.map((p) => [p.fullName, p.numprocs, p.currentPath]),
    [['a.test-w', 1, '/home/deployer/sites/a.test/current']],
  )
  assert.equal(
    plan.directories.map((d) => [d.path, d.owner, d.mode]),
    [
      ['/home/deployer/sites', 'deployer', '0755'],
      ['/home/deployer/sites/a.test', 'deployer', '0755'],
    ],
  )
  assert.equal(plan.missingScripts, [script])
  assert.equal(plan.logs, ['/var/log/supervisor/a.test-w.log'])
})

const REJECTED = "Error: File contains no section headers.\nfile: '/etc/supervisor/conf.d/x.conf'"
const broken: Array<[string, LiveState, string]> = [
  [
    'supervisord is down',
    liveState({ daemon: { running: false, message: 'connection refused' } }),
    'supervisord is not running (connection refused); nothing was changed. ' +
      'Start it: npx zx tasks/supervisor-start.mjs --server web-1',
  ],
  [
    'supervisor already rejects a conf on the server',
    liveState({ reread: { ok: false, message: REJECTED } }),
    'supervisor already rejects the configuration on this server, before any change of ours; nothing was changed. ' +
      `Fix or remove the file it names:\n${REJECTED}`,
  ],
]

for (const [name, live, message] of broken) {
  test(`planSync refuses the server when ${name}`, () => {
    const error = thrown(() => planSync(desiredOn([A]), live), RemoteError)
    assert.is(error.server, 'web-1')
    assert.is(error.message, message)
  })
}

const NEVER_TAKEN =
  'A file of another inventory is never taken over: rename the program or give the inventories distinct servers.'
const refusals: Array<[string, SyncPlan['refused'], string | null]> = [
  ['nothing refused: no error', [], null],
  [
    'an unmarked file: the message offers --adopt',
    [{ path: conf('a.test-w'), owner: NO_MARKER }],
    `refused: ${conf('a.test-w')} (owner: ${NO_MARKER}); nothing was changed on this server. ` +
      'To take over unmarked files (e.g. from DeployerPHP), run again with --adopt (try --dry-run --adopt first). ' +
      NEVER_TAKEN,
  ],
  [
    "another inventory's file: never --adopt",
    [{ path: conf('a.test-w'), owner: "inventory 'blog', site a.test, program w" }],
    `refused: ${conf('a.test-w')} (owner: inventory 'blog', site a.test, program w); ` +
      'nothing was changed on this server. ' +
      NEVER_TAKEN,
  ],
]

for (const [name, refused, message] of refusals) {
  test(`assertNothingRefused: ${name}`, () => {
    const plan = { ...planSync(desiredOn([A]), liveState()), refused }
    if (!message) return assertNothingRefused(plan)
    assert.is(thrown(() => assertNothingRefused(plan), RemoteError).message, message)
  })
}

// The leftover rules on their own: which file the server holds, that the inventory does not want there, is ours to
// remove (and why).
const marked = (site: string, program: string, inventory = 'inventory=default ') =>
  `; zx-supervisor ${inventory}site=${site} program=${program}\n`
const found = (path: string, content: string, discovered = true) =>
  liveFile({ path, content, owner: 'root', group: 'root', mode: '0600', kind: 'conf' }, discovered)
const GONE = 'program gone is no longer in the inventory for a.test'
const MOVED = 'site b.test is no longer placed on this server by the inventory'

interface LeftoverCase {
  name: string
  file: LiveFile
  wholeServer: boolean
  wanted?: string
  reason: string | null
}

const leftovers: LeftoverCase[] = [
  {
    name: 'a program of a managed site',
    file: found(conf('a.test-gone'), marked('a.test', 'gone')),
    wholeServer: false,
    reason: GONE,
  },
  {
    name: 'a site file of a managed site',
    file: found(runner('a.test'), '#!/bin/sh\n# zx-supervisor inventory=default site=a.test file=runner\n'),
    wholeServer: false,
    reason: 'this file is no longer in the inventory for a.test',
  },
  {
    name: 'a site no longer on this server, whole-server run',
    file: found(conf('b.test-x'), marked('b.test', 'x')),
    wholeServer: true,
    reason: MOVED,
  },
  {
    name: 'a site no longer on this server, --domain run: kept',
    file: found(conf('b.test-x'), marked('b.test', 'x')),
    wholeServer: false,
    reason: null,
  },
  {
    name: 'a file the inventory still wants: kept',
    file: found(conf('a.test-w'), marked('a.test', 'w')),
    wholeServer: true,
    wanted: conf('a.test-w'),
    reason: null,
  },
  {
    name: 'an old marker without inventory id: ours',
    file: found(conf('a.test-gone'), marked('a.test', 'gone', '')),
    wholeServer: false,
    reason: GONE,
  },
  {
    name: "another inventory's file: kept",
    file: found(conf('a.test-gone'), marked('a.test', 'gone', 'inventory=blog ')),
    wholeServer: true,
    reason: null,
  },
  { name: 'an unmarked file: kept', file: found(conf('a.test-gone'), UNMARKED), wholeServer: true, reason: null },
  {
    name: 'a file no contract pattern found (read only at a wanted path): kept',
    file: found(conf('a.test-gone'), marked('a.test', 'gone'), false),
    wholeServer: true,
    reason: null,
  },
]

for (const c of leftovers) {
  test(`leftoverReason: ${c.name}`, () => {
    const wanted = new Set(c.wanted ? [c.wanted] : [])
    const scope = { inventoryId: 'default', domains: ['a.test'], wholeServer: c.wholeServer }
    assert.is(leftoverReason(c.file, wanted, scope), c.reason)
  })
}

test.run()
