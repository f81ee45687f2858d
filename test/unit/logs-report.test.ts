import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chalk } from 'zx'
import {
  describeLostServer,
  describeNotice,
  followedLine,
  highlight,
  isAlarming,
  linePrefixer,
  logsDocument,
  logsJson,
  prefixedLine,
  reportServerLogs,
  shortService,
  sourceHeading,
} from '../../lib/cli/logs-report.ts'
import { RemoteError } from '../../lib/errors.ts'
import type { ServerOutcome } from '../../lib/fleet.ts'
import type { LogRead } from '../../lib/logs/read.ts'
import type { Server } from '../../lib/types.ts'
import { captureOutput } from '../helpers/capture.ts'

// server-logs' printing: which lines are red on a terminal (DeployerPHP's keywords and HTTP 500-504), headings,
// the --follow prefix of one and of many servers, the report over servers and the --json documents.

// Colour as on a terminal for this file only (uvu runs every unit file in one process).
const RED = '\u001b[31m'
const level = chalk.level
test.before(() => {
  chalk.level = 1
})
test.after(() => {
  chalk.level = level
})

const alarming: Array<[string, boolean]> = [
  ['LINE-2 an ERROR here', true],
  ['[2024-01-01] production.error: boom', true],
  ['Uncaught Exception in worker', true],
  ['job failed after 3 tries', true],
  ['FAIL', true],
  ['PHP Fatal error: Allowed memory size', true],
  ['goroutine 1 [running]: panic: nil map', true],
  ['"GET / HTTP/1.1" 500 12', true],
  ['upstream answered 502', true],
  ['503 Service Unavailable', true],
  ['status=504', true],
  ['HTTP 501 Not Implemented', true],
  ['LINE-1 ok', false],
  ['"GET / HTTP/1.1" 200 512', false],
  ['took 500ms', false],
  ['pid 5003 spawned', false],
  ['505 HTTP Version Not Supported', false],
  ['worker app.test-worker_00 up', false],
  ['', false],
]
for (const [line, expected] of alarming) {
  test(`${JSON.stringify(line)} is ${expected ? '' : 'not '}highlighted`, () => {
    assert.is(isAlarming(line), expected)
    const painted = highlight(line, true)
    assert.is(painted.startsWith(RED), expected)
    assert.is(highlight(line, false), line, 'never coloured off a terminal')
  })
}

const file: LogRead = {
  service: 'supervisor:app.test/worker',
  from: 'file',
  path: '/var/log/supervisor/app.test-worker.log',
  lines: ['a', 'b'],
  missing: false,
}
const journal: LogRead = { service: 'supervisor', from: 'journal', path: null, lines: ['c'], missing: false }

test('headings name the server, the service and where the lines come from', () => {
  assert.is(
    sourceHeading('sandbox-1', file),
    '==> sandbox-1 supervisor:app.test/worker (/var/log/supervisor/app.test-worker.log) <==',
  )
  assert.is(sourceHeading('web', journal), '==> web supervisor (journalctl -u supervisor) <==')
})

test('--follow prefixes each line with its source, and highlights off a terminal only when asked', () => {
  assert.is(
    followedLine('supervisor:app.test/worker', 'LINE-2 an ERROR here', false),
    '[supervisor:app.test/worker] LINE-2 an ERROR here',
  )
  assert.is(followedLine('supervisor', '', false), '[supervisor] ')
  assert.match(followedLine('supervisor', 'fatal', true), RED)
})

test('tail says a followed file is missing: the missing-log warning, with the service', () => {
  assert.is(
    describeNotice(
      's1',
      'supervisor:a/b',
      "tail: cannot open '/var/log/supervisor/a-b.log' for reading: No such file or directory",
    ),
    's1 supervisor:a/b: No logs found or file does not exist (/var/log/supervisor/a-b.log); waiting for it to appear',
  )
  assert.is(
    describeNotice('s1', undefined, 'tail: inotify cannot be used, reverting to polling'),
    's1: tail: inotify cannot be used, reverting to polling',
  )
})

test('--json document: server, lines, and each source with its lines and whether it is missing', () => {
  const missing: LogRead = {
    ...file,
    service: 'supervisor:app.test/ghost',
    path: '/var/log/supervisor/app.test-ghost.log',
    lines: [],
    missing: true,
  }
  assert.equal(JSON.parse(JSON.stringify(logsJson('s1', 50, [journal, file, missing]))), {
    ok: true,
    server: 's1',
    lines: 50,
    sources: [
      { service: 'supervisor', from: 'journal', path: null, lines: ['c'], missing: false },
      {
        service: 'supervisor:app.test/worker',
        from: 'file',
        path: '/var/log/supervisor/app.test-worker.log',
        lines: ['a', 'b'],
        missing: false,
      },
      {
        service: 'supervisor:app.test/ghost',
        from: 'file',
        path: '/var/log/supervisor/app.test-ghost.log',
        lines: [],
        missing: true,
      },
    ],
  })
})

const FOLLOWED = [
  { server: 'web-3', services: ['supervisor:app.test/worker', 'supervisor'] },
  { server: 'web-12', services: ['supervisor:app.test/ws'] },
]

test('--follow over servers: `server source │` prefixes, padded so every line starts in one column', () => {
  const prefix = linePrefixer(FOLLOWED, false)
  assert.is(prefix('web-3', 'supervisor:app.test/worker'), 'web-3  app.test/worker │')
  assert.is(prefix('web-12', 'supervisor:app.test/ws'), 'web-12 app.test/ws     │')
  assert.is(prefix('web-3', 'supervisor'), 'web-3  supervisor      │')
  assert.is(prefixedLine(prefix('web-3', 'supervisor'), 'an ERROR', false), 'web-3  supervisor      │ an ERROR')
  assert.is(
    linePrefixer([{ server: 'web-3', services: ['supervisor:app.test/worker'] }], false)(
      'web-3',
      'supervisor:app.test/worker',
    ),
    'web-3 app.test/worker │',
    "the issue's own example",
  )
})

test('--follow prefixes on a terminal: one colour per server (never red), alarming lines red', () => {
  const prefix = linePrefixer(FOLLOWED, true)
  const first = prefix('web-3', 'supervisor')
  const second = prefix('web-12', 'supervisor:app.test/ws')
  assert.is(first, chalk.cyan('web-3  supervisor      │'))
  assert.is(second, chalk.magenta('web-12 app.test/ws     │'))
  assert.is(prefix('web-3', 'supervisor:app.test/worker').slice(0, 5), first.slice(0, 5), 'same server, same colour')
  assert.not.match(first, RED)
  assert.match(prefixedLine(first, 'fatal', true), `${RED}fatal`)
})

test('sources in prefixes: the program as domain/program, the daemon as supervisor', () => {
  assert.is(shortService('supervisor:app.test/worker'), 'app.test/worker')
  assert.is(shortService('supervisor'), 'supervisor')
})

const server = (name: string): Server => ({
  name,
  host: '127.0.0.9',
  groups: [],
  siteUser: 'deployer',
  sitesPath: '/home/deployer/sites',
  local: false,
})
const outcomes: ServerOutcome<LogRead[]>[] = [
  { server: server('web-1'), ok: true, value: [file, journal], applied: [] },
  {
    server: server('web-2'),
    ok: false,
    error: new RemoteError('web-2', 'cannot connect to 127.0.0.9:22: Connection refused', '', 'UNREACHABLE'),
    applied: [],
  },
  { server: server('web-3'), ok: true, value: [{ ...file, lines: ['z'] }], applied: [] },
]

test('the report over servers: each server under its headings in server order, a failed one as an error line', () => {
  const captured = captureOutput()
  reportServerLogs(captured.output, outcomes)
  assert.is(
    captured.stdout(),
    [
      '==> web-1 supervisor:app.test/worker (/var/log/supervisor/app.test-worker.log) <==',
      'a',
      'b',
      '',
      '==> web-1 supervisor (journalctl -u supervisor) <==',
      'c',
      '',
      '==> web-3 supervisor:app.test/worker (/var/log/supervisor/app.test-worker.log) <==',
      'z',
      '',
    ].join('\n'),
  )
  assert.is(captured.stderr(), 'error: web-2: cannot connect to 127.0.0.9:22: Connection refused\n')
})

test('--json over servers: { server, source, lines } per server and source, the filter, and what failed', () => {
  assert.equal(JSON.parse(JSON.stringify(logsDocument(50, { pattern: 'x|y', syntax: 'extended' }, outcomes))), {
    ok: false,
    lines: 50,
    grep: { pattern: 'x|y', regex: true },
    logs: [
      {
        server: 'web-1',
        source: 'supervisor:app.test/worker',
        from: 'file',
        path: '/var/log/supervisor/app.test-worker.log',
        lines: ['a', 'b'],
        missing: false,
      },
      { server: 'web-1', source: 'supervisor', from: 'journal', path: null, lines: ['c'], missing: false },
      {
        server: 'web-3',
        source: 'supervisor:app.test/worker',
        from: 'file',
        path: '/var/log/supervisor/app.test-worker.log',
        lines: ['z'],
        missing: false,
      },
    ],
    failed: [{ server: 'web-2', state: 'UNREACHABLE', error: 'cannot connect to 127.0.0.9:22: Connection refused' }],
  })
  assert.is(logsDocument(5, undefined, []).grep, null)
})

test('a server lost while following is said once, with what ssh said, and whether the others go on', () => {
  const dropped = new RemoteError('web-2', 'ssh exited 255: ', '', 'UNREACHABLE')
  assert.is(
    describeLostServer('web-2', dropped, true, true),
    'web-2: stopped following: connection lost (ssh exited 255); the other servers go on',
  )
  const refused = new RemoteError('web-2', 'cannot connect to 127.0.0.9:22: Connection refused', '', 'UNREACHABLE')
  assert.is(
    describeLostServer('web-2', refused, false, false),
    'web-2: cannot follow: cannot connect to 127.0.0.9:22: Connection refused',
  )
})

test.run()
