import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteError } from '../../lib/errors.ts'
import { locateDaemonLog, readLogs, splitLines } from '../../lib/logs/read.ts'
import type { LogSource } from '../../lib/logs/sources.ts'
import { fakeConnection } from '../helpers/fake-connection.ts'
import { rejected } from '../helpers/input-error.ts'

// Reading the last N lines: the commands sent (as root, argv with `--`), and what their answers mean — a missing
// file is a warning, an unreadable one a server failure, an empty journal falls back to nothing.

const worker: LogSource = {
  kind: 'program',
  service: 'supervisor:a.test/worker',
  domain: 'a.test',
  program: 'worker',
  path: '/var/log/supervisor/a.test-worker.log',
}
const ghost: LogSource = {
  kind: 'program',
  service: 'supervisor:a.test/ghost',
  domain: 'a.test',
  program: 'ghost',
  path: '/var/log/supervisor/a.test-ghost.log',
}
const daemon: LogSource = { kind: 'daemon', service: 'supervisor' }

test('program logs: tail -n N -- PATH as root; a missing file is marked, not an error', async () => {
  const { connection, calls: sent } = fakeConnection((argv) =>
    argv.includes(ghost.path)
      ? {
          exitCode: 1,
          stderr: "tail: cannot open '/var/log/supervisor/a.test-ghost.log' for reading: No such file or directory",
        }
      : { stdout: 'LINE-1 ok\nLINE-2 an ERROR here' },
  )
  const reads = await readLogs(connection, [worker, ghost], 20)
  assert.equal(
    sent.map((s) => s.argv),
    [
      ['tail', '-n', '20', '--', worker.path],
      ['tail', '-n', '20', '--', ghost.path],
    ],
  )
  assert.ok(
    sent.every((s) => s.options?.privileged),
    'log files are root-only on Debian',
  )
  assert.equal(reads, [
    {
      service: worker.service,
      from: 'file',
      path: worker.path,
      lines: ['LINE-1 ok', 'LINE-2 an ERROR here'],
      missing: false,
    },
    { service: ghost.service, from: 'file', path: ghost.path, lines: [], missing: true },
  ])
})

test('a log that cannot be read for another reason is a failure of that server', async () => {
  const { connection } = fakeConnection(() => ({
    exitCode: 1,
    stderr: "tail: error reading '/var/log/supervisor/a.test-worker.log': Is a directory",
  }))
  const error = await rejected(() => readLogs(connection, [worker], 5), RemoteError)
  assert.is(error.server, 'web-1')
  assert.match(error.message, 'cannot read /var/log/supervisor/a.test-worker.log: tail: error reading')
})

const daemonCases = [
  {
    name: 'no systemd running: the supervisord.log file',
    where: 'file',
    argv: ['tail', '-n', '9', '--', '/var/log/supervisor/supervisord.log'],
    read: {
      service: 'supervisor',
      from: 'file',
      path: '/var/log/supervisor/supervisord.log',
      lines: ['x INFO supervisord started with pid 1'],
      missing: false,
    },
  },
  {
    name: 'systemd running: the journal of the supervisor unit',
    where: 'journal',
    argv: ['journalctl', '-u', 'supervisor', '-n', '9', '--no-pager'],
    read: {
      service: 'supervisor',
      from: 'journal',
      path: null,
      lines: ['x INFO supervisord started with pid 1'],
      missing: false,
    },
  },
]
for (const c of daemonCases) {
  test(`the daemon's log, ${c.name}`, async () => {
    const { connection, calls: sent } = fakeConnection((argv) =>
      argv[0] === 'sh' ? { stdout: `${c.where}\n` } : { stdout: 'x INFO supervisord started with pid 1\n' },
    )
    assert.equal(await readLogs(connection, [daemon], 9), [c.read])
    assert.match(sent[0]!.argv.join(' '), '[ -d /run/systemd/system ]')
    assert.equal(sent[1]!.argv, c.argv)
  })
}

test('an empty journal ("-- No entries --") is reported as missing, not as a line', async () => {
  const { connection } = fakeConnection((argv) =>
    argv[0] === 'sh' ? { stdout: 'journal' } : { stdout: '-- No entries --' },
  )
  assert.equal(await readLogs(connection, [daemon], 3), [
    { service: 'supervisor', from: 'journal', path: null, lines: [], missing: true },
  ])
})

test('locating the daemon log checks for a running systemd, not for systemctl', async () => {
  const { connection, calls: sent } = fakeConnection(() => ({ stdout: 'file' }))
  assert.equal(await locateDaemonLog(connection), { from: 'file', path: '/var/log/supervisor/supervisord.log' })
  assert.not.match(sent[0]!.argv.join(' '), 'systemctl')
})

const splitCases: Array<[string, string[]]> = [
  ['', []],
  ['a', ['a']],
  ['a\nb\n', ['a', 'b']],
  ['a\n\nb', ['a', '', 'b']],
  ['\n', ['']],
]
for (const [text, lines] of splitCases) {
  test(`splitLines ${JSON.stringify(text)}`, () => assert.equal(splitLines(text), lines))
}

test.run()
