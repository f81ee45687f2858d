import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec, type SandboxHost } from '../../sandbox/index.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, onOneServer, processesOn, type TestSandbox, WORKER } from '../helpers/sandbox.ts'

// An operator whose server's sudo asks for a password: another sudoers file, sorting after the one the old hint
// wrote, holds a password rule (in sudoers the last matching rule wins). Sync and status name the state and give a
// fix; the operator applies the fix exactly as printed, and the next sync and status are clean.

const DOMAIN = 'j.test'

interface Context {
  sandbox: TestSandbox
  host: SandboxHost
}

const journey = suite<Context>('journey: sudo asks for a password, then the printed fix')

onOneServer(journey, async (context) => {
  await deployApp(context.host, DOMAIN, { 'worker.sh': WORKER })
  await addSites(
    context.sandbox.inventory,
    `
  - domain: ${DOMAIN}
    server: sandbox-1
    supervisors:
      - program: w
        script: worker.sh
        stopwaitsecs: 3
`,
  )
})

const run = (context: Context, task: string) =>
  runTask(task, ['--inventory', context.sandbox.inventory, '--server', 'sandbox-1'])

/** As root on the server, the way an operator types a line into a root shell there. */
async function asRoot(host: SandboxHost, line: string): Promise<string> {
  const result = await hostExec(host, ['sh', '-c', line])
  assert.is(result.exitCode, 0, `${line}: ${result.stderr}`)
  return result.stdout
}

/** The last rule `sudo -l -U deployer` lists: the one that applies. */
async function winningRule(host: SandboxHost): Promise<string> {
  return (await asRoot(host, 'sudo -l -U deployer')).trim().split('\n').at(-1)?.trim() ?? ''
}

const confOnServer = async (host: SandboxHost) =>
  (await hostExec(host, ['test', '-f', `/etc/supervisor/conf.d/${DOMAIN}-w.conf`])).exitCode === 0

journey(
  'sync and status name SUDO-PASSWORD with a fix that works; the fix applied as printed; then both are clean',
  async (context) => {
    const { host } = context
    // A team's own sudoers file, sorting after zx-supervisor*: a password rule for deployer.
    await asRoot(host, "echo 'deployer ALL=(ALL) ALL' > /etc/sudoers.d/zz-ops && chmod 0440 /etc/sudoers.d/zz-ops")
    assert.is(await winningRule(host), '(ALL) ALL')

    let step = await run(context, 'supervisor-sync')
    assert.is(step.exitCode, 1, step.all)
    assert.match(step.stderr, /^error: sandbox-1: sudo asks deployer for a password/m)
    assert.not.match(
      step.all,
      /sandbox-1: sandbox-1:|sudo: a password is required|UNREACHABLE|unreachable/i,
      'one message, no raw sudo line, not called unreachable',
    )
    assert.match(step.stdout, /^sandbox-1\s+ok=0 changed=0 failed=1\s+SUDO-PASSWORD$/m)
    const fix = /Fix on the server, as root: (echo .*? && chmod 0440 \S+)/.exec(step.stderr)?.[1]
    assert.ok(fix, `a fix to type: ${step.stderr}`)
    assert.match(step.stderr, /sudo -l -U deployer/)
    assert.not.ok(await confOnServer(host), 'nothing written')

    step = await run(context, 'supervisor-status')
    assert.is(step.exitCode, 1, step.all)
    assert.match(step.stdout, /^sandbox-1\s+-\s+-\s+SUDO-PASSWORD\s+sudo asks deployer/m)
    assert.match(step.stdout, /^sandbox-1\s+ok=0 changed=0 failed=1 down=0\s+SUDO-PASSWORD$/m)

    // The old advice, a NOPASSWD rule in /etc/sudoers.d/zx-supervisor, sorts before zz-ops: the password rule still wins.
    await asRoot(
      host,
      "echo 'deployer ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/zx-supervisor && chmod 0440 /etc/sudoers.d/zx-supervisor",
    )
    assert.is(await winningRule(host), '(ALL) ALL')
    step = await run(context, 'supervisor-sync')
    assert.is(step.exitCode, 1, step.all)
    assert.match(step.stdout, /SUDO-PASSWORD/)

    await asRoot(host, fix)
    assert.match(await winningRule(host), /NOPASSWD: ALL$/)

    step = await run(context, 'supervisor-sync')
    assert.is(step.exitCode, 0, step.all)
    assert.match(step.stdout, /^sandbox-1\s+ok=1 changed=\d+ failed=0$/m)
    assert.ok(await confOnServer(host))

    await waitFor('the worker running', async () => (await processesOn(host)).every((p) => p.state === 'RUNNING'))
    step = await run(context, 'supervisor-status')
    assert.is(step.exitCode, 0, step.all)
    assert.match(step.stdout, /^sandbox-1\s+ok=1 changed=0 failed=0 down=0$/m)
    assert.equal(
      (await processesOn(host)).map((p) => `${p.name} ${p.state}`),
      [`${DOMAIN}-w:${DOMAIN}-w_00 RUNNING`],
    )
  },
)

journey.run()
