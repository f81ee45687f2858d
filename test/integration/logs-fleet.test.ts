import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec, startSshd, stopSshd } from '../../sandbox/index.ts'
import { PROJECT, runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, startSandbox, type TestSandbox } from '../helpers/sandbox.ts'

// server-logs across three sandbox servers of one site: --follow as one stream of prefixed lines (every line once,
// a 1 MB line whole), a server whose sshd is killed mid-follow reported once while the others go on, Ctrl-C leaving no
// tail on any server; the last lines grouped in server order and as JSON; --grep filtering on the server (the bytes
// that cross the network counted on the SSH connection); bad input refused before any connection.

const logs = suite<{ sandbox: TestSandbox }>('server-logs across sandbox servers')

const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3']
// Numbered lines, ten a second; when its trigger file appears, one line of 1 MB (the program deletes the trigger).
const COUNTER = `#!/bin/sh
i=0
while [ $i -lt 100000 ]; do
  i=$((i+1))
  echo "$(hostname) $SUPERVISOR_PROCESS_NAME line $i"
  if [ -e "/home/deployer/sites/app.test/big-$SUPERVISOR_PROCESS_NAME" ]; then
    rm -f "/home/deployer/sites/app.test/big-$SUPERVISOR_PROCESS_NAME"
    printf 'BIG-%s-' "$(hostname)"; head -c 1048576 /dev/zero | tr '\\0' x; echo '-END'
  fi
  sleep 0.1
done
`
const NOISY_LOG = '/var/log/supervisor/big.test-noisy.log'

logs.before(async (context) => {
  await setUp(context).catch((error) => {
    console.error('server-logs fleet suite set-up failed:', error)
    throw error
  })
})

async function setUp(context: { sandbox: TestSandbox }): Promise<void> {
  context.sandbox = await startSandbox(3)
  const { sandbox } = context
  // big.test is never synced: its log is written by the test, 10,000 lines.
  await addSites(
    sandbox.inventory,
    `
  - domain: app.test
    server: [sandbox-3, sandbox-1, sandbox-2]
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
      - program: beat
        script: beat.sh
        stopwaitsecs: 2
  - domain: big.test
    server: sandbox-1
    supervisors:
      - program: noisy
        script: noisy.sh
`,
  )
  for (const name of SERVERS)
    await deployApp(sandbox.host(name), 'app.test', { 'worker.sh': COUNTER, 'beat.sh': COUNTER })
  const sync = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'app.test'])
  assert.is(sync.exitCode, 0, sync.all)
  for (const name of SERVERS)
    await waitFor(`${name}'s workers logging`, async () =>
      (await readLog(sandbox, name, 'beat')).includes(`${name} app.test-beat_00 line 3`),
    )
}

logs.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const logsTask = (sandbox: TestSandbox, args: string[], env?: Record<string, string>) =>
  runTask('server-logs', ['--inventory', sandbox.inventory, ...args], env ? { env } : {})

function readLog(sandbox: TestSandbox, server: string, program: string): Promise<string> {
  return fs
    .readFile(path.join(sandbox.host(server).root, `var/log/supervisor/app.test-${program}.log`), 'utf8')
    .catch(() => '')
}

/** server-logs --follow in the background, in its own process group (a group signal is Ctrl-C at a terminal). */
function startFollowing(sandbox: TestSandbox, args: string[]) {
  const cli = path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js')
  const { FORCE_COLOR: _ignored, ...env } = process.env
  const child = execa(
    process.execPath,
    [cli, path.join(PROJECT, 'tasks', 'server-logs.mjs'), '--inventory', sandbox.inventory, ...args],
    {
      cwd: PROJECT,
      reject: false,
      stdin: 'ignore',
      detached: true,
      extendEnv: false,
      env: { ...env, NO_COLOR: '1' },
      timeout: 120_000,
    },
  )
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  return {
    out: () => out,
    err: () => err,
    ctrlC: () => process.kill(-(child.pid as number), 'SIGINT'),
    done: child.then((result) => result.exitCode ?? -1),
  }
}

/** tail and grep processes on a server (its own process namespace: only the tasks' remote commands). */
async function remoteFollowers(sandbox: TestSandbox, server: string): Promise<string> {
  const found = await hostExec(sandbox.host(server), ['pgrep', '-a', '-x', 'tail|grep|journalctl'])
  return found.stdout.trim()
}

async function noFollowerLeft(sandbox: TestSandbox, servers = SERVERS): Promise<void> {
  for (const server of servers)
    await waitFor(`no tail or grep left on ${server}`, async () => (await remoteFollowers(sandbox, server)) === '')
}

interface Followed {
  server: string
  source: string
  text: string
}

/** Prefixed lines of the stream: `server source │ text`. */
function followedLines(out: string): Followed[] {
  return out.split('\n').flatMap((line) => {
    const match = /^(\S+) +(\S+) +│ (.*)$/.exec(line)
    return match ? [{ server: match[1]!, source: match[2]!, text: match[3]! }] : []
  })
}

/** The numbers a counter printed, in stream order, for one server and program. */
function counted(lines: Followed[], server: string, program: string): number[] {
  return lines
    .filter((l) => l.server === server && l.source === `app.test/${program}`)
    .flatMap((l) => {
      const match = /^(\S+) app\.test-(\w+)_00 line (\d+)$/.exec(l.text)
      return match ? [Number(match[3])] : []
    })
}

logs(
  '--follow a site: one stream, every line once with its server and source; Ctrl-C leaves no tail',
  async ({ sandbox }) => {
    const follow = startFollowing(sandbox, ['--site', 'app.test', '-n', '1', '--follow'])
    await waitFor(
      'every server and program in the stream',
      async () =>
        SERVERS.every(
          (s) =>
            counted(followedLines(follow.out()), s, 'worker').length &&
            counted(followedLines(follow.out()), s, 'beat').length,
        ),
      30_000,
    )
    for (const server of SERVERS) assert.ok(await remoteFollowers(sandbox, server), `tails run on ${server}`)
    const startedAt = followedLines(follow.out()).length
    // Five seconds of the workers printing, while the stream runs.
    await new Promise((r) => setTimeout(r, 5000))
    await hostExec(sandbox.host('sandbox-2'), ['touch', '/home/deployer/sites/app.test/big-app.test-worker_00'])
    await waitFor('the 1 MB line', async () => follow.out().includes('-END\n'), 30_000)
    follow.ctrlC()
    assert.is(await follow.done, 130, follow.err())
    await noFollowerLeft(sandbox)

    const lines = followedLines(follow.out())
    assert.ok(
      lines.length - startedAt >= 5 * 6,
      `about ten lines a second from each of six programs (${lines.length - startedAt})`,
    )
    for (const line of lines) {
      if (line.text.startsWith('BIG-')) continue
      const [host, process] = line.text.split(' ')
      assert.is(line.server, host, `prefixed with its own server: ${JSON.stringify(line)}`)
      assert.is(
        `app.test/${process?.replace(/^app\.test-(\w+)_00$/, '$1')}`,
        line.source,
        `and its source: ${JSON.stringify(line)}`,
      )
    }
    for (const server of SERVERS)
      for (const program of ['worker', 'beat']) {
        const numbers = counted(lines, server, program)
        const expected = Array.from({ length: numbers.length }, (_, i) => numbers[0]! + i)
        assert.equal(numbers, expected, `${server} ${program}: each line once, none missing, in order`)
        // What the server's log holds between the first and last line seen is exactly what arrived.
        const log = (await readLog(sandbox, server, program)).split('\n').filter((l) => !l.startsWith('BIG-'))
        const first = log.indexOf(`${server} app.test-${program}_00 line ${numbers[0]}`)
        assert.ok(first >= 0)
        assert.equal(
          log.slice(first, first + numbers.length),
          numbers.map((n) => `${server} app.test-${program}_00 line ${n}`),
        )
      }
    const big = lines.filter((l) => l.text.startsWith('BIG-'))
    assert.is(big.length, 1, 'the 1 MB line arrived once')
    assert.is(big[0]?.server, 'sandbox-2')
    assert.is(big[0]?.text, `BIG-sandbox-2-${'x'.repeat(1048576)}-END`, 'whole')
    assert.not.match(follow.err(), /error: (?!interrupted)/, 'no error')
  },
)

logs(
  "a server's sshd killed mid-follow: reported once, the others go on; Ctrl-C then exits 130",
  async ({ sandbox }) => {
    const follow = startFollowing(sandbox, [
      '--site',
      'app.test',
      '--service',
      'supervisor,all-supervisors',
      '-n',
      '1',
      '-f',
    ])
    try {
      await waitFor(
        'every server in the stream',
        async () => SERVERS.every((s) => counted(followedLines(follow.out()), s, 'worker').length),
        30_000,
      )
      // sshd and every process of its sessions, as a dropped connection does (the listener comes back later).
      await hostExec(sandbox.host('sandbox-2'), ['pkill', '-KILL', '-x', 'sshd'])
      await waitFor('sandbox-2 reported', async () => follow.err().includes('sandbox-2: stopped following'), 30_000)
      const at = followedLines(follow.out()).length
      await waitFor('new lines from the other two', async () => {
        const after = followedLines(follow.out()).slice(at)
        return ['sandbox-1', 'sandbox-3'].every((s) => counted(after, s, 'worker').length >= 3)
      })
      assert.is(
        counted(followedLines(follow.out()).slice(at + 5), 'sandbox-2', 'worker').length,
        0,
        'nothing more from sandbox-2',
      )
      follow.ctrlC()
      assert.is(await follow.done, 130, follow.err())
      const reports = follow
        .err()
        .split('\n')
        .filter((l) => l.includes('sandbox-2'))
      assert.equal(reports, [
        'error: sandbox-2: stopped following: connection lost (ssh exited 255); the other servers go on',
      ])
      assert.match(follow.out(), /^sandbox-1 +supervisor +│ \S/m, "the daemon's log, prefixed like the rest")
      await noFollowerLeft(sandbox)
    } finally {
      await stopSshd(sandbox.host('sandbox-2')).catch(() => undefined)
      await startSshd(sandbox.host('sandbox-2'))
    }
  },
)

logs(
  'the last lines of a site: each server under its headings, in inventory order; --json per server and source',
  async ({ sandbox }) => {
    const run = await logsTask(sandbox, ['--site', 'app.test', '-n', '2'])
    assert.is(run.exitCode, 0, run.all)
    const headings = run.stdout.split('\n').filter((l) => l.startsWith('==> '))
    assert.equal(
      headings,
      SERVERS.flatMap((s) => [
        `==> ${s} supervisor:app.test/worker (/var/log/supervisor/app.test-worker.log) <==`,
        `==> ${s} supervisor:app.test/beat (/var/log/supervisor/app.test-beat.log) <==`,
      ]),
    )
    const json = await logsTask(sandbox, [
      '--domain',
      'app.test',
      '--server',
      'sandbox-3,sandbox-1',
      '-s',
      'supervisor:app.test/beat',
      '-n',
      '1',
      '--json',
    ])
    assert.is(json.exitCode, 0, json.all)
    const document = JSON.parse(json.stdout)
    assert.equal(
      document.logs.map((l: { server: string; source: string; lines: string[] }) => [
        l.server,
        l.source,
        l.lines.length,
      ]),
      [
        ['sandbox-1', 'supervisor:app.test/beat', 1],
        ['sandbox-3', 'supervisor:app.test/beat', 1],
      ],
    )
    assert.match(document.logs[0].lines[0], /^sandbox-1 app\.test-beat_00 line \d+$/)
    assert.equal([document.ok, document.failed, document.grep], [true, [], null])
  },
)

logs('a server that cannot be reached: an error line and exit 1, the others still shown', async ({ sandbox }) => {
  await stopSshd(sandbox.host('sandbox-2'))
  try {
    const run = await logsTask(sandbox, ['--site', 'app.test', '-n', '1', '--timeout', '3'])
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.stderr, /^error: sandbox-2: /m)
    assert.match(run.stdout, '==> sandbox-1 supervisor:app.test/worker')
    assert.match(run.stdout, '==> sandbox-3 supervisor:app.test/beat')
    assert.not.match(run.stdout, '==> sandbox-2')
    const follow = await logsTask(sandbox, ['--server', 'sandbox-2', '--service', 'supervisor', '-f', '--timeout', '3'])
    assert.is(follow.exitCode, 1, follow.all)
    assert.match(follow.stderr, 'error: sandbox-2: cannot follow: ')
  } finally {
    await startSshd(sandbox.host('sandbox-2'))
  }
})

logs(
  '--grep on a 10,000-line log: only the matches, and less than 10% of its bytes cross the network',
  async ({ sandbox }) => {
    const lines = Array.from({ length: 10_000 }, (_, i) =>
      i % 100 === 42 ? `${i} ERROR-MATCH job failed ${'.'.repeat(60)}` : `${i} fine job done ${'.'.repeat(70)}`,
    )
    const text = `${lines.join('\n')}\n`
    await hostExec(sandbox.host('sandbox-1'), ['sh', '-c', `cat > ${NOISY_LOG}`], { input: text })
    const matches = lines.filter((l) => l.includes('ERROR-MATCH'))

    // A warm master of its own: the bytes each run receives are counted on its one TCP connection.
    const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-bytes-'))
    const env = { ZXS_CONTROL_PERSIST: '120', XDG_CACHE_HOME: cache, XDG_RUNTIME_DIR: '' }
    const args = ['--server', 'sandbox-1', '--service', 'supervisor:big.test/noisy']
    try {
      const warm = await logsTask(sandbox, [...args, '-n', '1'], env)
      assert.is(warm.exitCode, 0, warm.all)
      const host = sandbox.host('sandbox-1')
      const received = async (run: () => Promise<{ exitCode: number; stdout: string; all: string }>) => {
        const before = await bytesReceivedFrom(host.address, host.port)
        const result = await run()
        assert.is(result.exitCode, 0, result.all)
        return { result, bytes: (await bytesReceivedFrom(host.address, host.port)) - before }
      }
      const grep = await received(() =>
        logsTask(sandbox, [...args, '-n', '1000', '--grep', 'ERROR-MATCH', '--quiet'], env),
      )
      assert.is(grep.result.stdout, matches.join('\n'), 'every match, nothing else')
      assert.ok(grep.bytes > 0, 'the counter sees the connection')
      assert.ok(grep.bytes < text.length / 10, `${grep.bytes} bytes received for a ${text.length}-byte log`)

      // The same counter on the unfiltered last 1000 lines: a tenth of the log, so it sees at least that.
      const plain = await received(() => logsTask(sandbox, [...args, '-n', '1000', '--quiet'], env))
      assert.is(plain.result.stdout.split('\n').length, 1000)
      assert.ok(plain.bytes >= text.length / 10, `${plain.bytes} bytes for 1000 unfiltered lines`)

      const regex = await logsTask(
        sandbox,
        [...args, '-n', '3', '--grep', '^(9[0-9]{3}) ERROR-MATCH', '--regex', '--quiet'],
        env,
      )
      assert.is(regex.stdout, matches.slice(-3).join('\n'))
      const none = await logsTask(sandbox, [...args, '--grep', 'no such text', '--json'], env)
      assert.equal(JSON.parse(none.stdout).logs[0].lines, [])
    } finally {
      const dir = path.join(cache, 'zx-supervisor', 'cm')
      for (const socket of await fs.readdir(dir).catch(() => []))
        await execa('ssh', ['-S', path.join(dir, socket), '-O', 'exit', 'x'], { reject: false })
      await fs.rm(cache, { recursive: true, force: true })
    }
  },
)

/** bytes_received of this machine's TCP connections to address:port, as the kernel counts them (ss -ti). */
async function bytesReceivedFrom(address: string, port: number): Promise<number> {
  const ss = await execa('ss', ['-tinH', 'dst', `${address}:${port}`])
  return [...ss.stdout.matchAll(/bytes_received:(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0)
}

logs('bad input is exit 2 before any connection, naming the flag', async ({ sandbox }) => {
  // Logins, not the log's size: sshd may still be writing the disconnects of the tests before.
  const logins = async () =>
    Promise.all(
      SERVERS.map(async (s) => {
        const log = await fs.readFile(path.join(sandbox.host(s).root, 'var/log/sshd.log'), 'utf8')
        return log.split('\n').filter((line) => line.includes('Accepted publickey')).length
      }),
    )
  const before = await logins()
  const cases: Array<[string[], string[]]> = [
    [
      ['--site', 'app.test', '--grep', 'a(b', '--regex'],
      ['--grep: got "a(b"', '"(" at character 2 is never closed'],
    ],
    [['--site', 'app.test', '--grep', '\\d+', '--regex'], ['write [0-9]']],
    [
      ['--site', 'app.test', '--regex'],
      ['--regex', 'only with --grep PATTERN'],
    ],
    [['--site', 'app.test', '--grep', ''], ['--grep: got ""']],
    [
      ['--server', 'sandbox-1,nope,web'],
      ["Server 'nope' not found", "Server 'web' not found", 'or a group'],
    ],
    [
      ['--server', 'sandbox-2,sandbox-3', '--site', 'big.test'],
      ['--site: got "big.test"', 'a site on sandbox-2, sandbox-3'],
    ],
    [
      ['--site', 'nope.test'],
      ['--site: got "nope.test"', 'app.test, big.test'],
    ],
    [['--domain', 'nope.test'], ['--domain: got "nope.test"']],
    [
      ['--site', 'app.test', '--domain', 'big.test'],
      ['--domain: got "big.test"', 'another name for --site'],
    ],
    [
      ['--site', 'app.test', '--follow', '--json'],
      ['--json', 'not with --follow'],
    ],
    [
      ['--site', 'app.test', '--follow', '--parallel', '4'],
      ['--parallel', 'every server at once'],
    ],
    [['--site', 'app.test', '-s', 'supervisor:big.test/noisy'], ['--site app.test shows only that site']],
    [
      ['--server', 'sandbox-2,sandbox-3', '-s', 'supervisor:big.test/noisy'],
      ['big.test is on sandbox-1, not on sandbox-2, sandbox-3'],
    ],
    [
      ['--service', 'supervisor'],
      ['--server: got nothing', '--site DOMAIN'],
    ],
  ]
  for (const [args, messages] of cases) {
    const run = await logsTask(sandbox, args)
    assert.is(run.exitCode, 2, `${args.join(' ')}: ${run.all}`)
    for (const message of messages) assert.match(run.stderr, message, `${args.join(' ')}: ${run.stderr}`)
    assert.not.match(run.stdout, /==>|│/, 'nothing read')
  }
  assert.equal(await logins(), before, 'no server was contacted')
})

logs.run()
