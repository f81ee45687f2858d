import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { statusExitCode, statusJson, statusRecap, statusTable } from '../../lib/cli/status-report.ts'
import { syncRecap } from '../../lib/cli/sync-report.ts'
import { RemoteError } from '../../lib/errors.ts'
import type { ServerOutcome } from '../../lib/fleet.ts'
import { sudoPasswordMessage } from '../../lib/remote/ssh-errors.ts'
import type { ProcessWithRelease, ProgramStatus, ServerStatus } from '../../lib/status/summarize.ts'
import { captureOutput } from '../helpers/capture.ts'
import { server } from '../helpers/inventory-data.ts'

// How supervisor-status names each server's state: table, recap, --json and exit code agree.

const proc = (n: number, state: string, extra: Partial<ProcessWithRelease> = {}): ProcessWithRelease => ({
  name: `a.test-w:a.test-w_0${n}`,
  group: 'a.test-w',
  process: `a.test-w_0${n}`,
  state,
  description: '',
  release: null,
  stale: false,
  ...extra,
})

const program = (processes: ProcessWithRelease[], expected = processes.length): ProgramStatus => ({
  domain: 'a.test',
  program: 'w',
  fullName: 'a.test-w',
  expected,
  processes,
  running: processes.filter((p) => p.state === 'RUNNING').length,
  drift: [],
})

const reached = (name: string, programs: ProgramStatus[]): ServerOutcome<ServerStatus> => ({
  server: server(name),
  ok: true,
  applied: [],
  value: {
    daemon: 'running',
    programs,
    siteDrift: [],
    leftovers: [],
    unknown: [],
    healthy: programs.every((p) => p.running === p.expected),
  },
})

const failed = (name: string, error: unknown): ServerOutcome<ServerStatus> => ({
  server: server(name),
  ok: false,
  error,
  applied: [],
})

const FATAL = proc(0, 'FATAL', {
  spawnerr: 'Exited too quickly (process log may have details)',
  lastLog: 'bad release: boom',
})
const SUDO = new RemoteError('web-2', sudoPasswordMessage('deployer'), '', 'SUDO-PASSWORD')
const TIMEOUT = new RemoteError('web-3', 'connection to 127.0.0.9:22 timed out', '', 'UNREACHABLE')

function recapLines(outcomes: ServerOutcome<ServerStatus>[]): string[] {
  const captured = captureOutput()
  captured.output.recap(statusRecap(outcomes))
  return captured
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('web-'))
}

const CASES: Array<{
  name: string
  outcomes: ServerOutcome<ServerStatus>[]
  table: RegExp[]
  recap: RegExp
  exit: number
  json: Record<string, unknown>
}> = [
  {
    name: 'FATAL/BACKOFF processes are down (not failed), with the reason and the log line in NOTE',
    outcomes: [reached('web-1', [program([FATAL, proc(1, 'BACKOFF', { spawnerr: "can't find command '/x'" })], 2)])],
    table: [
      /web-1\s+a\.test-w\s+a\.test-w_00\s+FATAL\s+.*Exited too quickly \(process log may have details\); last log line: bad release: boom/,
      /a\.test-w_01\s+BACKOFF\s+.*can't find command '\/x'/,
    ],
    recap: /^web-1\s+ok=0 changed=0 failed=0 down=1$/,
    exit: 3,
    json: { state: 'DOWN', recap: { ok: 0, changed: 0, failed: 0, down: 1 } },
  },
  {
    name: 'a server with nothing of ours on it is ok=1',
    outcomes: [reached('web-1', [])],
    table: [],
    recap: /^web-1\s+ok=1 changed=0 failed=0 down=0$/,
    exit: 0,
    json: { state: 'OK', recap: { ok: 1, changed: 0, failed: 0, down: 0 } },
  },
  {
    name: 'sudo asking for a password is its own state, the server named once, not unreachable',
    outcomes: [failed('web-2', SUDO)],
    table: [/^web-2\s+-\s+-\s+SUDO-PASSWORD\s+sudo asks deployer for a password/m],
    recap: /^web-2\s+ok=0 changed=0 failed=1 down=0\s+SUDO-PASSWORD$/,
    exit: 1,
    json: { state: 'SUDO-PASSWORD', reachable: true },
  },
  {
    name: 'a lost or refused connection is UNREACHABLE',
    outcomes: [failed('web-3', TIMEOUT)],
    table: [/^web-3\s+-\s+-\s+UNREACHABLE\s+connection to 127\.0\.0\.9:22 timed out/m],
    recap: /^web-3\s+ok=0 changed=0 failed=1 down=0\s+UNREACHABLE$/,
    exit: 1,
    json: { state: 'UNREACHABLE', reachable: false },
  },
]

for (const c of CASES) {
  test(c.name, () => {
    const table = statusTable(c.outcomes).join('\n')
    for (const expected of c.table) assert.match(table, expected, table)
    assert.not.match(table, /web-2: /, 'the server is named once (its column), not again in the message')
    const [recap] = recapLines(c.outcomes)
    assert.match(recap ?? '', c.recap)
    assert.is(statusExitCode(c.outcomes), c.exit)
    const [entry] = statusJson(c.outcomes).servers as Array<Record<string, unknown>>
    for (const [key, value] of Object.entries(c.json)) assert.equal(entry?.[key], value, `--json ${key}`)
  })
}

test('the sudo hint writes a sudoers file that sorts last and names the sudo -l command that shows the winning rule', () => {
  const message = sudoPasswordMessage('deployer')
  assert.not.match(message, /^\S+: /, 'no server prefix: the printers add it')
  assert.match(
    message,
    /echo 'deployer ALL=\(ALL\) NOPASSWD: ALL' > \/etc\/sudoers\.d\/zzz-zx-supervisor && chmod 0440 \/etc\/sudoers\.d\/zzz-zx-supervisor/,
  )
  assert.match(message, /sudo -l -U deployer/)
  assert.match(message, /last matching rule wins/)
})

test('a sync recap names why a server failed', () => {
  const rows = syncRecap([
    { server: server('web-2'), ok: false, error: SUDO, applied: [] },
    { server: server('web-3'), ok: false, error: TIMEOUT, applied: [] },
  ])
  assert.equal(
    rows.map((r) => r.note),
    ['SUDO-PASSWORD', 'UNREACHABLE'],
  )
})

test.run()
