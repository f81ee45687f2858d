import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  CREATED_DIRECTORIES,
  DEBIAN_LAYOUT,
  MANAGED_FILES,
  MARKER_TOKEN,
  type ManagedFileSpec,
  SERVER_LOCK,
  STAGE_PREFIX,
} from '../../lib/layout.ts'
import type { RenderedFile } from '../../lib/render/program-files.ts'
import { type ActivationInput, activationArgs } from '../../lib/sync/activate.ts'
import type { DesiredState } from '../../lib/sync/desired.ts'
import { type FileChange, planSync, type SyncPlan } from '../../lib/sync/plan.ts'
import type { LiveFile, LiveState } from '../../lib/sync/read-state.ts'
import { planRollback } from '../../lib/sync/rollback.ts'
import type { Server } from '../../lib/types.ts'

// activate.sh's argument list, built from a plan without a server: what lands where, in which order.

const SERVER: Server = {
  name: 's1',
  host: '127.0.0.1',
  groups: [],
  siteUser: 'deployer',
  sitesPath: '/home/deployer/sites',
  local: false,
}
const STAGE = `${STAGE_PREFIX}abc`
const INPUT: ActivationInput = {
  stageDir: STAGE,
  stagedNames: new Map(),
  lockWaitSeconds: 30,
  login: 'deployer',
  pythonSource: 'PY',
  kept: new Map(),
}
const HEAD = [STAGE, '30', SERVER_LOCK, STAGE_PREFIX, 'deployer', MARKER_TOKEN, CREATED_DIRECTORIES, 'PY']
const PATTERNS = [
  '/home/deployer/sites/*/runner.sh',
  '/etc/supervisor/conf.d/*.conf',
  '/etc/logrotate.d/supervisor-*.conf',
].flatMap((p) => ['pattern', p])

const ROOT_DIR = { owner: 'root', group: 'root', mode: '0755' }
const HEALTH = (name: string) => `/etc/zx-supervisor/healthchecks/${name}.json`
const HEALTH_DIRS = [
  { path: '/etc/zx-supervisor', ...ROOT_DIR },
  { path: '/etc/zx-supervisor/healthchecks', ...ROOT_DIR },
]

function file(path: string, extra: Partial<RenderedFile> = {}): RenderedFile {
  return {
    path,
    content: 'x',
    owner: 'root',
    group: 'root',
    mode: '0600',
    kind: 'conf',
    domain: 'a.test',
    program: 'w',
    updatesGroup: true,
    readPath: path,
    template: 't',
    ...extra,
  }
}

function live(path: string): LiveFile {
  return { ...file(path), marker: null, spec: null, sha256: 'old' }
}

function plan(changes: FileChange[], extra: Partial<SyncPlan> = {}): SyncPlan {
  return {
    server: SERVER,
    layout: DEBIAN_LAYOUT,
    logs: [],
    changes,
    refused: [],
    directories: [],
    programs: [],
    groups: [],
    removedPrograms: [],
    missingScripts: [],
    needsActivation: true,
    expected: new Map(),
    ...extra,
  }
}

const cases: Array<[string, SyncPlan, Partial<ActivationInput>, string[]]> = [
  ['nothing to do: the fixed head and the discovery patterns', plan([]), {}, [...HEAD, ...PATTERNS]],
  [
    'a new program: expectations, the site directory, its files, its log and its group, in that order',
    plan(
      [
        {
          kind: 'add',
          path: '/etc/supervisor/conf.d/a.test-w.conf',
          after: file('/etc/supervisor/conf.d/a.test-w.conf'),
        },
      ],
      {
        expected: new Map([
          ['/etc/supervisor/conf.d/a.test-w.conf', null],
          ['/etc/supervisor/conf.d/b.conf', 'abc'],
        ]),
        directories: [{ path: '/home/deployer/sites/a.test', owner: 'deployer', group: 'deployer', mode: '0755' }],
        logs: ['/var/log/supervisor/a.test-w.log'],
        groups: ['a.test-w'],
      },
    ),
    { stagedNames: new Map([['/etc/supervisor/conf.d/a.test-w.conf', 'f0']]) },
    [
      ...HEAD,
      ...PATTERNS,
      'expect',
      '/etc/supervisor/conf.d/a.test-w.conf',
      '-',
      'expect',
      '/etc/supervisor/conf.d/b.conf',
      'abc',
      'dir',
      '/home/deployer/sites/a.test',
      'deployer',
      'deployer',
      '0755',
      'put',
      'f0',
      '/etc/supervisor/conf.d/a.test-w.conf',
      'root',
      'root',
      '0600',
      'log',
      '/var/log/supervisor/a.test-w.log',
      'root',
      'root',
      '0640',
      'group',
      'a.test-w',
    ],
  ],
  [
    'an adopted file: its original kept first, then the new one put',
    plan([
      {
        kind: 'adopt',
        path: '/etc/supervisor/conf.d/a.test-w.conf',
        before: live('/etc/supervisor/conf.d/a.test-w.conf'),
        after: file('/etc/supervisor/conf.d/a.test-w.conf'),
      },
    ]),
    {
      stagedNames: new Map([['/etc/supervisor/conf.d/a.test-w.conf', 'f0']]),
      kept: new Map([
        [
          '/etc/supervisor/conf.d/a.test-w.conf',
          '/var/lib/zx-supervisor/adopted/T-1/etc/supervisor/conf.d/a.test-w.conf',
        ],
      ]),
    },
    [
      ...HEAD,
      ...PATTERNS,
      'keep',
      '/etc/supervisor/conf.d/a.test-w.conf',
      '/var/lib/zx-supervisor/adopted/T-1/etc/supervisor/conf.d/a.test-w.conf',
      'root',
      'root',
      '0600',
      'put',
      'f0',
      '/etc/supervisor/conf.d/a.test-w.conf',
      'root',
      'root',
      '0600',
    ],
  ],
  [
    'a server with supervisor overrides passes them to supervisor.py',
    plan([], { server: { ...SERVER, supervisor: { config: '/opt/s.conf', serverurl: 'http://127.0.0.1:9001' } } }),
    {},
    [
      ...HEAD,
      'pyopt',
      '--config',
      'pyopt',
      '/opt/s.conf',
      'pyopt',
      '--serverurl',
      'pyopt',
      'http://127.0.0.1:9001',
      ...PATTERNS,
    ],
  ],
  [
    'contract directories: created once each, parents first, before any file is put',
    plan([
      { kind: 'add', path: HEALTH('a.test-w'), after: file(HEALTH('a.test-w'), { directories: HEALTH_DIRS }) },
      { kind: 'add', path: HEALTH('a.test-v'), after: file(HEALTH('a.test-v'), { directories: HEALTH_DIRS }) },
    ]),
    {
      stagedNames: new Map([
        [HEALTH('a.test-w'), 'f0'],
        [HEALTH('a.test-v'), 'f1'],
      ]),
    },
    [
      ...HEAD,
      ...PATTERNS,
      'ourdir',
      '/etc/zx-supervisor',
      'root',
      'root',
      '0755',
      'ourdir',
      '/etc/zx-supervisor/healthchecks',
      'root',
      'root',
      '0755',
      'put',
      'f0',
      HEALTH('a.test-w'),
      'root',
      'root',
      '0600',
      'put',
      'f1',
      HEALTH('a.test-v'),
      'root',
      'root',
      '0600',
    ],
  ],
  [
    'the last files leave: their directories pruned once each, deepest first, after the removals',
    plan([
      {
        kind: 'remove',
        path: HEALTH('a.test-w'),
        before: live(HEALTH('a.test-w')),
        pruneDirectories: ['/etc/zx-supervisor', '/etc/zx-supervisor/healthchecks'],
      },
      {
        kind: 'remove',
        path: HEALTH('a.test-v'),
        before: live(HEALTH('a.test-v')),
        pruneDirectories: ['/etc/zx-supervisor', '/etc/zx-supervisor/healthchecks'],
      },
    ]),
    {},
    [
      ...HEAD,
      ...PATTERNS,
      'remove',
      HEALTH('a.test-w'),
      'remove',
      HEALTH('a.test-v'),
      'prune',
      '/etc/zx-supervisor/healthchecks',
      'prune',
      '/etc/zx-supervisor',
    ],
  ],
  [
    'a directory another file of the plan still needs is not pruned',
    plan([
      {
        kind: 'remove',
        path: HEALTH('a.test-w'),
        before: live(HEALTH('a.test-w')),
        pruneDirectories: ['/etc/zx-supervisor', '/etc/zx-supervisor/healthchecks'],
      },
      {
        kind: 'add',
        path: '/etc/zx-supervisor/x.json',
        after: file('/etc/zx-supervisor/x.json', { directories: [{ path: '/etc/zx-supervisor', ...ROOT_DIR }] }),
      },
    ]),
    { stagedNames: new Map([['/etc/zx-supervisor/x.json', 'f0']]) },
    [
      ...HEAD,
      ...PATTERNS,
      'ourdir',
      '/etc/zx-supervisor',
      'root',
      'root',
      '0755',
      'remove',
      HEALTH('a.test-w'),
      'put',
      'f0',
      '/etc/zx-supervisor/x.json',
      'root',
      'root',
      '0600',
      'prune',
      '/etc/zx-supervisor/healthchecks',
    ],
  ],
]

for (const [name, subject, input, expected] of cases) {
  test(`activationArgs: ${name}`, () => {
    assert.equal(activationArgs(subject, { ...INPUT, ...input }), expected)
  })
}

test('activationArgs: the discovery patterns come from the contract it is given (a copy with one more file)', () => {
  const health: ManagedFileSpec = {
    kind: 'health',
    scope: 'program',
    template: 't',
    path: (c) => `/etc/zx-supervisor/healthchecks/${c.fullName}.json`,
    discover: () => '/etc/zx-supervisor/healthchecks/*.json',
    marker: 'json',
    owner: 'root',
    mode: '0644',
    updatesGroup: false,
    parents: { top: () => '/etc/zx-supervisor' },
  }
  const args = activationArgs(plan([]), { ...INPUT, contract: [...MANAGED_FILES, health] })
  assert.equal(args.slice(HEAD.length), [...PATTERNS, 'pattern', '/etc/zx-supervisor/healthchecks/*.json'])
})

// A per-program JSON file in a directory of its own, as a team's contract would add it.
const HEALTH_SPEC: ManagedFileSpec = {
  kind: 'health',
  scope: 'program',
  template: 't',
  path: (c) => HEALTH(c.fullName ?? ''),
  discover: () => '/etc/zx-supervisor/healthchecks/*.json',
  marker: 'json',
  owner: 'root',
  mode: '0644',
  updatesGroup: false,
  parents: { top: () => '/etc/zx-supervisor' },
}

function desired(files: RenderedFile[]): DesiredState {
  const state: DesiredState = {
    server: SERVER,
    inventoryId: 'default',
    domains: ['a.test'],
    wholeServer: false,
    programs: [],
    directories: [],
    files,
    layout: DEBIAN_LAYOUT,
    forLayout: () => state,
  }
  return state
}

function liveState(files: LiveFile[]): LiveState {
  return {
    layout: DEBIAN_LAYOUT,
    files: new Map(files.map((f) => [f.path, f])),
    missingScripts: [],
    daemon: { running: true },
    reread: { ok: true, message: '', pending: new Map() },
    currents: new Map(),
  }
}

const ours = (path: string, program: string): LiveFile => ({
  ...live(path),
  content: `{"zx-supervisor": "inventory=default site=a.test program=${program}"}\n`,
  marker: { inventory: 'default', site: 'a.test', program, file: null },
  spec: HEALTH_SPEC,
})

test('planSync: a file of ours the inventory dropped goes with the directories its contract entry declares', () => {
  const plan = planSync(desired([]), liveState([ours(HEALTH('a.test-w'), 'w')]))
  assert.equal(
    plan.changes.map((c) => [c.kind, c.path, c.pruneDirectories]),
    [['remove', HEALTH('a.test-w'), ['/etc/zx-supervisor', '/etc/zx-supervisor/healthchecks']]],
  )
  const args = activationArgs(plan, INPUT)
  assert.equal(args.slice(args.indexOf('remove')), [
    'remove',
    HEALTH('a.test-w'),
    'prune',
    '/etc/zx-supervisor/healthchecks',
    'prune',
    '/etc/zx-supervisor',
  ])
})

test('planRollback: an added file leaves with its directories; a removed one comes back into them', () => {
  const added = file(HEALTH('a.test-w'), { kind: 'health', directories: HEALTH_DIRS })
  const applied = plan([
    { kind: 'add', path: added.path, after: added },
    {
      kind: 'remove',
      path: HEALTH('a.test-v'),
      before: ours(HEALTH('a.test-v'), 'v'),
      pruneDirectories: HEALTH_DIRS.map((d) => d.path),
    },
  ])
  const rollback = planRollback(applied)
  assert.equal(
    rollback.changes.map((c) => [c.kind, c.path, c.pruneDirectories ?? null, c.after?.directories ?? null]),
    [
      ['remove', HEALTH('a.test-w'), ['/etc/zx-supervisor', '/etc/zx-supervisor/healthchecks'], null],
      ['add', HEALTH('a.test-v'), null, HEALTH_DIRS],
    ],
  )
})

test.run()
