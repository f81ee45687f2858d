import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { pauseSshd, resumeSshd, type SandboxHost } from '../../sandbox/index.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, startSandbox, type TestSandbox, WORKER } from '../helpers/sandbox.ts'

// An operator syncs a 24-server fleet while one server's sshd hangs: the other 23 are synced and running, the hung
// one is named once as unreachable, status says the same; once it answers again, sync and status are clean.

const SERVERS = 24
const HUNG = 'sandbox-7'
const DOMAIN = 'fleet.test'
const CONF = `etc/supervisor/conf.d/${DOMAIN}-w.conf`

interface Context {
  sandbox: TestSandbox
  hosts: SandboxHost[]
}

const journey = suite<Context>('journey: a 24-server sync with one hung host')

journey.before(async (context) => {
  context.sandbox = await startSandbox(SERVERS)
  context.hosts = context.sandbox.state.hosts
  await Promise.all(context.hosts.map((host) => deployApp(host, DOMAIN, { 'worker.sh': WORKER })))
  await addSites(
    context.sandbox.inventory,
    `
  - domain: ${DOMAIN}
    server: [${context.hosts.map((h) => h.name).join(', ')}]
    supervisors:
      - program: w
        script: worker.sh
        stopwaitsecs: 3
`,
  )
})

journey.after(async ({ sandbox, hosts }) => {
  const hung = hosts?.find((h) => h.name === HUNG)
  if (hung) await resumeSshd(hung).catch(() => {})
  await sandbox?.down()
})

const run = (context: Context, task: string, extra: string[] = []) =>
  runTask(task, ['--inventory', context.sandbox.inventory, '--timeout', '3', ...extra])

const hasConf = async (host: SandboxHost) =>
  fs.access(path.join(host.root, CONF)).then(
    () => true,
    () => false,
  )

/**
 * supervisord's own process states on a host, asked over its socket from outside (one XML-RPC call, no process
 * started: 24 supervisorctl start-ups at once take half a minute on a loaded 2-CPU machine).
 */
async function processStates(host: SandboxHost): Promise<string[]> {
  const body =
    '<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>'
  const answer = await new Promise<string>((resolve, reject) => {
    const request = http.request(
      {
        socketPath: path.join(host.root, 'run/supervisor.sock'),
        path: '/RPC2',
        method: 'POST',
        headers: { 'Content-Type': 'text/xml' },
      },
      (response) => {
        let text = ''
        response.on('data', (chunk) => {
          text += chunk
        })
        response.on('end', () => resolve(text))
      },
    )
    request.on('error', reject)
    request.end(body)
  })
  return [...answer.matchAll(/<name>statename<\/name>\s*<value><string>(\w+)<\/string><\/value>/g)].map(
    (m) => m[1] as string,
  )
}

async function allRunning(hosts: SandboxHost[]): Promise<void> {
  let last = ''
  // The check returns a boolean: waitFor stops at the first truthy value, so a states string would end it at once.
  await waitFor(
    `the worker running on ${hosts.length} servers`,
    async () => {
      const states = await Promise.all(hosts.map(async (h) => (await processStates(h)).join(',')))
      last = states.join(' ')
      return states.every((s) => s === 'RUNNING')
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; states: ${last}`)
  })
}

/** Lines of the run's stderr that mention the server. */
const linesAbout = (text: string, server: string) =>
  text.split('\n').filter((line) => new RegExp(`\\b${server}\\b`).test(line))

journey(
  'sync with a hung host (exit 1) → status (1) → the host answers again → sync (0) → status (0)',
  async (context) => {
    const hung = context.sandbox.host(HUNG)
    const others = context.hosts.filter((h) => h !== hung)
    await pauseSshd(hung)

    let step = await run(context, 'supervisor-sync', ['--all'])
    assert.is(step.exitCode, 1, step.all)
    assert.equal(
      linesAbout(step.stderr, HUNG),
      [linesAbout(step.stderr, HUNG)[0]],
      `the hung server is named in one error line:\n${step.stderr}`,
    )
    assert.match(
      step.stderr,
      new RegExp(`^error: ${HUNG}: connection to 127\\.0\\.\\d+\\.\\d+:22 as deployer timed out`, 'm'),
    )
    assert.match(step.stdout, new RegExp(`^${HUNG}\\s+ok=0 changed=0 failed=1\\s+UNREACHABLE$`, 'm'))
    for (const host of others)
      assert.match(step.stdout, new RegExp(`^${host.name}\\s+ok=1 changed=\\d+ failed=0$`, 'm'))
    assert.equal(
      (await Promise.all(others.map(hasConf))).filter(Boolean).length,
      others.length,
      'the 23 others hold the conf',
    )
    assert.not.ok(await hasConf(hung), 'nothing on the hung server')
    await allRunning(others)

    step = await run(context, 'supervisor-status')
    assert.is(step.exitCode, 1, step.all)
    assert.match(step.stdout, new RegExp(`^${HUNG}\\s+-\\s+-\\s+UNREACHABLE\\s+connection to .* timed out`, 'm'))
    assert.match(step.stdout, new RegExp(`^${HUNG}\\s+ok=0 changed=0 failed=1 down=0\\s+UNREACHABLE$`, 'm'))
    for (const host of others)
      assert.match(step.stdout, new RegExp(`^${host.name}\\s+ok=1 changed=0 failed=0 down=0$`, 'm'))

    await resumeSshd(hung)

    step = await run(context, 'supervisor-sync', ['--all'])
    assert.is(step.exitCode, 0, step.all)
    assert.match(step.stdout, new RegExp(`^${HUNG}\\s+ok=1 changed=[1-9]\\d* failed=0$`, 'm'))
    for (const host of others) assert.match(step.stdout, new RegExp(`^${host.name}\\s+ok=1 changed=0 failed=0$`, 'm'))
    await allRunning(context.hosts)

    step = await run(context, 'supervisor-status')
    assert.is(step.exitCode, 0, step.all)
    for (const host of context.hosts)
      assert.match(step.stdout, new RegExp(`^${host.name}\\s+ok=1 changed=0 failed=0 down=0$`, 'm'))
  },
)

journey.run()
