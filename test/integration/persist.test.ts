import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec, type SandboxHost, startSshd, stopSshd } from '../../sandbox/index.ts'
import { runTask, type TaskRun, waitFor } from '../helpers/run-task.ts'
import { editInventory, onOneServer, type TestSandbox } from '../helpers/sandbox.ts'

// Warm SSH masters across runs, on a real sandbox server: a second run reuses the first one's master (no new sshd
// login), a master idles out after controlPersist, a server that went away gets a new connection, a changed
// known_hosts file never reuses an old master, and a failed or --no-persist run leaves no master behind.
// Each case gets its own cache directory (where warm masters live), so it sees only its own masters.

interface Context {
  sandbox: TestSandbox
  host: SandboxHost
  /** This case's XDG_CACHE_HOME. */
  cache: string
}

const persist = suite<Context>('warm SSH masters across runs')

onOneServer(persist)

persist.before.each(async (context) => {
  context.cache = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-persist-'))
})

persist.after.each(async ({ cache }) => {
  for (const socket of await masterSockets(cache))
    await execa('ssh', ['-S', socket, '-O', 'exit', 'x'], { reject: false })
  await fs.rm(cache, { recursive: true, force: true })
})

/** supervisor-status with persistence on (the test suite turns it off), its masters under this case's cache. */
function status(
  context: Context,
  extra: string[] = [],
  inventory = context.sandbox.inventory,
  persist = '',
): Promise<TaskRun> {
  return runTask('supervisor-status', ['--inventory', inventory, '--verbose', ...extra], {
    env: { ZXS_CONTROL_PERSIST: persist, XDG_CACHE_HOME: context.cache, XDG_RUNTIME_DIR: '' },
  })
}

function masterDir(cache: string): string {
  return path.join(cache, 'zx-supervisor', 'cm')
}

async function masterSockets(cache: string): Promise<string[]> {
  const names = await fs.readdir(masterDir(cache)).catch(() => [])
  return names.map((name) => path.join(masterDir(cache), name))
}

/** The sockets whose master answers (each check counts as use: it restarts the master's idle time). */
async function liveMasters(cache: string): Promise<string[]> {
  const sockets = await masterSockets(cache)
  const answers = await Promise.all(
    sockets.map(
      async (socket) => (await execa('ssh', ['-S', socket, '-O', 'check', 'x'], { reject: false })).exitCode === 0,
    ),
  )
  return sockets.filter((_socket, i) => answers[i])
}

async function logins(host: SandboxHost): Promise<number> {
  const log = await fs.readFile(path.join(host.root, 'var/log/sshd.log'), 'utf8')
  return log.split('\n').filter((line) => line.includes('Accepted publickey')).length
}

persist('a second run reuses the warm master of the first: no new sshd login; --verbose says so', async (context) => {
  const before = await logins(context.host)
  const first = await status(context)
  assert.is(first.exitCode, 0, first.all)
  assert.match(first.stderr, /sandbox-1: SSH master opened, kept warm 60 s after a run that ends well/)
  assert.is(await logins(context.host), before + 1, 'the first run logged in once')
  assert.is((await liveMasters(context.cache)).length, 1, 'its master outlived the run')

  const second = await status(context)
  assert.is(second.exitCode, 0, second.all)
  assert.match(second.stderr, /sandbox-1: SSH master reused, warm from an earlier run/)
  assert.is(await logins(context.host), before + 1, 'the second run made no new login')
})

persist(
  'the master lives in a private 0700 directory, under a socket path short enough for UNIX sockets',
  async (context) => {
    const run = await status(context)
    assert.is(run.exitCode, 0, run.all)
    const [socket] = await liveMasters(context.cache)
    assert.ok(socket, 'a warm master')
    assert.is((await fs.stat(masterDir(context.cache))).mode & 0o777, 0o700)
    assert.ok(socket.length + '.0123456789abcdef'.length < 104, socket)
  },
)

persist('with controlPersist: 2 in the inventory, the master is gone 2 s after the run', async (context) => {
  const inventory = path.join(context.cache, 'short.yml')
  await fs.copyFile(context.sandbox.inventory, inventory)
  await editInventory(inventory, (document) => document.set('controlPersist', 2))
  const run = await status(context, [], inventory)
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stderr, /kept warm 2 s after a run/)
  assert.is((await liveMasters(context.cache)).length, 1, 'warm right after the run')
  // A master removes its socket when it ends; watching the directory does not keep it busy as `ssh -O check` would.
  await waitFor('the master to idle out', async () => (await masterSockets(context.cache)).length === 0, 6000)
})

persist("ZXS_CONTROL_PERSIST beats the inventory's controlPersist; --no-persist beats both", async (context) => {
  const inventory = path.join(context.cache, 'short.yml')
  await fs.copyFile(context.sandbox.inventory, inventory)
  await editInventory(inventory, (document) => document.set('controlPersist', 2))
  const fromEnv = await status(context, [], inventory, '5')
  assert.is(fromEnv.exitCode, 0, fromEnv.all)
  assert.match(fromEnv.stderr, /kept warm 5 s after a run/)
  const off = await status(context, ['--no-persist'], inventory, '5')
  assert.is(off.exitCode, 0, off.all)
  assert.match(off.stderr, /SSH master opened, closed at exit/)
})

persist(
  'a server that went away (sshd restarted, sessions killed) gets a new master: the next run succeeds',
  async (context) => {
    const first = await status(context)
    assert.is(first.exitCode, 0, first.all)
    await stopSshd(context.host)
    await hostExec(context.host, ['pkill', '-KILL', '-x', 'sshd'])
    await startSshd(context.host)
    const before = await logins(context.host)

    const second = await status(context)
    assert.is(second.exitCode, 0, second.all)
    assert.match(second.stderr, /sandbox-1: (SSH master opened|warm SSH master no longer answered)/)
    assert.is(await logins(context.host), before + 1, 'a new login')
  },
)

persist(
  'a warm master whose server stopped answering is replaced after --timeout, not reported as a failure',
  async (context) => {
    const first = await status(context)
    assert.is(first.exitCode, 0, first.all)
    // Freeze the master's sshd session, keep the listener: the old connection hangs, a new one works.
    await hostExec(context.host, ['pkill', '-STOP', '-x', 'sshd'])
    await hostExec(context.host, ['pkill', '-CONT', '--pidfile', '/run/sshd.pid'])
    try {
      const second = await status(context, ['--timeout', '2'])
      assert.is(second.exitCode, 0, second.all)
      assert.match(
        second.stderr,
        /sandbox-1: warm SSH master no longer answered \(server restarted or gone\): replaced by a new connection/,
      )
    } finally {
      await hostExec(context.host, ['pkill', '-CONT', '-x', 'sshd'])
    }
  },
)

persist('a changed known_hosts file never reuses a master made before the change', async (context) => {
  const first = await status(context)
  assert.is(first.exitCode, 0, first.all)
  const [old] = await liveMasters(context.cache)
  await fs.appendFile(context.host.knownHosts, '# re-checked\n')
  const before = await logins(context.host)

  const second = await status(context)
  assert.is(second.exitCode, 0, second.all)
  assert.match(second.stderr, /sandbox-1: SSH master opened/)
  assert.is(await logins(context.host), before + 1, 'a new login, with the host key checked against the new file')
  assert.ok(!second.stderr.includes(old as string), 'another socket than the old master')
})

persist('a failed run closes its masters, also one it reused', async (context) => {
  const warm = await status(context)
  assert.is(warm.exitCode, 0, warm.all)
  const inventory = path.join(context.cache, 'with-unreachable.yml')
  await fs.copyFile(context.sandbox.inventory, inventory)
  // A second server where nothing listens: the run ends with exit 1.
  await editInventory(inventory, (document) => {
    const [server] = (document.toJS() as { servers: Record<string, unknown>[] }).servers
    document.addIn(['servers'], document.createNode({ ...server, name: 'gone', port: 1 }))
  })
  const failed = await status(context, [], inventory)
  assert.is(failed.exitCode, 1, failed.all)
  assert.match(failed.stderr, /sandbox-1: SSH master reused/)
  await waitFor('no master left', async () => (await liveMasters(context.cache)).length === 0, 5000)
})

persist('--no-persist leaves no master and no control directory behind', async (context) => {
  const run = await status(context, ['--no-persist'])
  assert.is(run.exitCode, 0, run.all)
  assert.match(run.stderr, /sandbox-1: SSH master opened, closed at exit/)
  assert.equal(await masterSockets(context.cache), [], 'no warm master')
  const runDir = path.dirname(/closed at exit \((\S+)\)/.exec(run.stderr)?.[1] ?? '')
  assert.match(runDir, /zxs-/)
  assert.not.ok(await fs.stat(runDir).catch(() => null), `the run's own control directory ${runDir} is removed`)
})

persist(
  'a master directory of another user is refused with a warning; the run goes on and closes its masters',
  async (context) => {
    await fs.mkdir(masterDir(context.cache), { recursive: true })
    await fs.chown(masterDir(context.cache), 65534, 65534)
    const run = await status(context)
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stderr, /SSH connections are closed at exit this run: .*belongs to uid 65534/)
    assert.match(run.stderr, /sandbox-1: SSH master opened, closed at exit/)
    assert.equal(await masterSockets(context.cache), [])
  },
)

persist.run()
