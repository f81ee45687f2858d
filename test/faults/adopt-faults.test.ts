import fs from 'node:fs/promises'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { dropSshSessions, hostExec, type SandboxHost, startSshd } from '../../sandbox/index.ts'
import { activationStarted, nothingAtWork, takeServerLock } from '../helpers/activation.ts'
import { counted, recordStateCheck } from '../helpers/figure.ts'
import { ADOPTED, HANDMADE, handmadeMailer } from '../helpers/imported-original.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  editInventory,
  onHost,
  onOneServer,
  processesOn,
  type TestSandbox,
} from '../helpers/sandbox.ts'

// Faults during the --adopt activation that removes an imported original (supervisor-import's imported_from): a
// fault at each of its steps (the copy kept, our conf written, the original removed, supervisor's reread, the
// connection while it runs) leaves the server FULLY old (the original file as it was, its program running with the
// same pid, nothing of ours, no copy kept) or FULLY new (the original gone, a copy kept, ours running, supervisor
// with nothing left to apply); a retry without the fault always ends new.

const DOMAIN = 'fa.test'
const ROOT = `/home/deployer/sites/${DOMAIN}`
const OURS = `/etc/supervisor/conf.d/${DOMAIN}-mailer.conf`
const LOGROTATE = `/etc/logrotate.d/supervisor-${DOMAIN}-mailer.conf`
const RUNNER = `${ROOT}/runner.sh`
const ORIGINAL = handmadeMailer(ROOT)
const WRAPPER = '#!/bin/sh\nexec /bin/sleep 100000\n'
const OUR_PROCESS = `${DOMAIN}-mailer:${DOMAIN}-mailer_00`

interface Context {
  sandbox: TestSandbox
  host: SandboxHost
}

/** What the cases compare: the files in play (null: absent), the copies kept, and the processes with their pids. */
interface AdoptState {
  files: Record<string, string | null>
  kept: string[]
  processes: string[]
}

const faults = suite<Context>('faults during an --adopt sync that removes an imported original')

onOneServer(faults, async (context) => {
  // The release the sync starts ours from already holds the wrapper (as a deploy --adopt would have shipped it).
  await deployApp(context.host, DOMAIN, { 'mailer.sh': WRAPPER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: ${DOMAIN}
    server: sandbox-1
    supervisors:
      - program: mailer
        script: mailer.sh
        autorestart: unexpected
        stopwaitsecs: 2
        imported_from: ${HANDMADE}
`,
  )
})

const sync = (context: Context, extra: string[] = []) =>
  runTask('supervisor-sync', ['--inventory', context.sandbox.inventory, '--domain', DOMAIN, '--adopt', ...extra])

async function adoptState(host: SandboxHost): Promise<AdoptState> {
  const files: Record<string, string | null> = {}
  for (const file of [HANDMADE, OURS, LOGROTATE, RUNNER])
    files[file] = await fs.readFile(onHost(host, file), 'utf8').catch(() => null)
  const found = await hostExec(host, ['sh', '-c', `[ -d ${ADOPTED} ] && find ${ADOPTED} -type f | sort; exit 0`])
  const kept = found.stdout.trim().split('\n').filter(Boolean)
  const processes = (await processesOn(host)).map((p) => `${p.name} ${p.state} ${p.pid ?? '-'}`).sort()
  return { files, kept, processes }
}

/** The server before each case: the original in place and running, nothing of ours for the program. */
async function original(host: SandboxHost): Promise<void> {
  for (const file of [OURS, LOGROTATE]) await fs.rm(onHost(host, file), { force: true })
  await fs.writeFile(onHost(host, HANDMADE), ORIGINAL)
  const update = await hostExec(host, ['supervisorctl', 'update'])
  assert.is(update.exitCode, 0, update.stdout + update.stderr)
  await waitFor('only the original running', async () => {
    const processes = await processesOn(host)
    return processes.length === 1 && processes[0]?.name === 'mailer' && processes[0].state === 'RUNNING'
  })
}

async function settled(host: SandboxHost): Promise<void> {
  // An activation goes on on the server after the client is gone: wait for it to finish.
  await waitFor('no sync at work on the server', () => nothingAtWork(host), 60_000)
  await waitFor('processes settled', async () =>
    (await processesOn(host)).every((p) => p.state === 'RUNNING' || p.state === 'STOPPED'),
  )
}

/** Fully new: the original gone with exactly one copy of it kept since `old`, ours marked and running alone, nothing pending. */
async function isNew(host: SandboxHost, old: AdoptState, now: AdoptState): Promise<boolean> {
  const copies = now.kept.filter((k) => !old.kept.includes(k))
  const copy = copies.length === 1 ? await fs.readFile(onHost(host, copies[0] as string), 'utf8') : null
  const pending = (await hostExec(host, ['supervisorctl', 'reread'])).stdout.trim()
  return (
    now.files[HANDMADE] === null &&
    copy === ORIGINAL &&
    Boolean(now.files[OURS]?.includes('zx-supervisor')) &&
    now.processes.length === 1 &&
    now.processes[0]?.startsWith(`${OUR_PROCESS} RUNNING `) === true &&
    pending === 'No config updates to processes'
  )
}

async function verdictOf(host: SandboxHost, old: AdoptState): Promise<'old' | 'new' | 'mixed'> {
  const now = await adoptState(host)
  if (JSON.stringify(now) === JSON.stringify(old)) return 'old'
  return (await isNew(host, old, now)) ? 'new' : 'mixed'
}

/**
 * One case: the original in place, inject, run the adopting sync, remove the fault, check the message and exit code,
 * require fully old or fully new, then a clean retry that must end new.
 */
async function adoptFault(
  context: Context,
  name: string,
  steps: {
    inject: () => Promise<void>
    run?: () => Promise<{ exitCode: number; all: string }>
    expect: RegExp
    code?: number
    remove: () => Promise<void>
    converge?: (old: AdoptState) => Promise<void>
  },
): Promise<'old' | 'new' | 'mixed'> {
  const { host } = context
  await original(host)
  const old = await adoptState(host)
  await steps.inject()
  let result: { exitCode: number; all: string }
  try {
    result = await (steps.run ?? (() => sync(context)))()
  } finally {
    await steps.remove()
  }
  assert.is(result.exitCode, steps.code ?? 1, result.all)
  assert.ok(steps.expect.test(result.all), `expected ${steps.expect} in:\n${result.all}`)
  await (steps.converge ? steps.converge(old) : settled(host))
  const verdict = await verdictOf(host, old)
  recordStateCheck(`--adopt of an imported original: ${name}`, verdict !== 'mixed')
  assert.is.not(
    verdict,
    'mixed',
    `server half-adopted after "${name}":\n${JSON.stringify({ old, after: await adoptState(host) }, null, 1)}`,
  )
  const retry = await sync(context)
  assert.is(retry.exitCode, 0, `the retry after removing the fault: ${retry.all}`)
  await settled(host)
  const fresh = await waitFor('ours running after the retry', async () => {
    const now = await adoptState(host)
    return (await isNew(host, old, now)) ? now : null
  })
  assert.ok(fresh, 'the retry ends fully new')
  return verdict
}

// Faults made with a mount on the server's path: a read-only bind (nothing can be written there) or a plain bind
// on a file (busy: it cannot be renamed away). Each stops the activation at another step; each ends fully old.
const MOUNT_FAULTS = [
  {
    title: 'the copy of the original cannot be kept (adopted/ read-only): old',
    figure: 'adopt: kept copy unwritable',
    name: 'the kept copy cannot be written',
    target: ADOPTED,
    readOnly: true,
    expect: /could not write \/var\/lib\/zx-supervisor\/adopted\/.*the previous files were restored/,
  },
  {
    title: 'our conf cannot be written (conf.d read-only): old',
    figure: 'adopt: conf.d read-only',
    name: 'conf.d read-only',
    target: '/etc/supervisor/conf.d',
    readOnly: true,
    expect: /could not write .*conf\.d.*the previous files were restored/,
  },
  {
    title: 'the original cannot be removed (busy: a mount on it), after ours was written: old',
    figure: 'adopt: original busy',
    name: 'the original cannot be removed',
    target: HANDMADE,
    readOnly: false,
    expect: new RegExp(`could not write ${HANDMADE.replaceAll('.', '\\.')} .*the previous files were restored`),
  },
]

for (const fault of MOUNT_FAULTS) {
  faults(
    fault.title,
    counted(fault.figure, async (context) => {
      const { host } = context
      const verdict = await adoptFault(context, fault.name, {
        inject: async () => {
          if (fault.readOnly) await hostExec(host, ['mkdir', '-p', fault.target])
          await hostExec(host, ['mount', '--bind', fault.target, fault.target])
          if (fault.readOnly) await hostExec(host, ['mount', '-o', 'remount,bind,ro', fault.target])
        },
        expect: fault.expect,
        remove: async () => {
          await hostExec(host, ['umount', fault.target])
        },
      })
      assert.is(verdict, 'old')
    }),
  )
}

faults(
  'supervisor rejects the new configuration at reread (a user the server lacks), the original already removed: old',
  counted('adopt: reread rejects', async (context) => {
    let before = ''
    const verdict = await adoptFault(context, 'reread rejects the new conf', {
      inject: async () => {
        before = await editInventory(context.sandbox.inventory, (doc) => {
          doc.setIn(['sites', 0, 'supervisors', 0, 'user'], 'ghost')
        })
      },
      expect: /supervisor rejected the new configuration; the previous files were restored/,
      remove: () => fs.writeFile(context.sandbox.inventory, before),
    })
    assert.is(verdict, 'old')
  }),
)

faults(
  'the connection drops while the activation waits for the server lock: it finishes on its own, new',
  counted('adopt: connection drop', async (context) => {
    const { host } = context
    let release = async () => {}
    let dropped = false
    const verdict = await adoptFault(context, 'connection drops mid-activation', {
      inject: async () => {
        release = await takeServerLock(host)
      },
      run: async () => {
        const running = sync(context, ['--lock-wait', '60'])
        await activationStarted(host)
        await dropSshSessions(host)
        dropped = true
        return running
      },
      expect: /sandbox-1: .*(lost|closed|refused)[\s\S]*finishes or rolls back the activation on its own/,
      remove: async () => {
        await release()
        if (dropped) await startSshd(host)
      },
      converge: async (old) => {
        await waitFor(
          'the activation finished on its own: fully old or fully new',
          async () => (await nothingAtWork(host)) && (await verdictOf(host, old)) !== 'mixed',
          60_000,
        )
      },
    })
    assert.is(verdict, 'new')
  }),
)

faults.run()
