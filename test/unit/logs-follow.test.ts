import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type FollowedFile, followCommands, noticeService, tailDemux } from '../../lib/logs/follow.ts'
import type { LogSource } from '../../lib/logs/sources.ts'

// --follow: which commands follow which sources, and how one `tail -F` output is split back into its files.

const daemon: LogSource = { kind: 'daemon', service: 'supervisor' }
const worker: LogSource = {
  kind: 'program',
  service: 'supervisor:a.test/worker',
  domain: 'a.test',
  program: 'worker',
  path: '/var/log/supervisor/a.test-worker.log',
}
const ws: LogSource = {
  kind: 'program',
  service: 'supervisor:a.test/ws',
  domain: 'a.test',
  program: 'ws',
  path: '/var/log/supervisor/a.test-ws.log',
}
const DAEMON_FILE = { from: 'file', path: '/var/log/supervisor/supervisord.log' } as const
const JOURNAL = { from: 'journal', unit: 'supervisor' } as const

const commandCases = [
  {
    name: 'one program: one tail',
    sources: [worker],
    daemon: undefined,
    argvs: [['tail', '-n', '7', '-F', '--', '/var/log/supervisor/a.test-worker.log']],
  },
  {
    name: 'daemon without systemd: its file in the same tail',
    sources: [daemon, worker, ws],
    daemon: DAEMON_FILE,
    argvs: [
      [
        'tail',
        '-n',
        '7',
        '-F',
        '--',
        '/var/log/supervisor/supervisord.log',
        '/var/log/supervisor/a.test-worker.log',
        '/var/log/supervisor/a.test-ws.log',
      ],
    ],
  },
  {
    name: 'daemon under systemd: journalctl -f beside the tail',
    sources: [daemon, worker],
    daemon: JOURNAL,
    argvs: [
      ['tail', '-n', '7', '-F', '--', '/var/log/supervisor/a.test-worker.log'],
      ['journalctl', '-u', 'supervisor', '-n', '7', '-f', '--no-pager'],
    ],
  },
  {
    name: 'the daemon alone under systemd: no tail',
    sources: [daemon],
    daemon: JOURNAL,
    argvs: [['journalctl', '-u', 'supervisor', '-n', '7', '-f', '--no-pager']],
  },
]
for (const c of commandCases) {
  test(`follow commands: ${c.name}`, () => {
    assert.equal(
      followCommands(c.sources, c.daemon, 7).map((command) => command.argv),
      c.argvs,
    )
  })
}

const FILES: FollowedFile[] = [
  { path: '/var/log/supervisor/supervisord.log', service: 'supervisor' },
  { path: '/var/log/supervisor/a.test-worker.log', service: 'supervisor:a.test/worker' },
]

function demux(files: FollowedFile[], lines: string[]): string[] {
  const d = tailDemux(files)
  return [...lines.flatMap((l) => d.push(l)), ...d.flush()].map(([service, line]) => `${service}|${line}`)
}

const demuxCases: Array<{ name: string; files: FollowedFile[]; lines: string[]; expected: string[] }> = [
  {
    name: 'headers switch the source; the blank line tail writes before a header is dropped',
    files: FILES,
    lines: [
      '==> /var/log/supervisor/supervisord.log <==',
      'started',
      '',
      '==> /var/log/supervisor/a.test-worker.log <==',
      'LINE-1',
      'LINE-2',
      '',
      '==> /var/log/supervisor/supervisord.log <==',
      'exited',
    ],
    expected: [
      'supervisor|started',
      'supervisor:a.test/worker|LINE-1',
      'supervisor:a.test/worker|LINE-2',
      'supervisor|exited',
    ],
  },
  {
    name: "a log's own blank lines are kept",
    files: FILES,
    lines: ['==> /var/log/supervisor/a.test-worker.log <==', 'a', '', '', 'b', ''],
    expected: [
      'supervisor:a.test/worker|a',
      'supervisor:a.test/worker|',
      'supervisor:a.test/worker|',
      'supervisor:a.test/worker|b',
      'supervisor:a.test/worker|',
    ],
  },
  {
    name: 'a header-like line naming no followed file is a log line',
    files: FILES,
    lines: ['==> /var/log/supervisor/a.test-worker.log <==', '==> /etc/passwd <==', '', '==> fake <=='],
    expected: [
      'supervisor:a.test/worker|==> /etc/passwd <==',
      'supervisor:a.test/worker|',
      'supervisor:a.test/worker|==> fake <==',
    ],
  },
  {
    name: 'one file: tail writes no headers, every line is its own, even one looking like a header',
    files: [FILES[1]!],
    lines: ['x', '', '==> /var/log/supervisor/a.test-worker.log <=='],
    expected: [
      'supervisor:a.test/worker|x',
      'supervisor:a.test/worker|',
      'supervisor:a.test/worker|==> /var/log/supervisor/a.test-worker.log <==',
    ],
  },
]
for (const c of demuxCases) {
  test(`tail demux: ${c.name}`, () => assert.equal(demux(c.files, c.lines), c.expected))
}

test("tail's messages are matched to the file they name", () => {
  assert.is(
    noticeService(
      FILES,
      "tail: cannot open '/var/log/supervisor/a.test-worker.log' for reading: No such file or directory",
    ),
    'supervisor:a.test/worker',
  )
  assert.is(noticeService(FILES, '/var/log/supervisor/supervisord.log: file truncated'), 'supervisor')
  assert.is(noticeService(FILES, 'tail: inotify resources exhausted'), undefined)
})

test.run()
