import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { PROJECT, runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, processesOn, startSandbox, type TestSandbox, WORKER } from '../helpers/sandbox.ts'

// Watch a restart across a site: the operator syncs a site to three servers and follows its logs — the worker's and
// supervisord's — from all three in one stream, restarts the worker on one server from another terminal and sees it
// there (stopped, spawned with the new pid, the worker's start line, all prefixed with that server), stops with
// Ctrl-C leaving no tail on any server, finds the restart again afterwards with --grep, and checks the status. SSH
// masters stay warm between the commands, as they do for a person (the suite turns that off elsewhere).

const DOMAIN = 'shop.test'
const GROUP = `${DOMAIN}-worker`
const PROCESS = `${GROUP}_00`
const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3']

const journey = suite<{ sandbox: TestSandbox; env: Record<string, string> }>(
  'journey: follow a site across its servers through a restart',
)

journey.before(async (context) => {
  context.sandbox = await startSandbox(3)
  // Warm masters as by default, in a directory of the journey's own.
  const cache = await fs.mkdtemp(path.join(context.sandbox.dir, 'cache-'))
  context.env = { ZXS_CONTROL_PERSIST: '', XDG_CACHE_HOME: cache, XDG_RUNTIME_DIR: '' }
  await addSites(
    context.sandbox.inventory,
    `
  - domain: ${DOMAIN}
    server: [${SERVERS.join(', ')}]
    supervisors:
      - program: worker
        script: worker.sh
        startsecs: 1
        stopwaitsecs: 2
`,
  )
  for (const server of SERVERS) await deployApp(context.sandbox.host(server), DOMAIN, { 'worker.sh': WORKER })
})

journey.after(async ({ sandbox, env }) => {
  const masters = path.join(env?.XDG_CACHE_HOME ?? '', 'zx-supervisor', 'cm')
  for (const socket of await fs.readdir(masters).catch(() => []))
    await execa('ssh', ['-S', path.join(masters, socket), '-O', 'exit', 'x'], { reject: false })
  await sandbox?.down()
})

const task = (context: { sandbox: TestSandbox; env: Record<string, string> }, name: string, args: string[]) =>
  runTask(name, ['--inventory', context.sandbox.inventory, ...args], { env: context.env })

async function workerPid(sandbox: TestSandbox, server: string): Promise<number | undefined> {
  return (await processesOn(sandbox.host(server))).find((p) => p.group === GROUP && p.state === 'RUNNING')?.pid
}

/** server-logs --follow in its own process group, as a person runs it in a terminal of their own. */
function follow({ sandbox, env: extra }: { sandbox: TestSandbox; env: Record<string, string> }, args: string[]) {
  const { FORCE_COLOR: _ignored, ...env } = { ...process.env, ...extra }
  const child = execa(
    process.execPath,
    [
      path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js'),
      path.join(PROJECT, 'tasks', 'server-logs.mjs'),
      '--inventory',
      sandbox.inventory,
      ...args,
    ],
    { cwd: PROJECT, reject: false, stdin: 'ignore', detached: true, extendEnv: false, env: { ...env, NO_COLOR: '1' } },
  )
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  return {
    out: () => out,
    ctrlC: () => process.kill(-(child.pid as number), 'SIGINT'),
    done: child,
  }
}

/** The stream's lines from one server and source: the text after `server source │`. */
function linesOf(out: string, server: string, source: string): string[] {
  const prefix = new RegExp(`^${server} +${source.replace(/[.]/g, '\\.')} +│ (.*)$`)
  return out.split('\n').flatMap((line) => {
    const match = prefix.exec(line)
    return match ? [match[1]!] : []
  })
}

journey('sync, follow the site, restart one server, see it in the stream, grep it, status', async (context) => {
  const { sandbox } = context
  const sync = await task(context, 'supervisor-sync', ['--domain', DOMAIN])
  assert.is(sync.exitCode, 0, sync.all)
  const before: Record<string, number | undefined> = {}
  for (const server of SERVERS)
    before[server] = await waitFor(`the worker on ${server}`, () => workerPid(sandbox, server), 30_000)

  const stream = follow(context, ['--site', DOMAIN, '--service', 'supervisor,all-supervisors', '-n', '1', '-f'])
  try {
    await waitFor(
      'each server following its daemon and worker',
      async () =>
        SERVERS.every((s) => stream.out().includes(`${s}  following supervisor, supervisor:${DOMAIN}/worker`)),
      30_000,
    )
    // Each worker's one line so far (its start) as the last line of its log.
    for (const server of SERVERS)
      await waitFor(
        `${server}'s worker line`,
        async () => linesOf(stream.out(), server, `${DOMAIN}/worker`).length === 1,
      )

    const restart = await task(context, 'supervisor-restart', ['--domain', DOMAIN, '--server', 'sandbox-2'])
    assert.is(restart.exitCode, 0, restart.all)
    const pid = await waitFor('the new worker on sandbox-2', async () => {
      const now = await workerPid(sandbox, 'sandbox-2')
      return now && now !== before['sandbox-2'] ? now : undefined
    })
    await waitFor('the restart in the stream', async () => {
      const daemon = linesOf(stream.out(), 'sandbox-2', 'supervisor').join('\n')
      return (
        daemon.includes(`stopped: ${PROCESS} (terminated by SIGTERM)`) &&
        daemon.includes(`spawned: '${PROCESS}' with pid ${pid}`) &&
        linesOf(stream.out(), 'sandbox-2', `${DOMAIN}/worker`).length === 2
      )
    })
    assert.match(linesOf(stream.out(), 'sandbox-2', `${DOMAIN}/worker`)[1]!, `worker ${PROCESS} up in`)
    for (const server of ['sandbox-1', 'sandbox-3']) {
      assert.is(await workerPid(sandbox, server), before[server], `${server} was not restarted`)
      assert.is(linesOf(stream.out(), server, `${DOMAIN}/worker`).length, 1, `${server}: no new worker line`)
      assert.not.match(linesOf(stream.out(), server, 'supervisor').join('\n'), 'stopped:', `${server}: no stop`)
    }
  } finally {
    stream.ctrlC()
  }
  const ended = await stream.done
  assert.is(ended.exitCode, 130, String(ended.stderr))
  assert.not.match(String(ended.stderr), /error: (?!interrupted)/)
  for (const server of SERVERS)
    await waitFor(`no tail left on ${server}`, async () => {
      const found = await hostExec(sandbox.host(server), ['pgrep', '-x', 'tail|grep'])
      return found.exitCode === 1
    })

  // Afterwards: where was the worker spawned? Only sandbox-2 has two spawns.
  const grep = await task(context, 'server-logs', [
    '--site',
    DOMAIN,
    '--service',
    'supervisor',
    '--grep',
    `spawned: '${PROCESS}'`,
    '--json',
  ])
  assert.is(grep.exitCode, 0, grep.all)
  const document = JSON.parse(grep.stdout) as { logs: Array<{ server: string; lines: string[] }> }
  assert.equal(
    document.logs.map((l) => [l.server, l.lines.length]),
    [
      ['sandbox-1', 1],
      ['sandbox-2', 2],
      ['sandbox-3', 1],
    ],
  )

  const status = await task(context, 'supervisor-status', ['--domain', DOMAIN])
  assert.is(status.exitCode, 0, status.all)
})

journey.run()
