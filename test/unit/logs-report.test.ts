import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chalk } from 'zx'
import {
  describeNotice,
  followedLine,
  highlight,
  isAlarming,
  logsJson,
  sourceHeading,
} from '../../lib/cli/logs-report.ts'
import type { LogRead } from '../../lib/logs/read.ts'

// server-logs' printing: which lines are red on a terminal (DeployerPHP's keywords and HTTP 500-504), headings,
// the --follow prefix and the --json document.

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

test.run()
