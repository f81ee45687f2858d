import fs from 'node:fs/promises'
import path from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { PROJECT, runTask, runTaskOnTerminal, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, startSandbox, type TestSandbox } from '../helpers/sandbox.ts'

// server-logs through the real task on two sandbox servers: a program whose script prints known lines, the daemon's
// own log, bad input refused before any connection, and --follow streaming until SIGTERM with nothing left behind.

const logs = suite<{ sandbox: TestSandbox }>('server-logs on sandbox servers')

const PRINTER = '#!/bin/sh\necho "LINE-1 ok"\necho "LINE-2 an ERROR here"\nexec sleep 100000\n'
const WORKER_LOG = '/var/log/supervisor/app.test-worker.log'
const logsTask = (sandbox: TestSandbox, args: string[]) =>
  runTask('server-logs', ['--inventory', sandbox.inventory, ...args])

logs.before(async (context) => {
  // uvu swallows an error thrown by a before hook (every test then just fails): show it.
  await setUp(context).catch((error) => {
    console.error('server-logs suite set-up failed:', error)
    throw error
  })
})

async function setUp(context: { sandbox: TestSandbox }): Promise<void> {
  context.sandbox = await startSandbox(2)
  const { sandbox } = context
  // ghost.test is never synced: its program has no log file on the server.
  await addSites(
    sandbox.inventory,
    `
  - domain: app.test
    server: sandbox-1
    supervisors:
      - program: worker
        script: printer.sh
        stopwaitsecs: 2
  - domain: ghost.test
    server: sandbox-1
    supervisors:
      - program: never
        script: printer.sh
  - domain: b.test
    server: sandbox-2
    supervisors:
      - program: x
        script: printer.sh
        stopwaitsecs: 2
  - domain: empty.test
    server: sandbox-2
`,
  )
  await deployApp(sandbox.host('sandbox-1'), 'app.test', { 'printer.sh': PRINTER })
  await deployApp(sandbox.host('sandbox-2'), 'b.test', { 'printer.sh': PRINTER })
  for (const domain of ['app.test', 'b.test']) {
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', domain])
    assert.is(run.exitCode, 0, run.all)
  }
  await waitFor(
    'the worker log',
    async () =>
      (await fs.readFile(path.join(sandbox.host('sandbox-1').root, WORKER_LOG), 'utf8').catch(() => '')).includes(
        'LINE-2',
      ),
    30_000,
  )
}

logs.after(async ({ sandbox }) => {
  await sandbox?.down()
})

logs("a program's log: its lines under a heading naming server, service and file", async ({ sandbox }) => {
  const run = await logsTask(sandbox, ['--server', 'sandbox-1', '--service', 'supervisor:app.test/worker'])
  assert.is(run.exitCode, 0, run.all)
  assert.is(run.stdout, `==> sandbox-1 supervisor:app.test/worker (${WORKER_LOG}) <==\nLINE-1 ok\nLINE-2 an ERROR here`)
  assert.not.match(run.stdout, '\u001b[', 'no colour without a terminal')
})

logs('--quiet: the lines without headings, as tail -q', async ({ sandbox }) => {
  const run = await logsTask(sandbox, [
    '--server',
    'sandbox-1',
    '--service',
    'supervisor:app.test/worker,supervisor:ghost.test/never',
    '--quiet',
  ])
  assert.is(run.exitCode, 0, run.all)
  assert.is(run.stdout, 'LINE-1 ok\nLINE-2 an ERROR here')
  assert.match(run.stderr, 'No logs found or file does not exist')
})

logs('--lines 1 / -n 1: only the last line', async ({ sandbox }) => {
  for (const flag of ['--lines', '-n']) {
    const run = await logsTask(sandbox, ['--server', 'sandbox-1', '--service', 'supervisor:app.test/worker', flag, '1'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'LINE-2 an ERROR here')
    assert.not.match(run.stdout, 'LINE-1')
  }
})

logs(
  "all-supervisors: the daemon's supervisord.log and every program of the server, a missing log only warned",
  async ({ sandbox }) => {
    const run = await logsTask(sandbox, ['--server', 'sandbox-1', '--service', 'all-supervisors', '-n', '1000'])
    assert.is(run.exitCode, 0, run.all)
    const sections = run.stdout.split(/\n(?===> )/)
    assert.equal(
      sections.map((s) => s.split('\n')[0]),
      [
        '==> sandbox-1 supervisor (/var/log/supervisor/supervisord.log) <==',
        `==> sandbox-1 supervisor:app.test/worker (${WORKER_LOG}) <==`,
        '==> sandbox-1 supervisor:ghost.test/never (/var/log/supervisor/ghost.test-never.log) <==',
      ],
    )
    assert.match(sections[0]!, 'supervisord started')
    assert.match(sections[1]!, 'LINE-1 ok\nLINE-2 an ERROR here')
    assert.match(
      run.stderr,
      'warning: sandbox-1 supervisor:ghost.test/never: No logs found or file does not exist (/var/log/supervisor/ghost.test-never.log)',
    )
  },
)

logs(
  '--site: only that site; all-supervisors of a site without programs is refused with what exists',
  async ({ sandbox }) => {
    const run = await logsTask(sandbox, ['--server', 'sandbox-1', '--site', 'app.test', '--service', 'all-supervisors'])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, 'supervisor:app.test/worker')
    assert.not.match(run.stdout, /==> sandbox-1 supervisor \(/, "the daemon's log is not the site's")
    assert.not.match(run.stdout, 'ghost.test')
    const none = await logsTask(sandbox, [
      '--server',
      'sandbox-2',
      '--site',
      'empty.test',
      '--service',
      'all-supervisors',
    ])
    assert.is(none.exitCode, 2, none.all)
    assert.match(none.stderr, 'Invalid service(s): all-supervisors')
    assert.match(none.stderr, 'allowed: one or more of supervisor, audit (comma-separated)')
  },
)

logs('--json: one document with each source, its lines and whether it is missing', async ({ sandbox }) => {
  const run = await logsTask(sandbox, [
    '--server',
    'sandbox-1',
    '--service',
    'supervisor:app.test/worker,supervisor:ghost.test/never',
    '--json',
  ])
  assert.is(run.exitCode, 0, run.all)
  const document = JSON.parse(run.stdout)
  assert.equal(document, {
    ok: true,
    lines: 50,
    grep: null,
    logs: [
      {
        server: 'sandbox-1',
        source: 'supervisor:app.test/worker',
        from: 'file',
        path: WORKER_LOG,
        lines: ['LINE-1 ok', 'LINE-2 an ERROR here'],
        missing: false,
      },
      {
        server: 'sandbox-1',
        source: 'supervisor:ghost.test/never',
        from: 'file',
        path: '/var/log/supervisor/ghost.test-never.log',
        lines: [],
        missing: true,
      },
    ],
    failed: [],
  })
})

logs('bad input is exit 2 with a message naming the flag, before any connection', async ({ sandbox }) => {
  const sshdLog = path.join(sandbox.host('sandbox-1').root, 'var/log/sshd.log')
  const before = (await fs.stat(sshdLog)).size
  const cases: Array<[string[], string[]]> = [
    [
      ['--service', 'supervisor', '--lines', '0'],
      ['--lines: got "0"', 'a whole number from 1 to 1000'],
    ],
    [
      ['--service', 'supervisor', '--lines', '1001'],
      ['--lines: got "1001"', 'cannot exceed 1000 lines'],
    ],
    [['--service', 'supervisor', '--lines', 'abc'], ['--lines: got "abc"']],
    [['--service', 'supervisor', '-n', '-3'], ['--lines']],
    [
      ['--service', 'supervisor:app.test/nope'],
      [
        'Invalid service(s): supervisor:app.test/nope',
        'app.test has no program nope (it has worker)',
        'supervisor:ghost.test/never',
      ],
    ],
    [
      ['--service', 'nginx'],
      ['Invalid service(s): nginx', 'one or more of supervisor, audit, all-supervisors, supervisor:app.test/worker'],
    ],
    [['--service', 'supervisor:b.test/x'], ['b.test is on sandbox-2, not sandbox-1; use --server sandbox-2']],
    [
      ['--site', 'b.test', '--service', 'all-supervisors'],
      ['--site: got "b.test"', 'b.test is on sandbox-2, not sandbox-1'],
    ],
    [
      ['--service', 'supervisor', '--follow', '--json'],
      ['--json', 'not with --follow'],
    ],
    [[], ['--service: got nothing', 'supervisor, audit, all-supervisors, supervisor:app.test/worker']],
  ]
  for (const [args, messages] of cases) {
    const run = await logsTask(sandbox, ['--server', 'sandbox-1', ...args])
    assert.is(run.exitCode, 2, `${args.join(' ')}: ${run.all}`)
    for (const message of messages) assert.match(run.stderr, message, `${args.join(' ')}: ${run.stderr}`)
    assert.not.match(run.stdout, '==>', 'nothing was read')
  }
  const unknown = await logsTask(sandbox, ['--server', 'nope', '--service', 'supervisor'])
  assert.is(unknown.exitCode, 2)
  assert.match(unknown.stderr, 'a server (sandbox-1, sandbox-2) or a group')
  assert.is((await fs.stat(sshdLog)).size, before, 'no connection was made')
})

logs('on a terminal with no --server and --service: a choice of each', async ({ sandbox }) => {
  const run = await runTaskOnTerminal(
    'server-logs',
    ['--inventory', sandbox.inventory, '-n', '1'],
    [
      // Arrow-key menus: Enter takes the first server; three Downs, the fourth source (after supervisor, audit, all-supervisors).
      ['Select server:', ''],
      ['Which logs to view?', '\x1b[B\x1b[B\x1b[B'],
    ],
  )
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stdout, '● supervisor:app.test/worker')
  assert.match(run.stdout, `==> sandbox-1 supervisor:app.test/worker (${WORKER_LOG}) <==`)
  assert.match(run.stdout, 'LINE-2 an ERROR here')
})

logs(
  '--follow streams lines appended later, each with its server and source, and SIGTERM stops it leaving nothing behind',
  async ({ sandbox }) => {
    const host = sandbox.host('sandbox-1')
    const child = startFollowing(sandbox, [
      '--server',
      'sandbox-1',
      '--service',
      'all-supervisors',
      '-n',
      '2',
      '--follow',
    ])
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    try {
      await waitFor('the last lines', async () => /^sandbox-1 app\.test\/worker +│ LINE-2 an ERROR here$/m.test(out))
      await hostExec(host, [
        'sh',
        '-c',
        `echo "LINE-3 appended later" >> ${WORKER_LOG}; echo "daemon marker 42" >> /var/log/supervisor/supervisord.log`,
      ])
      await waitFor(
        'the appended lines',
        async () =>
          /^sandbox-1 app\.test\/worker +│ LINE-3 appended later$/m.test(out) &&
          /^sandbox-1 supervisor +│ daemon marker 42$/m.test(out),
      )
      assert.ok(await remoteTails(sandbox), 'a tail -F runs on the server while following')
      assert.ok(await remoteSshSessions(sandbox), 'and its ssh connection is seen')
    } finally {
      child.kill('SIGTERM')
    }
    const result = await child
    assert.is(result.exitCode, 130, String(result.stderr))
    assert.match(
      out,
      'sandbox-1  following supervisor, supervisor:app.test/worker, supervisor:ghost.test/never (Ctrl-C to stop)',
    )
    assert.match(
      String(result.stderr),
      'supervisor:ghost.test/never: No logs found or file does not exist (/var/log/supervisor/ghost.test-never.log); waiting for it to appear',
    )
    assert.not.match(String(result.stderr), /error: (?!interrupted by SIGTERM)/, 'no error besides the interruption')
    await waitFor('no ssh client of this run left', async () => !(await localSshClients(sandbox)).length)
    await waitFor(
      'no ssh connection left on the server (the master is closed too)',
      async () => !(await remoteSshSessions(sandbox)),
    )
    await waitFor('no tail left on the server', async () => !(await remoteTails(sandbox)))
  },
)

function startFollowing(sandbox: TestSandbox, args: string[]): ResultPromise {
  const cli = path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js')
  const { FORCE_COLOR: _ignored, ...env } = process.env
  return execa(
    process.execPath,
    [cli, path.join(PROJECT, 'tasks', 'server-logs.mjs'), '--inventory', sandbox.inventory, ...args],
    {
      cwd: PROJECT,
      reject: false,
      stdin: 'ignore',
      extendEnv: false,
      env: { ...env, NO_COLOR: '1' },
      timeout: 60_000,
    },
  )
}

/** ssh clients on this machine that use this sandbox's key (only this test's tasks do). */
async function localSshClients(sandbox: TestSandbox): Promise<string[]> {
  const ps = await execa('ps', ['-eo', 'pid=,args='], { reject: false })
  return ps.stdout.split('\n').filter((line) => /^\s*\d+ ssh /.test(line) && line.includes(sandbox.dir))
}

/** sshd's per-connection processes on the server: one lives as long as any connection (the master's too). */
async function remoteSshSessions(sandbox: TestSandbox): Promise<boolean> {
  return (await hostExec(sandbox.host('sandbox-1'), ['pgrep', '-f', '^sshd: deployer'])).exitCode === 0
}

async function remoteTails(sandbox: TestSandbox): Promise<boolean> {
  const found = await hostExec(sandbox.host('sandbox-1'), ['pgrep', '-f', `tail -n 2 -F -- `])
  return found.exitCode === 0
}

logs.run()
