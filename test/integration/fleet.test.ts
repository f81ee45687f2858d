import fs from 'node:fs/promises'
import path from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { supervisorStatus } from '../../tasks/supervisor-status.mjs'
import { runTask, runTaskOnTerminal, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  editInventory,
  processesOn,
  snapshotDir,
  startSandbox,
  type TestSandbox,
  WORKER,
} from '../helpers/sandbox.ts'

// Many servers: --parallel N bounds the servers in progress (seen by an ssh shim, not by polling), sync --check's exit
// codes, and restart --one-by-one keeping numprocs-1 processes RUNNING (seen by a sampler speaking to supervisord).

const fleet = suite<{ sandbox: TestSandbox; shimDir: string; sshLog: string }>(
  '--parallel, sync --check and restart --one-by-one on sandbox servers',
)
const GROUP = 'app.test-worker'
const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3', 'sandbox-4']
// Masters persisting after a run would hide the opens this file counts; the flag exists once persistence does.
const NO_PERSIST = supervisorStatus.meta.flags.some((f) => f.name === 'persist' || f.name === 'no-persist')
  ? ['--no-persist']
  : []

/**
 * An `ssh` first on PATH that logs each invocation's start and end (`open <pid> <time> <kind> <host>` / `close <pid>
 * <time>`) around the real ssh; kind is master (ControlMaster=yes), control (-O) or run.
 */
const SSH_SHIM = `#!/bin/bash
kind=run; host=-
for arg in "$@"; do
  case "$arg" in
    ControlMaster=yes) kind=master ;;
    -O) kind=control ;;
    127.*) [ "$host" = - ] && host=$arg ;;
  esac
done
echo "open $$ $EPOCHREALTIME $kind $host" >> "$SSH_SHIM_LOG"
/usr/bin/ssh "$@"
status=$?
echo "close $$ $EPOCHREALTIME" >> "$SSH_SHIM_LOG"
exit $status
`

interface SshCall {
  pid: string
  kind: string
  host: string
  open: number
  close: number
}

async function readSshLog(file: string): Promise<SshCall[]> {
  const calls = new Map<string, SshCall>()
  for (const line of (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean)) {
    const [event, pid = '', time = '0', kind = '', host = ''] = line.split(' ')
    if (event === 'open') calls.set(pid, { pid, kind, host, open: Number(time), close: Infinity })
    else (calls.get(pid) as SshCall).close = Number(time)
  }
  return [...calls.values()]
}

/** The most intervals open at one moment (a close at the same instant as an open counts as before it). */
function mostAtOnce(intervals: Array<{ open: number; close: number }>): number {
  const edges = intervals
    .flatMap(
      (i) =>
        [
          [i.open, 1],
          [i.close, -1],
        ] as const,
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let most = 0
  for (const [, step] of edges) {
    now += step
    most = Math.max(most, now)
  }
  return most
}

/** Per server, from its first ssh to the end of its last one (the closing `-O exit` of the run left out). */
function serverSpans(calls: SshCall[]): Array<{ host: string; open: number; close: number }> {
  const byHost = new Map<string, SshCall[]>()
  for (const call of calls.filter((c) => c.kind !== 'control'))
    byHost.set(call.host, [...(byHost.get(call.host) ?? []), call])
  return [...byHost].map(([host, list]) => ({
    host,
    open: Math.min(...list.map((c) => c.open)),
    close: Math.max(...list.map((c) => c.close)),
  }))
}

fleet.before(async (context) => {
  context.sandbox = await startSandbox(4)
  const { sandbox } = context
  await addSites(
    sandbox.inventory,
    `
  - domain: app.test
    server: [${SERVERS.join(', ')}]
    supervisors:
      - program: worker
        script: worker.sh
        numprocs: 3
        startsecs: 1
        stopwaitsecs: 5
`,
  )
  for (const name of SERVERS) await deployApp(sandbox.host(name), 'app.test', { 'worker.sh': WORKER })
  const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--all', ...NO_PERSIST])
  assert.is(run.exitCode, 0, run.all)
  context.shimDir = path.join(sandbox.dir, 'shim')
  context.sshLog = path.join(sandbox.dir, 'ssh.log')
  await fs.mkdir(context.shimDir)
  await fs.writeFile(path.join(context.shimDir, 'ssh'), SSH_SHIM, { mode: 0o755 })
})

fleet.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const withShim = ({ shimDir, sshLog }: { shimDir: string; sshLog: string }) => ({
  env: { PATH: `${shimDir}:${process.env.PATH}`, SSH_SHIM_LOG: sshLog },
})

fleet(
  '--parallel 2 on 4 servers: never more than 2 servers in progress, each SSH master opened at its turn',
  async (context) => {
    const { sandbox, sshLog } = context
    await fs.writeFile(sshLog, '')
    const run = await runTask(
      'supervisor-status',
      ['--inventory', sandbox.inventory, '--parallel', '2', ...NO_PERSIST],
      withShim(context),
    )
    assert.is(run.exitCode, 0, run.all)
    assert.not.match(run.stderr, '\r', 'no progress line without a terminal')
    const calls = await readSshLog(sshLog)
    assert.ok(
      calls.every((c) => c.close !== Infinity),
      'every ssh ended',
    )
    const spans = serverSpans(calls)
    assert.equal(
      spans.map((s) => s.host).sort(),
      sandbox.state.hosts.map((h) => h.address).sort(),
      'all 4 servers were visited',
    )
    assert.is(mostAtOnce(spans), 2, `servers in progress at once: ${JSON.stringify(spans)}`)
    const masters = calls.filter((c) => c.kind === 'master')
    if (!NO_PERSIST.length || masters.length)
      assert.ok(mostAtOnce(masters) <= 2, 'at most 2 ControlMaster=yes connections overlapped')

    // The same measurement sees the overlap when the run allows it: the bound above is --parallel's doing.
    await fs.writeFile(sshLog, '')
    const wide = await runTask(
      'supervisor-status',
      ['--inventory', sandbox.inventory, '--parallel', '4', ...NO_PERSIST],
      withShim(context),
    )
    assert.is(wide.exitCode, 0, wide.all)
    assert.ok(mostAtOnce(serverSpans(await readSshLog(sshLog))) > 2, 'with --parallel 4 more than 2 servers overlap')
  },
)

fleet(
  'on a terminal: a progress line redrawn in place while servers are pending, erased before the per-server lines',
  async ({ sandbox }) => {
    const run = await runTaskOnTerminal(
      'supervisor-status',
      ['--inventory', sandbox.inventory, '--parallel', '2', ...NO_PERSIST],
      [],
    )
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, '\r\x1b[2K0/4 done, 0 failed, 1 running')
    // A server waited on for over a second turns the count into a spinner: "⠋ 2/4 done, … · waiting on sandbox-3 (1 s)".
    assert.match(run.stdout, /\r\x1b\[2K(?:\S )?2\/4 done, 0 failed, 2 running/)
    const ERASE = '\r\x1b[2K'
    const lastErase = run.stdout.lastIndexOf(ERASE)
    assert.ok(
      run.stdout.slice(0, lastErase).endsWith(`${ERASE}4/4 done, 0 failed, 0 running`),
      'the last state, then erased',
    )
    assert.match(
      run.stdout.slice(lastErase + ERASE.length),
      /sandbox-1\s+app.test-worker\s+app.test-worker_00\s+RUNNING/,
      'the table comes after, on a clean line',
    )
  },
)

fleet('--parallel 0 (or 257): exit 2 naming the flag, and no ssh was started at all', async (context) => {
  const { sandbox, sshLog } = context
  const cases = [
    ['supervisor-sync', '0', '--all'],
    ['supervisor-status', '257'],
    ['supervisor-restart', '0', '--domain', 'app.test'],
  ] as const
  for (const [task, value, ...scope] of cases) {
    await fs.writeFile(sshLog, '')
    const run = await runTask(
      task,
      ['--inventory', sandbox.inventory, ...scope, '--parallel', value],
      withShim(context),
    )
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, new RegExp(`--parallel: got "${value}"; allowed: a whole number from 1 to 256`))
    assert.is(await fs.readFile(sshLog, 'utf8'), '', `${task} contacted no server`)
  }
})

fleet(
  'sync --check: 0 when every server matches, 3 with the plan summary when a change is pending, nothing changed',
  async ({ sandbox }) => {
    const check = (...extra: string[]) =>
      runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--all', '--check', ...NO_PERSIST, ...extra])
    let run = await check()
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, /sandbox-4  up to date, nothing to do/)

    const original = await editInventory(sandbox.inventory, (doc) =>
      doc.setIn(['sites', 0, 'supervisors', 0, 'stopwaitsecs'], 7),
    )
    const confs = await snapshotDir(sandbox.host('sandbox-1'), 'etc/supervisor/conf.d')
    const pids = (await processesOn(sandbox.host('sandbox-1'))).map((p) => p.pid)
    run = await check()
    assert.is(run.exitCode, 3, run.all)
    for (const name of SERVERS) assert.match(run.stdout, `${name}  would change 1 file(s); update ${GROUP}`)
    assert.not.match(run.stdout, /^@@|^\+stopwaitsecs/m, 'no diff without --verbose')
    assert.match(run.stdout, /ok=1 changed=1 failed=0\s+\(check: nothing was changed\)/)

    run = await check('--verbose')
    assert.is(run.exitCode, 3, run.all)
    assert.match(run.stdout, /^\+stopwaitsecs=7$/m, 'the diff with --verbose')

    run = await check('--json')
    assert.is(run.exitCode, 3, run.all)
    const document = JSON.parse(run.stdout)
    assert.equal(
      document.servers.map((s: { pending: boolean }) => s.pending),
      [true, true, true, true],
    )
    assert.equal(await snapshotDir(sandbox.host('sandbox-1'), 'etc/supervisor/conf.d'), confs, 'check writes nothing')
    assert.equal(
      (await processesOn(sandbox.host('sandbox-1'))).map((p) => p.pid),
      pids,
      'and restarts nothing',
    )

    // 1 beats 3: an unreachable server while a change is pending elsewhere.
    await editInventory(sandbox.inventory, (doc) =>
      doc.addIn(['servers'], { name: 'gone', host: '127.0.0.254', port: 2, username: 'deployer' }),
    )
    run = await check('--json')
    assert.is(run.exitCode, 1, run.all)
    const servers = JSON.parse(run.stdout).servers as Array<{ server: string; ok: boolean; pending?: boolean }>
    assert.equal(
      servers.map((s) => [s.server, s.ok, s.pending]),
      [...SERVERS.map((s) => [s, true, true]), ['gone', false, undefined]],
    )
    await fs.writeFile(sandbox.inventory, original)
  },
)

fleet('sync --check: exit 1 when a file sync wants is not ours (it would be refused)', async ({ sandbox }) => {
  const conf = path.join(sandbox.host('sandbox-2').root, 'etc/supervisor/conf.d', `${GROUP}.conf`)
  const ours = await fs.readFile(conf, 'utf8')
  await fs.writeFile(conf, ours.split('\n').slice(1).join('\n'))
  try {
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--all', '--check', ...NO_PERSIST])
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.stderr, /sandbox-2: .*app.test-worker.conf/)
    assert.match(run.stdout, 'sandbox-1  up to date, nothing to do')
  } finally {
    await fs.writeFile(conf, ours)
  }
})

/** One long-lived python3 on this machine polling supervisord's XML-RPC socket of a host: a JSON line per sample. */
const SAMPLER = `
import http.client, json, socket, sys, time, xmlrpc.client
class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('localhost')
        self.socket_path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)
class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.socket_path = path
    def make_connection(self, host):
        return UnixConnection(self.socket_path)
rpc = xmlrpc.client.ServerProxy('http://localhost/RPC2', transport=UnixTransport(sys.argv[1]))
while True:
    procs = [p for p in rpc.supervisor.getAllProcessInfo() if p['group'] == sys.argv[2]]
    print(json.dumps({'t': time.time(), 'p': {p['name']: [p['statename'], p['pid']] for p in procs}}), flush=True)
    time.sleep(0.02)
`

interface Sample {
  t: number
  p: Record<string, [string, number]>
}

fleet(
  'restart --one-by-one: at least 2 of 3 processes RUNNING at every moment, and all 3 pids new at the end',
  async ({ sandbox }) => {
    const host = sandbox.host('sandbox-1')
    const before = (await processesOn(host)).filter((p) => p.group === GROUP)
    assert.equal(
      before.map((p) => p.state),
      ['RUNNING', 'RUNNING', 'RUNNING'],
    )
    const samples: Sample[] = []
    const sampler: ResultPromise = execa(
      '/usr/bin/python3',
      ['-c', SAMPLER, path.join(host.root, 'run/supervisor.sock'), GROUP],
      { reject: false, buffer: false },
    )
    sampler.stdout?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) samples.push(JSON.parse(line) as Sample)
    })
    try {
      await waitFor('the sampler answering', async () => samples.length > 0)
      const run = await runTask('supervisor-restart', [
        '--inventory',
        sandbox.inventory,
        '--domain',
        'app.test',
        '--program',
        'worker',
        '--server',
        'sandbox-1',
        '--one-by-one',
        '--json',
        ...NO_PERSIST,
      ])
      assert.is(run.exitCode, 0, run.all)
      const result = JSON.parse(run.stdout).servers[0]
      assert.is(result.restarted.length, 3)
      assert.equal(result.untouched, [])
    } finally {
      sampler.kill()
      await sampler
    }
    const running = samples.map((s) => Object.values(s.p).filter(([state]) => state === 'RUNNING').length)
    assert.ok(samples.length > 100, `sampled often enough (${samples.length} samples)`)
    assert.is(Math.min(...running), 2, `fewest RUNNING at once (${running.join('')})`)
    assert.ok(
      samples.every((s) => Object.keys(s.p).length === 3),
      'every sample saw the whole group',
    )
    const after = (await processesOn(host)).filter((p) => p.group === GROUP)
    assert.equal(
      after.map((p) => p.state),
      ['RUNNING', 'RUNNING', 'RUNNING'],
    )
    assert.ok(
      after.every((p) => !before.some((b) => b.pid === p.pid)),
      `all 3 pids new: ${before.map((p) => p.pid)} → ${after.map((p) => p.pid)}`,
    )
    // One at a time: a process is down only after the one before it came back.
    const downtimes = before.map((b) => samples.filter((s) => s.p[b.process]?.[0] !== 'RUNNING').map((s) => s.t))
    for (let i = 1; i < downtimes.length; i++)
      assert.ok(
        Math.min(...(downtimes[i] as number[])) > Math.max(...(downtimes[i - 1] as number[])),
        `process ${i} went down after process ${i - 1} was back`,
      )
  },
)

fleet(
  '--one-by-one needs --domain: the daemon restart restarts everything at once (exit 2, nothing contacted)',
  async ({ sandbox }) => {
    const run = await runTask('supervisor-restart', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--one-by-one',
    ])
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.stderr, /--one-by-one: .*only with --domain/)
  },
)

fleet.run()
