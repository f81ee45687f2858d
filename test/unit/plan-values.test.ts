import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { syncJson } from '../../lib/cli/sync-report.ts'
import type { ServerOutcome } from '../../lib/fleet.ts'
import { validateInventory } from '../../lib/inventory/validate.ts'
import { fingerprintValue } from '../../lib/redact.ts'
import { resolveEnvironmentRefs } from '../../lib/secrets.ts'
import { summarizeStatus } from '../../lib/status/summarize.ts'
import { renderDesiredState } from '../../lib/sync/desired.ts'
import { formatPlanDiff, planSync } from '../../lib/sync/plan.ts'
import type { LiveState } from '../../lib/sync/read-state.ts'
import type { ServerSyncResult } from '../../lib/sync/sync-server.ts'
import { captureOutput } from '../helpers/capture.ts'
import { liveState, syncedFiles } from '../helpers/fake-server.ts'

// What a plan shows of environment values (SPEC §3, "In output"): a literal written in the inventory in the clear is
// shown in the diff and in --json, both sides, per key; a secret-looking key or a URL holding credentials, a value
// from { from_env }, and a value whose origin the inventory no longer tells are shown only as fingerprints.

const KEY_DIR = mkdtempSync(join(tmpdir(), 'zxs-plan-values-'))
process.env.ZXS_FINGERPRINT_KEY_FILE = join(KEY_DIR, 'fingerprint.key')
test.after(() => rmSync(KEY_DIR, { recursive: true, force: true }))

const TEMPLATES = new URL('../../templates/', import.meta.url).pathname
const CONF = '/etc/supervisor/conf.d/a.test-w.conf'
const GONE = '/etc/supervisor/conf.d/a.test-gone.conf'

const OLD = {
  QUEUE: 'high',
  API_TOKEN: 'old-token-1',
  STRIPE: { from_env: 'STRIPE_VAR' },
  DATABASE_URL: 'postgres://app:old-pw-1@db/app',
  DROPPED: 'dropped-1',
}
const NEW = {
  QUEUE: 'low',
  API_TOKEN: 'new-token-2',
  STRIPE: { from_env: 'STRIPE_VAR' },
  DATABASE_URL: 'postgres://app:new-pw-2@db/app',
  SITE_URL: 'https://example.com/x',
}
const ENV = { STRIPE_VAR: 'new-stripe-2' }

function desiredOf(programs: Array<{ program: string; environment: Record<string, unknown> }>, env: NodeJS.ProcessEnv) {
  const { inventory, problems } = validateInventory({
    servers: [{ name: 'web-1', host: '203.0.113.10' }],
    sites: [
      { domain: 'a.test', server: 'web-1', supervisors: programs.map((p) => ({ ...p, script: `${p.program}.sh` })) },
    ],
  })
  assert.equal(problems, [])
  const { sites } = resolveEnvironmentRefs(inventory, inventory.sites, env, { mode: 'require' })
  return renderDesiredState({
    templatesDir: TEMPLATES,
    inventoryId: 'default',
    server: inventory.servers[0]!,
    sites,
    wholeServer: true,
  })
}

// The server holds what the old inventory rendered (its from_env value 'old-stripe-1'), plus a program since removed.
function liveOf(): LiveState {
  const old = desiredOf(
    [
      { program: 'w', environment: OLD },
      { program: 'gone', environment: { QUEUE: 'gone-queue-1', OTHER: 'other-1' } },
    ],
    { STRIPE_VAR: 'old-stripe-1' },
  )
  return liveState({ files: syncedFiles(old) })
}

const plan = () => planSync(desiredOf([{ program: 'w', environment: NEW }], ENV), liveOf())
const HIDDEN = [
  'old-token-1',
  'new-token-2',
  'old-stripe-1',
  'new-stripe-2',
  'old-pw-1',
  'new-pw-2',
  'dropped-1',
  'gone-queue-1',
  'other-1',
]

test('a plan diff shows literal values on both sides and fingerprints secret-looking, referenced and unknown-origin ones', () => {
  const diff = formatPlanDiff(plan())
  const removed = diff.split('\n').find((line) => line.startsWith('-environment=') && line.includes('QUEUE=high')) ?? ''
  const added = diff.split('\n').find((line) => line.startsWith('+environment=') && line.includes('QUEUE=low')) ?? ''
  assert.ok(removed, `QUEUE=high in the clear on the - side:\n${diff}`)
  assert.ok(added, `QUEUE=low in the clear on the + side:\n${diff}`)
  for (const line of [removed, added]) {
    assert.match(line, 'HOME=/home/deployer')
    assert.match(line, 'USER=deployer')
    assert.match(line, 'DEPLOYER_DOMAIN=a.test')
  }
  const table: Array<[string, string, string]> = [
    // [the line, the key, the value behind its fingerprint]
    [removed, 'API_TOKEN', 'old-token-1'],
    [added, 'API_TOKEN', 'new-token-2'],
    [removed, 'STRIPE', 'old-stripe-1'],
    [added, 'STRIPE', 'new-stripe-2'],
    [removed, 'DATABASE_URL', 'postgres://app:old-pw-1@db/app'],
    [added, 'DATABASE_URL', 'postgres://app:new-pw-2@db/app'],
    [removed, 'DROPPED', 'dropped-1'],
  ]
  for (const [line, key, value] of table)
    assert.match(line, `${key}=${fingerprintValue(value)}`, `${key} as a fingerprint`)
  assert.match(added, 'SITE_URL=https://example.com/x', 'a URL without credentials is a literal like any other')
  const gone = diff
    .split('\n')
    .find((line) => line.startsWith('-environment=') && line.includes(`QUEUE=${fingerprintValue('gone-queue-1')}`))
  assert.ok(gone, `a removed program's values: the inventory no longer says they are literals:\n${diff}`)
  assert.match(gone ?? '', 'HOME=/home/deployer')
  for (const value of HIDDEN) assert.not.match(diff, value)
})

test('--json lists per changed file the environment keys that differ, both sides, by the same rule', () => {
  const result: ServerSyncResult = { plan: plan(), dryRun: true, check: false, pending: true }
  const outcome: ServerOutcome<ServerSyncResult> = { server: result.plan.server, ok: true, value: result, applied: [] }
  const json = syncJson([outcome])
  const text = JSON.stringify(json)
  const changes = (json.servers[0] as { changes: Array<{ path: string; environment?: unknown }> }).changes
  assert.equal(changes.find((c) => c.path === CONF)?.environment, [
    { key: 'QUEUE', before: 'high', after: 'low' },
    { key: 'API_TOKEN', before: fingerprintValue('old-token-1'), after: fingerprintValue('new-token-2') },
    { key: 'STRIPE', before: fingerprintValue('old-stripe-1'), after: fingerprintValue('new-stripe-2') },
    {
      key: 'DATABASE_URL',
      before: fingerprintValue('postgres://app:old-pw-1@db/app'),
      after: fingerprintValue('postgres://app:new-pw-2@db/app'),
    },
    { key: 'DROPPED', before: fingerprintValue('dropped-1'), after: null },
    { key: 'SITE_URL', before: null, after: 'https://example.com/x' },
  ])
  assert.equal(changes.find((c) => c.path === GONE)?.environment, [
    { key: 'HOME', before: '/home/deployer', after: null },
    { key: 'USER', before: 'deployer', after: null },
    { key: 'DEPLOYER_DOMAIN', before: 'a.test', after: null },
    { key: 'DEPLOYER_SITE_ROOT', before: '/home/deployer/sites/a.test', after: null },
    { key: 'DEPLOYER_CURRENT_PATH', before: '/home/deployer/sites/a.test/current', after: null },
    { key: 'DEPLOYER_SHARED_PATH', before: '/home/deployer/sites/a.test/shared', after: null },
    { key: 'QUEUE', before: fingerprintValue('gone-queue-1'), after: null },
    { key: 'OTHER', before: fingerprintValue('other-1'), after: null },
  ])
  for (const value of HIDDEN) assert.not.match(text, value)
})

test('a status drift note names the variables that differ, server → inventory, by the same rule', () => {
  const status = summarizeStatus(desiredOf([{ program: 'w', environment: NEW }], ENV), liveOf(), { listUnknown: false })
  const note = status.programs[0]?.drift.join('; ') ?? ''
  assert.match(note, `${CONF} differs from the inventory`)
  assert.match(note, 'QUEUE high → low')
  assert.match(note, `API_TOKEN ${fingerprintValue('old-token-1')} → ${fingerprintValue('new-token-2')}`)
  assert.match(note, `DROPPED ${fingerprintValue('dropped-1')} → (unset)`)
  assert.match(note, 'SITE_URL (unset) → https://example.com/x')
  for (const value of HIDDEN) assert.not.match(note, value)
})

test('--verbose lines: secret-looking NAME=value words, URL credentials and environment= values of unknown origin are fingerprinted', () => {
  const cases: Array<[string, string, string[]]> = [
    // [line, what stays, what must go]
    ['web-1$ deploy QUEUE=high API_TOKEN=abc123', 'QUEUE=high', ['abc123']],
    ['web-1$ git clone https://bot:s3cr3t@git.example.com/app.git', 'git clone', ['s3cr3t']],
    ['environment=HOME="/home/deployer",STRIPE="sk_live_9"', 'HOME=/home/deployer', ['sk_live_9']],
    ['web-1$ echo DB_PASSWD=hunter2 app_key=base64:xyz', 'echo', ['hunter2', 'base64:xyz']],
  ]
  for (const [line, kept, gone] of cases) {
    const captured = captureOutput({ verbose: true })
    captured.output.detail(line)
    const shown = captured.stderr()
    assert.match(shown, kept, `${line} keeps ${kept}: ${shown}`)
    for (const value of gone) assert.not.match(shown, value, `${line} hides ${value}: ${shown}`)
    assert.match(shown, /\[REDACTED( [0-9a-f]{8})?\]/)
  }
})

test.run()
