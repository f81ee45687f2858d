import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type FollowedFile,
  followCommands,
  noticeService,
  STREAMS_PER_SERVER,
  shareOut,
  tailDemux,
} from '../../lib/logs/follow.ts'
import type { LogSource } from '../../lib/logs/sources.ts'

// --follow: which commands follow which sources (with and without --grep), and how a `tail -F` of several files is
// split back into its files.

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
    name: 'daemon without systemd: a tail per file, so a line written in pieces stays whole',
    sources: [daemon, worker, ws],
    daemon: DAEMON_FILE,
    argvs: [
      ['tail', '-n', '7', '-F', '--', '/var/log/supervisor/supervisord.log'],
      ['tail', '-n', '7', '-F', '--', '/var/log/supervisor/a.test-worker.log'],
      ['tail', '-n', '7', '-F', '--', '/var/log/supervisor/a.test-ws.log'],
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

const programs = (count: number): LogSource[] =>
  Array.from({ length: count }, (_, i) => ({
    kind: 'program',
    service: `supervisor:a.test/p${i + 1}`,
    domain: 'a.test',
    program: `p${i + 1}`,
    path: `/var/log/supervisor/a.test-p${i + 1}.log`,
  }))

test(`follow commands: at most ${STREAMS_PER_SERVER} streams per server (sshd's sessions); beyond, files share tails`, () => {
  assert.is(followCommands(programs(STREAMS_PER_SERVER), undefined, 5).length, STREAMS_PER_SERVER)
  const twenty = followCommands([daemon, ...programs(20)], JOURNAL, 5)
  assert.is(twenty.length, STREAMS_PER_SERVER)
  assert.equal(
    twenty.map((c) => (c.kind === 'tail' ? c.files.length : 'journal')),
    [3, 3, 3, 3, 3, 3, 2, 'journal'],
  )
  assert.equal(
    twenty.flatMap((c) => (c.kind === 'tail' ? c.files.map((f) => f.service) : [c.service])),
    [...programs(20).map((p) => p.service), 'supervisor'],
    'every source once, in order',
  )
})

test('share out: in order, one each while they fit, nearly equal groups beyond', () => {
  assert.equal(shareOut([1, 2, 3], 8), [[1], [2], [3]])
  assert.equal(shareOut([1, 2, 3, 4, 5], 2), [
    [1, 2, 3],
    [4, 5],
  ])
  assert.equal(shareOut([], 8), [])
})

test('follow commands with --grep: the same commands through the filter; shared tails keep their headers', () => {
  const filter = { pattern: 'failed', syntax: 'fixed' } as const
  const [single] = followCommands([worker], undefined, 7, filter)
  assert.equal(single?.argv.slice(0, 2), ['sh', '-c'])
  assert.equal(single?.argv.slice(3), [
    'sh',
    '-F',
    'failed',
    'tail',
    '-n',
    '7',
    '-F',
    '--',
    '/var/log/supervisor/a.test-worker.log',
  ])
  assert.is(single?.label, 'tail -n 7 -F -- /var/log/supervisor/a.test-worker.log', 'messages name the tail')
  const shared = followCommands(programs(9), undefined, 7, { pattern: 'x|y', syntax: 'extended' })[0]!
  assert.equal(shared.argv.slice(4, 6), [
    '-E',
    'x|y\n^==> /var/log/supervisor/a\\.test-p1\\.log <==$\n^==> /var/log/supervisor/a\\.test-p2\\.log <==$',
  ])
  const [journal] = followCommands([daemon], JOURNAL, 7, filter)
  assert.equal(journal?.argv.slice(4), [
    '-F',
    'failed',
    'journalctl',
    '-u',
    'supervisor',
    '-n',
    '7',
    '-f',
    '--no-pager',
  ])
})

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
    name: 'through grep: headers come without the blank line before them',
    files: FILES,
    lines: [
      '==> /var/log/supervisor/supervisord.log <==',
      'failed to start',
      '==> /var/log/supervisor/a.test-worker.log <==',
      'job failed',
    ],
    expected: ['supervisor|failed to start', 'supervisor:a.test/worker|job failed'],
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
