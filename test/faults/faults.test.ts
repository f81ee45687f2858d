import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { YAML } from 'zx'
import {
  dropSshSessions,
  hostExec,
  pauseSshd,
  resumeSshd,
  type SandboxHost,
  startSshd,
  stopSshd,
} from '../../sandbox/index.ts'
import { activationStarted, nothingAtWork, takeServerLock } from '../helpers/activation.ts'
import { counted, recordStateCheck } from '../helpers/figure.ts'
import { PROJECT, runTask, runTaskOnTerminal, waitFor } from '../helpers/run-task.ts'
import { deployApp, processesOn, startSandbox, type TestSandbox, WORKER, writeAppDir } from '../helpers/sandbox.ts'
import { oldOrNew, type ServerState, serverState } from '../helpers/server-state.ts'

// Faults on a real sandbox server during supervisor-sync. Each case moves the inventory to a new variant, injects
// the fault, runs the real task, and checks the message, the exit code, and that the server ended FULLY in the
// old state or FULLY in the new one (files and running processes), the new one being what a clean retry produces.

const DOMAIN = 'f.test'
const VARIANTS = [
  [{ program: 'w', script: 'worker.sh', numprocs: 1, stopwaitsecs: 3, environment: { X: 'a' } }],
  [
    { program: 'w', script: 'worker.sh', numprocs: 2, stopwaitsecs: 3, environment: { X: 'b' } },
    { program: 'p2', script: 'other.sh', stopwaitsecs: 3 },
  ],
]

interface Context {
  sandbox: TestSandbox
  host: SandboxHost
  app: string
  variant: number
}

const faults = suite<Context>('faults during sync on a sandbox server')

async function setVariant(context: Context, index: number, file = context.sandbox.inventory): Promise<void> {
  const document = YAML.parseDocument(await fs.readFile(context.sandbox.inventory, 'utf8'))
  document.set('sites', document.createNode([{ domain: DOMAIN, server: 'sandbox-1', supervisors: VARIANTS[index] }]))
  await fs.writeFile(file, document.toString())
}

const sync = (context: Context, extra: string[] = []) =>
  runTask('supervisor-sync', ['--inventory', context.sandbox.inventory, '--domain', DOMAIN, ...extra])

async function settled(host: SandboxHost): Promise<void> {
  // An activation goes on on the server after the client is gone: wait for it to finish.
  await waitFor('no sync at work on the server', () => nothingAtWork(host), 60_000)
  await waitFor('processes settled', async () =>
    (await processesOn(host)).every((p) => p.state === 'RUNNING' || p.state === 'STOPPED'),
  )
  await waitFor(
    'no stage dir left',
    async () => !(await fs.readdir(path.join(host.root, 'var/tmp'))).some((n) => n.startsWith('zxs-stage-')),
  )
}

/**
 * One fault case: flip to the other variant, inject, run, check, remove the fault, retry (must succeed), and
 * require the faulted state to equal the old or the new one.
 */
async function faultCase(
  context: Context,
  name: string,
  steps: {
    inject: () => Promise<void>
    run: () => Promise<{ exitCode: number; all: string }>
    expect: RegExp
    code?: number
    remove: () => Promise<void>
    compareProcesses?: boolean
    ignore?: string[]
    converge?: (old: ServerState) => Promise<void>
  },
): Promise<'old' | 'new' | 'mixed'> {
  const old = await serverState(context.host, DOMAIN)
  context.variant = 1 - context.variant
  await setVariant(context, context.variant)
  await steps.inject()
  let result: Awaited<ReturnType<typeof steps.run>>
  try {
    result = await steps.run()
  } finally {
    await steps.remove()
  }
  assert.is(result.exitCode, steps.code ?? 1, result.all)
  assert.ok(steps.expect.test(result.all), `expected ${steps.expect} in:\n${result.all}`)
  await (steps.converge ? steps.converge(old) : settled(context.host))
  const after = await serverState(context.host, DOMAIN, { ignore: steps.ignore })
  const retry = await sync(context)
  assert.is(retry.exitCode, 0, `the retry after removing the fault: ${retry.all}`)
  await settled(context.host)
  const fresh = await serverState(context.host, DOMAIN)
  const verdict = oldOrNew(name, after, old, fresh, { compareProcesses: steps.compareProcesses })
  assert.is.not(
    verdict,
    'mixed',
    `server half-configured after "${name}":\n${JSON.stringify({ old, after, fresh }, null, 1)}`,
  )
  return verdict
}

faults.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.host = context.sandbox.host('sandbox-1')
  // late.sh: a script no variant uses, for the supervisor-create cases, whichever variant the cases before left.
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER, 'other.sh': WORKER, 'late.sh': WORKER })
  await deployApp(context.host, DOMAIN, { 'worker.sh': WORKER, 'other.sh': WORKER })
  context.variant = 0
  await setVariant(context, 0)
  const first = await sync(context)
  assert.is(first.exitCode, 0, first.all)
  await settled(context.host)
})

faults.after(async ({ sandbox }) => {
  await sandbox?.down()
})

/** Holds the server's sync lock for a while, so a sync under test is caught between upload and activation. */
async function holdServerLock(host: SandboxHost, seconds: number): Promise<void> {
  await hostExec(host, ['sh', '-c', `flock /run/lock/zx-supervisor.lock sleep ${seconds} </dev/null >/dev/null 2>&1 &`])
  await waitFor(
    'lock held',
    async () => (await hostExec(host, ['flock', '-n', '/run/lock/zx-supervisor.lock', 'true'])).exitCode !== 0,
  )
}

async function stageDirAppears(host: SandboxHost): Promise<void> {
  await waitFor(
    'the upload (a stage dir on the server)',
    async () => (await fs.readdir(path.join(host.root, 'var/tmp'))).some((n) => n.startsWith('zxs-stage-')),
    20_000,
  )
}

/** The processes a variant wants, all RUNNING, as `supervisorctl status` names them. */
function wantedProcesses(variant: number): string[] {
  return (VARIANTS[variant] ?? [])
    .flatMap((p) =>
      Array.from(
        { length: p.numprocs ?? 1 },
        (_, i) => `${DOMAIN}-${p.program}:${DOMAIN}-${p.program}_${String(i).padStart(2, '0')}`,
      ),
    )
    .sort()
}

/**
 * Waits, by the server's state, until nothing of the sync is at work any more and the server is exactly in the old
 * state or fully in the new one (supervisor has applied every conf on disk and runs the new processes). A server that
 * stays half-way fails here, at the deadline, showing its state.
 */
async function convergedTo(context: Context, old: ServerState): Promise<void> {
  let last: unknown
  try {
    await waitFor(
      'the server back in the old state or fully in the new one',
      async () => {
        if (!(await nothingAtWork(context.host))) {
          last = 'a sync still at work'
          return false
        }
        const now = await serverState(context.host, DOMAIN)
        if (JSON.stringify(now) === JSON.stringify(old)) return true
        const processes = await processesOn(context.host)
        const pending = (await hostExec(context.host, ['supervisorctl', 'reread'])).stdout.trim()
        last = { pending, processes: processes.map((p) => `${p.name} ${p.state}`) }
        const running = processes
          .filter((p) => p.state === 'RUNNING')
          .map((p) => p.name)
          .sort()
        return (
          pending === 'No config updates to processes' &&
          processes.length === running.length &&
          JSON.stringify(running) === JSON.stringify(wantedProcesses(context.variant))
        )
      },
      60_000,
    )
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; last seen: ${JSON.stringify(last)}`)
  }
}

faults(
  'the server is down before the run',
  counted('server down', async (context) => {
    await faultCase(context, 'server down before the run', {
      inject: () => stopSshd(context.host),
      run: () => sync(context),
      expect: /sandbox-1: connection refused by 127\.0\.0\.\d+:22/,
      remove: () => startSshd(context.host),
    })
  }),
)

faults(
  'sshd hangs: the connect timeout is honoured',
  counted('sshd hangs', async (context) => {
    let elapsed = 0
    await faultCase(context, 'sshd hangs', {
      inject: () => pauseSshd(context.host),
      run: async () => {
        const started = Date.now()
        const result = await sync(context, ['--timeout', '2'])
        elapsed = Date.now() - started
        return result
      },
      expect: /sandbox-1: connection to .* timed out/,
      remove: () => resumeSshd(context.host),
    })
    assert.ok(elapsed < 12_000, `gave up after ${elapsed} ms`)
  }),
)

faults(
  'sudo requires a password',
  counted('sudo password', async (context) => {
    const rule = path.join(context.host.root, 'etc/sudoers.d/zx-supervisor-sandbox')
    await faultCase(context, 'sudo requires a password', {
      inject: () => fs.rename(rule, `${rule}.off`),
      run: () => sync(context),
      expect:
        /sandbox-1: sudo asks deployer for a password[\s\S]*deployer ALL=\(ALL\) NOPASSWD: ALL' > \/etc\/sudoers\.d\/zzz-zx-supervisor[\s\S]*sudo -l -U deployer[\s\S]*sandbox-1\s+ok=0 changed=0 failed=1\s+SUDO-PASSWORD/,
      remove: () => fs.rename(`${rule}.off`, rule),
    })
  }),
)

faults(
  'supervisord is stopped',
  counted('supervisord stopped', async (context) => {
    await faultCase(context, 'supervisord is stopped', {
      inject: async () => {
        await hostExec(context.host, ['/etc/init.d/supervisor', 'stop'])
        await waitFor(
          'supervisord gone',
          async () => (await hostExec(context.host, ['pgrep', '-x', 'supervisord'])).exitCode === 1,
        )
      },
      run: () => sync(context),
      expect: /supervisord is not running .*nothing was changed/,
      remove: async () => {
        await hostExec(context.host, ['/etc/init.d/supervisor', 'start'])
        await waitFor(
          'supervisord back',
          async () => (await hostExec(context.host, ['supervisorctl', 'pid'])).exitCode === 0,
        )
      },
      // Stopping supervisord stops every program: that is the fault, not the sync; compare the files.
      compareProcesses: false,
    })
  }),
)

faults(
  "conf.d already holds someone else's broken file",
  counted('foreign broken file', async (context) => {
    const foreign = path.join(context.host.root, 'etc/supervisor/conf.d/zz-someone-else.conf')
    await faultCase(context, "someone else's broken file in conf.d", {
      inject: () => fs.writeFile(foreign, '[program:bad name]\ncommand=/bin/true\n'),
      run: () => sync(context),
      expect:
        /supervisor already rejects the configuration on this server, before any change of ours; nothing was changed[\s\S]*Invalid name/,
      remove: () => fs.rm(foreign),
      ignore: ['zz-someone-else.conf'],
    })
  }),
)

faults(
  'conf.d is read-only (a write error mid-activation)',
  counted('read-only conf.d', async (context) => {
    const verdict = await faultCase(context, 'conf.d read-only', {
      inject: async () => {
        await hostExec(context.host, ['mount', '--bind', '/etc/supervisor/conf.d', '/etc/supervisor/conf.d'])
        await hostExec(context.host, ['mount', '-o', 'remount,bind,ro', '/etc/supervisor/conf.d'])
      },
      run: () => sync(context),
      expect: /could not write .*conf\.d.*the previous files were restored/,
      remove: async () => {
        await hostExec(context.host, ['umount', '/etc/supervisor/conf.d'])
      },
    })
    assert.is(verdict, 'old')
  }),
)

faults(
  'the disk under /var/tmp is full during the upload',
  counted('disk full', async (context) => {
    const verdict = await faultCase(context, 'disk full during the upload', {
      inject: async () => {
        // A tiny filesystem over the host's /var/tmp, filled up: the staged files cannot be written.
        await hostExec(context.host, ['mount', '-t', 'tmpfs', '-o', 'size=16k,mode=1777', 'zxs-full', '/var/tmp'])
        await hostExec(context.host, ['dd', 'if=/dev/zero', 'of=/var/tmp/filler', 'bs=1k', 'count=64'])
      },
      run: () => sync(context),
      expect:
        /sandbox-1: upload failed: the disk is full \(ENOSPC\) at \/var\/tmp\/zxs-stage-[0-9a-f]+: the upload needs [\d,]+ bytes, 0 bytes are free there; nothing was changed on the server/,
      remove: async () => {
        await hostExec(context.host, ['umount', '-l', '/var/tmp'])
      },
    })
    assert.is(verdict, 'old')
  }),
)

faults(
  'the connection drops mid-sync (sshd and its sessions killed after the upload)',
  counted('connection drop', async (context) => {
    let release = async () => {}
    let dropped = false
    await faultCase(context, 'connection drops after the upload', {
      // Another sync's lock keeps the activation waiting on the server until the drop, which lands in the middle of it.
      inject: async () => {
        release = await takeServerLock(context.host)
      },
      run: async () => {
        const running = sync(context, ['--lock-wait', '60'])
        await activationStarted(context.host)
        await dropSshSessions(context.host)
        dropped = true
        return running
      },
      expect: /sandbox-1: .*(lost|closed|refused)[\s\S]*finishes or rolls back the activation on its own/,
      remove: async () => {
        await release()
        if (dropped) await startSshd(context.host)
      },
      converge: (old) => convergedTo(context, old),
    })
  }),
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  faults(
    `${signal} to the task during a sync: exit 130, SSH master closed, no half-written file`,
    counted(signal, async (context) => {
      await faultCase(context, `${signal} during a sync`, {
        inject: () => holdServerLock(context.host, 8),
        run: async () => {
          const child = execa(
            process.execPath,
            [
              path.join(PROJECT, 'node_modules/zx/build/cli.js'),
              path.join(PROJECT, 'tasks/supervisor-sync.mjs'),
              '--inventory',
              context.sandbox.inventory,
              '--domain',
              DOMAIN,
            ],
            { cwd: PROJECT, reject: false, all: true, stdin: 'ignore' },
          )
          await stageDirAppears(context.host)
          await new Promise((r) => setTimeout(r, 300))
          child.kill(signal)
          const result = await child
          const masters = await execa('pgrep', ['-f', `ControlMaster=yes.*${context.host.address}`], { reject: false })
          assert.is(masters.stdout.trim(), '', 'no ssh ControlMaster left running')
          const halfWritten = (await fs.readdir(path.join(context.host.root, 'etc/supervisor/conf.d'))).filter((n) =>
            n.endsWith('.zxs-new'),
          )
          assert.equal(halfWritten, [])
          // The staging dir (rendered confs, maybe secrets) goes once the activation it was made for has finished.
          await waitFor(
            'the staging dir removed on the server',
            async () =>
              !(await fs.readdir(path.join(context.host.root, 'var/tmp'))).some((n) => n.startsWith('zxs-stage-')),
            20_000,
          )
          assert.equal(
            (await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('zxs-stage-')),
            [],
            'no local staging copy',
          )
          return { exitCode: result.exitCode ?? -1, all: String(result.all) }
        },
        code: 130,
        expect: new RegExp(`interrupted by ${signal}`),
        remove: async () => {
          await waitFor(
            'the lock released',
            async () =>
              (await hostExec(context.host, ['flock', '-n', '/run/lock/zx-supervisor.lock', 'true'])).exitCode === 0,
            20_000,
          )
        },
      })
    }),
  )
}

faults(
  'two syncs of the same server at the same time never interleave',
  counted('concurrent syncs', async (context) => {
    const other = path.join(context.sandbox.dir, 'other-inventory.yml')
    const target = 1 - context.variant
    await setVariant(context, target)
    await setVariant(context, context.variant, other)
    await fs.writeFile(
      other,
      (await fs.readFile(other, 'utf8')).replace('numprocs: 1', 'numprocs: 3').replace('numprocs: 2', 'numprocs: 3'),
    )
    const [a, b] = await Promise.all([
      sync(context),
      runTask('supervisor-sync', ['--inventory', other, '--domain', DOMAIN]),
    ])
    for (const run of [a, b])
      assert.ok(run.exitCode === 0 || /another sync holds this server's lock/.test(run.all), run.all)
    await settled(context.host)
    const planA = await sync(context, ['--dry-run'])
    const planB = await runTask('supervisor-sync', ['--inventory', other, '--domain', DOMAIN, '--dry-run'])
    const matchesA = /changed=0/.test(planA.stdout)
    const matchesB = /changed=0/.test(planB.stdout)
    const pending = (await hostExec(context.host, ['supervisorctl', 'reread'])).stdout.trim()
    const held = (matchesA || matchesB) && pending === 'No config updates to processes'
    recordStateCheck('two concurrent syncs', held)
    assert.ok(
      held,
      `the server matches neither sync fully (reread: ${pending})\nA: ${a.all}\n${planA.all}\nB: ${b.all}\n${planB.all}`,
    )
    context.variant = target
    const retry = await sync(context)
    assert.is(retry.exitCode, 0, retry.all)
    await settled(context.host)
  }),
)

faults(
  'the inventory changed on disk between read and write: nothing is overwritten',
  counted('inventory changed', async (context) => {
    const changed = `${await fs.readFile(context.sandbox.inventory, 'utf8')}# edited meanwhile by a colleague\n`
    const run = await runTaskOnTerminal(
      'supervisor-create',
      [
        '--inventory',
        context.sandbox.inventory,
        '--app-dir',
        context.app,
        '--domain',
        DOMAIN,
        '--script',
        'late.sh',
        '--program',
        'late',
      ],
      [
        [
          'Start on supervisord start?',
          async () => {
            await fs.writeFile(context.sandbox.inventory, changed)
            return 'y'
          },
        ],
        ['Restart on exit?', 'y'],
        ['Stop wait seconds', ''],
        ['Number of processes', ''],
      ],
    )
    const held = (await fs.readFile(context.sandbox.inventory, 'utf8')) === changed
    recordStateCheck('inventory changed on disk', held)
    assert.is(run.exitCode, 2, run.all)
    assert.match(run.all, /changed on disk/)
    assert.ok(held, "the colleague's edit is kept, nothing written over it")
  }),
)

faults(
  'the inventory file is unwritable: a clear error, the file untouched',
  counted('inventory unwritable', async (context) => {
    const dir = path.join(context.sandbox.dir, 'readonly')
    await fs.mkdir(dir, { recursive: true })
    const inventory = path.join(dir, 'inventory.yml')
    await fs.copyFile(context.sandbox.inventory, inventory)
    const before = await fs.readFile(inventory, 'utf8')
    const cli = [
      process.execPath,
      path.join(PROJECT, 'node_modules/zx/build/cli.js'),
      path.join(PROJECT, 'tasks/supervisor-create.mjs'),
      '--inventory',
      inventory,
      '--app-dir',
      context.app,
      '--domain',
      DOMAIN,
      '--script',
      'late.sh',
      '--program',
      'late',
    ]
    // Root ignores file modes, so the directory is made read-only the way a real mount would be.
    const run = await execa(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"',
        'sh',
        dir,
        ...cli,
      ],
      { cwd: PROJECT, reject: false, all: true, stdin: 'ignore' },
    )
    const held = (await fs.readFile(inventory, 'utf8')) === before && (await fs.readdir(dir)).length === 1
    recordStateCheck('inventory unwritable', held)
    assert.is(run.exitCode, 2, run.all)
    assert.match(String(run.all), new RegExp(`${inventory.replaceAll('/', '\\/')}.*(read-only|EROFS)`, 's'))
    assert.ok(held, 'inventory unchanged, no temp file left')
  }),
)

faults.run()
