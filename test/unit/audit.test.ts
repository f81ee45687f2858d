import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  AUDIT_ENTRY_MAX_BYTES,
  AUDIT_LINE_MAX_BYTES,
  type AuditContext,
  auditEntry,
  auditFlagValue,
  auditOf,
  createAuditContext,
  SCRIPT_TASK,
} from '../../lib/audit.ts'
import { SERVER_FILES, serverMarkerLine } from '../../lib/layout.ts'
import { REDACTED } from '../../lib/redact.ts'
import { renderServerFiles } from '../../lib/render/server-files.ts'
import { templateCandidates } from '../../lib/render/templates.ts'
import { SUPERVISOR_SCRIPT } from '../../lib/supervisor/rpc.ts'
import { activationArgs } from '../../lib/sync/activate.ts'

// The audit trail's line (lib/audit.ts, and supervisor.py's audit_line that completes it on the server): the fields,
// flag redaction, and the size cap that keeps one line one write(2).

const CONTEXT: AuditContext = {
  runId: 'r1',
  user: 'alice',
  host: 'laptop',
  task: 'supervisor-sync',
  flags: { all: true },
  inventoryId: 'acme',
}

const flagCases: Array<[string, unknown, unknown]> = [
  ['domain', 'app.test', 'app.test'],
  ['all', true, true],
  ['dry-run', false, false],
  ['parallel', 4, '4'],
  ['server', ['web-1', 'web-2'], ['web-1', 'web-2']],
  ['api-token', 'abc', REDACTED],
  ['password', 'hunter2', REDACTED],
  ['health-cmd', 'curl https://user:pw@example.test/health', REDACTED],
  ['set', 'DB_PASSWORD=hunter2', REDACTED],
  ['set', 'QUEUE=high', 'QUEUE=high'],
  ['release', 'x'.repeat(500), `${'x'.repeat(197)}...`],
  ['weird', { a: 1 }, undefined],
]
for (const [name, value, expected] of flagCases)
  test(`flag --${name}=${JSON.stringify(value).slice(0, 40)} is recorded as ${JSON.stringify(expected)?.slice(0, 40)}`, () => {
    assert.equal(auditFlagValue(name, value), expected)
  })

test('createAuditContext: only the flags typed, no aliases or camelCase twins, a random run id', () => {
  const flags = { _: [], domain: 'app.test', d: 'app.test', dryRun: true, 'dry-run': true, timeout: 10, token: 's3' }
  const one = createAuditContext({
    task: 'supervisor-sync',
    flags,
    given: ['domain', 'dry-run', 'token'],
    inventoryId: 'acme',
    user: 'alice',
    host: 'laptop',
  })
  assert.equal(one.flags, { domain: 'app.test', 'dry-run': true, token: REDACTED })
  assert.is(one.user, 'alice')
  assert.is(one.inventoryId, 'acme')
  assert.match(one.runId, /^[0-9a-f]{12}$/)
  const two = createAuditContext({ task: 'supervisor-sync', flags: {} })
  assert.is.not(two.runId, one.runId)
  assert.is(two.inventoryId, null)
  assert.equal([two.user, two.host], [os.userInfo().username, os.hostname()], 'the defaults: this login and machine')
})

test('auditOf: a connection without a task frame records as "script", the same run for the whole process', () => {
  const bare = auditOf({})
  assert.is(bare.task, SCRIPT_TASK)
  assert.is(auditOf({}).runId, bare.runId)
  assert.is(auditOf({ audit: CONTEXT }), CONTEXT)
})

test('auditEntry: the fields, in order, empty lists left out', () => {
  const entry = JSON.parse(
    auditEntry(CONTEXT, 'web-1', 'sync', {
      files: ['/etc/supervisor/conf.d/app.test-worker.conf'],
      groups: { updated: ['app.test-worker'], restarted: [] },
    }),
  )
  assert.equal(Object.keys(entry), ['run', 'user', 'host', 'task', 'flags', 'inventory', 'server', 'action', 'change'])
  assert.equal(entry.change, {
    files: ['/etc/supervisor/conf.d/app.test-worker.conf'],
    groups: { updated: ['app.test-worker'] },
  })
  assert.is(entry.server, 'web-1')
  assert.is(entry.inventory, 'acme')
  const deploy = JSON.parse(auditEntry(CONTEXT, 'web-1', 'switch', { release: 'releases/r2' }))
  assert.equal(deploy.change, { release: 'releases/r2' })
})

const sizeCases: Array<[string, number, number]> = [
  ['10 files', 10, 1],
  ['200 files', 200, 80],
  ['5000 files', 5000, 200],
]
for (const [label, count, length] of sizeCases)
  test(`auditEntry: ${label} of ${length} characters stays under ${AUDIT_ENTRY_MAX_BYTES} bytes`, () => {
    const files = Array.from({ length: count }, (_, i) => `/etc/supervisor/conf.d/${'x'.repeat(length)}-${i}.conf`)
    const text = auditEntry(CONTEXT, 'web-1', 'sync', { files, groups: { updated: files } })
    assert.ok(Buffer.byteLength(text) <= AUDIT_ENTRY_MAX_BYTES, `${Buffer.byteLength(text)} bytes`)
    const entry = JSON.parse(text)
    const whole = Buffer.byteLength(auditEntry(CONTEXT, 'web-1', 'sync', { files: files.slice(0, 1) })) * count
    assert.is(entry.truncated === true, whole > AUDIT_ENTRY_MAX_BYTES)
    assert.ok(entry.change.files.length >= 1)
  })

test('auditEntry: flags too long for any list size go, and the line says so', () => {
  const flags = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`flag-${i}`, 'v'.repeat(190)]))
  const text = auditEntry({ ...CONTEXT, flags }, 'web-1', 'restart', { groups: { restarted: ['a'] } })
  assert.ok(Buffer.byteLength(text) <= AUDIT_ENTRY_MAX_BYTES)
  assert.equal(JSON.parse(text).flags, {})
  assert.is(JSON.parse(text).truncated, true)
})

test('activationArgs: the audit entry rides right after the layout options, only when given', () => {
  const plan = {
    server: { name: 'web-1', host: '127.0.0.2', sitesPath: '/home/deployer/sites' },
    layout: undefined,
    expected: new Map(),
    directories: [],
    changes: [],
    logs: [],
    groups: [],
  }
  const input = {
    stageDir: '/tmp/s',
    stagedNames: new Map(),
    lockWaitSeconds: 5,
    login: 'root',
    pythonSource: 'py',
    kept: new Map(),
  }
  // biome-ignore lint/suspicious/noExplicitAny: a minimal plan; activationArgs reads only these fields
  const without = activationArgs(plan as any, input)
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const withAudit = activationArgs(plan as any, { ...input, audit: '{"run":"r1"}' })
  assert.not.ok(without.includes('audit'))
  assert.equal(withAudit.slice(8, 10), ['audit', '{"run":"r1"}'])
  assert.equal(withAudit.slice(10), without.slice(8))
})

test('the audit logrotate file: server-wide, root 0644, marked on line 1, weekly x12, create 0640 root root', () => {
  const [file] = renderServerFiles()
  assert.is(SERVER_FILES.length, 1)
  assert.is(SERVER_FILES[0]?.scope, 'server')
  assert.equal(
    [file?.path, file?.owner, file?.group, file?.mode],
    ['/etc/logrotate.d/zx-supervisor', 'root', 'root', '0644'],
  )
  const lines = (file?.content ?? '').split('\n')
  assert.is(lines[0], serverMarkerLine(SERVER_FILES[0]!))
  assert.is(lines[0], '# zx-supervisor file=audit-logrotate')
  assert.ok(lines.includes('/var/log/zx-supervisor/audit.log {'))
  for (const directive of ['weekly', 'rotate 12', 'compress', 'missingok', 'notifempty', 'create 0640 root root'])
    assert.ok(
      lines.some((l) => l.trim() === directive),
      directive,
    )
})

test('a server-wide template has no site override: templateCandidates with domain null', () => {
  const candidates = templateCandidates('/team/templates', 'audit-logrotate', null)
  assert.is(candidates[0], '/team/templates/audit-logrotate.hbs')
  assert.not.ok(candidates.some((c) => c.includes('/sites/')))
})

test('activationArgs: server files ride in the same activation, after the puts', () => {
  const plan = {
    server: { name: 'web-1', host: '127.0.0.2', sitesPath: '/home/deployer/sites' },
    layout: undefined,
    expected: new Map(),
    directories: [],
    changes: [],
    logs: [],
    groups: ['a'],
  }
  const input = {
    stageDir: '/tmp/s',
    stagedNames: new Map(),
    lockWaitSeconds: 5,
    login: 'root',
    pythonSource: 'py',
    kept: new Map(),
    serverFiles: [
      { path: '/etc/logrotate.d/zx-supervisor', owner: 'root', group: 'root', mode: '0644', content: 'x\n' },
    ],
  }
  // biome-ignore lint/suspicious/noExplicitAny: a minimal plan; activationArgs reads only these fields
  const args = activationArgs(plan as any, input)
  const at = args.indexOf('serverfile')
  assert.equal(args.slice(at, at + 6), ['serverfile', '/etc/logrotate.d/zx-supervisor', 'root', 'root', '0644', 'x\n'])
  assert.ok(at < args.indexOf('group'))
})

// supervisor.py's half: the server completes the client's entry; run its audit_line in a real python3.
function pythonLine(entry: string, result: string, reason: string): string {
  const code = [
    'import importlib.util, sys',
    `spec = importlib.util.spec_from_file_location('s', ${JSON.stringify(SUPERVISOR_SCRIPT)})`,
    'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
    'sys.stdout.write(m.audit_line(sys.argv[1], sys.argv[2], sys.argv[3], now=0))',
  ].join('\n')
  return execFileSync('python3', ['-I', '-c', code, entry, result, reason], { encoding: 'utf8' })
}

test('supervisor.py audit_line: time first, the entry, then result and a printable reason cut to 200', () => {
  const entry = auditEntry(CONTEXT, 'web-1', 'sync', { files: ['/a'] })
  const text = pythonLine(entry, 'failed', `rejected\n${'y'.repeat(300)}`)
  assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, 'one line')
  const line = JSON.parse(text)
  assert.equal(Object.keys(line), ['time', ...Object.keys(JSON.parse(entry)), 'result', 'reason'])
  assert.is(line.time, '1970-01-01T00:00:00Z')
  assert.is(line.result, 'failed')
  assert.is(line.reason.length, 200)
  assert.not.match(line.reason, /\n/)
  assert.is(JSON.parse(pythonLine(entry, 'anything', '')).result, 'ok')
  assert.is(JSON.parse(pythonLine(entry, 'ok', '')).reason, undefined)
})

test('supervisor.py audit_line: an unreadable entry still gives a line; an oversized one loses its lists', () => {
  assert.equal(JSON.parse(pythonLine('not json', 'ok', '')).entry, 'unreadable')
  const huge = JSON.stringify({
    ...JSON.parse(auditEntry(CONTEXT, 'web-1', 'sync', {})),
    change: { files: ['f'.repeat(5000)] },
  })
  const text = pythonLine(huge, 'ok', '')
  assert.ok(Buffer.byteLength(text) < AUDIT_LINE_MAX_BYTES)
  assert.equal(JSON.parse(text).change, {})
  assert.is(JSON.parse(text).truncated, true)
})

test.run()
