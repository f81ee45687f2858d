import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { YAML } from 'zx'
import { hostExec, type SandboxHost } from '../../sandbox/index.ts'
import { ADOPTED } from '../helpers/imported-original.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  deployApp,
  editInventory,
  existsOn,
  onHost,
  processesOn,
  processStates,
  startSandbox,
  type TestSandbox,
  WORKER,
  writeAppDir,
} from '../helpers/sandbox.ts'

// Two servers full of hand-written workers (a DeployerPHP conf and one written by hand, with a secret in its
// environment) migrated with supervisor-import: a dry run, the import with wrapper scripts, the printed deploy
// --adopt (which ships the wrapper and takes the programs over in one step), then the features that came before
// (status, a deploy of a new release, the audit trail) and a second import that adds nothing. Exit codes and both
// servers' state are checked at every step.

const DOMAIN = 'jobs.test'
const SERVERS = ['sandbox-1', 'sandbox-2']
const ROOT = `/home/deployer/sites/${DOMAIN}`
const CONF_D = '/etc/supervisor/conf.d'
const HANDMADE = `${CONF_D}/handmade.conf`
const QUEUE = `${CONF_D}/${DOMAIN}-queue.conf`
const SECRET = 'tok_live_never_printed_4242'

const CONFS: Record<string, string> = {
  // DeployerPHP's supervisor:sync shape: its runner runs a script of the current release.
  [QUEUE]: `[program:${DOMAIN}-queue]
command=${ROOT}/runner.sh .deployer/supervisors/queue.sh
directory=${ROOT}/current
user=deployer
autostart=true
autorestart=true
stopwaitsecs=2
numprocs=1
`,
  [HANDMADE]: `; the mailer, written by hand one night
[program:mailer]
command=/bin/sleep 100000
directory=${ROOT}/current
user=deployer
environment=APP_ENV="production",API_TOKEN="${SECRET}"
stopwaitsecs=2
`,
}
const RUNNER = `#!/usr/bin/env bash
set -e
export DEPLOYER_RELEASE_PATH=${ROOT}/releases/r1
export DEPLOYER_CURRENT_PATH=${ROOT}/current
cd "$DEPLOYER_CURRENT_PATH"
exec "./$1"
`

interface Context {
  sandbox: TestSandbox
  hosts: SandboxHost[]
  app: string
  /** The adopting deploy printed by the import, as task arguments. */
  adopt: string[]
  /** The variables the import named, set to the originals' values as the operator would where syncs run. */
  env: Record<string, string>
}

const journey = suite<Context>('journey: import hand-written workers, adopt them, then deploy')

journey.before(async (context) => {
  context.sandbox = await startSandbox(SERVERS.length)
  context.hosts = SERVERS.map((name) => context.sandbox.host(name))
  // The operator's app checkout: DeployerPHP's worker script, nothing for the hand-written mailer yet.
  context.app = await writeAppDir(context.sandbox.dir, { 'queue.sh': WORKER })
  await editInventory(context.sandbox.inventory, (doc) => {
    for (const i of SERVERS.keys()) doc.setIn(['servers', i, 'groups'], ['legacy'])
  })
})

journey.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const task = ({ sandbox, env }: Context, name: string, args: string[]) =>
  runTask(name, ['--inventory', sandbox.inventory, ...args], { env })

const importTask = ({ sandbox }: Context, args: string[]) =>
  // Import runs without the secret in its environment: whatever it prints of it came from the server.
  runTask('supervisor-import', ['--inventory', sandbox.inventory, '--server', 'legacy', ...args])

interface Line {
  task: string
  action: string
  result: string
  run: string
  flags: Record<string, unknown>
  change: { files?: string[]; groups?: { updated?: string[] }; release?: string }
}

async function releaseOf(host: SandboxHost, pid: number): Promise<string> {
  const environ = await hostExec(host, ['cat', `/proc/${pid}/environ`])
  return /DEPLOYER_RELEASE_PATH=[^\0]*\/releases\/([^\0/]+)/.exec(environ.stdout)?.[1] ?? '?'
}

journey(
  '1. hand-written workers run on both servers: a DeployerPHP conf and handmade.conf with a secret',
  async ({ hosts }) => {
    for (const host of hosts) {
      await deployApp(host, DOMAIN, { 'queue.sh': WORKER })
      for (const [file, content] of Object.entries(CONFS)) await fs.writeFile(onHost(host, file), content)
      await fs.writeFile(onHost(host, `${ROOT}/runner.sh`), RUNNER, { mode: 0o755 })
      await hostExec(host, ['chown', 'deployer:deployer', `${ROOT}/runner.sh`])
      const update = await hostExec(host, ['supervisorctl', 'update'])
      assert.is(update.exitCode, 0, update.stdout + update.stderr)
      await waitFor(`both hand-written workers running on ${host.name}`, async () => {
        const now = await processStates(host)
        return now[`${DOMAIN}-queue`] === 'RUNNING' && now.mailer === 'RUNNING'
      })
    }
  },
)

journey(
  '2a. import --dry-run: exit 3 (the mailer needs a script), the queue would be imported, nothing written',
  async (context) => {
    const before = await fs.readFile(context.sandbox.inventory, 'utf8')
    const run = await importTask(context, ['--dry-run'])
    assert.is(run.exitCode, 3, run.all)
    for (const server of SERVERS) {
      assert.match(run.stdout, `${server}  would import ${DOMAIN}/queue from ${QUEUE} [program:${DOMAIN}-queue]`)
      assert.match(
        run.stdout,
        `${server}  not imported (needs-script): ${HANDMADE} [program:mailer]: its command is not a script of the app (pass --write-scripts APP_DIR)`,
      )
    }
    assert.not.match(run.all, SECRET)
    assert.is(await fs.readFile(context.sandbox.inventory, 'utf8'), before)
    assert.not.ok(await existsOn(context.hosts[0] as SandboxHost, ADOPTED), 'import never changes a server')
  },
)

journey(
  '2b. import --write-scripts: exit 0, one site on both servers with imported_from, the secret only by name',
  async (context) => {
    const { sandbox, app } = context
    const run = await importTask(context, ['--write-scripts', app])
    assert.is(run.exitCode, 0, run.all)
    for (const server of SERVERS) {
      assert.match(run.stdout, `${server}  imported ${DOMAIN}/mailer from ${HANDMADE} [program:mailer]`)
      assert.match(run.stdout, `${server}  imported ${DOMAIN}/queue from ${QUEUE} [program:${DOMAIN}-queue]`)
      assert.match(
        run.stdout,
        `  ${server}: mailer stops and ${DOMAIN}-mailer starts (${HANDMADE} is removed, a copy kept)`,
      )
    }
    const named = /^Set these variables where syncs run \(.*\): (.+)$/m.exec(run.stdout)?.[1]
    assert.is(named, 'API_TOKEN', run.stdout)
    context.env = { [named as string]: SECRET }
    assert.not.match(run.all, SECRET)
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    assert.not.match(inventory, SECRET)
    const site = (YAML.parse(inventory).sites as Array<Record<string, unknown>>).find((s) => s.domain === DOMAIN)
    assert.equal(site?.server, SERVERS)
    assert.equal(site?.supervisors, [
      {
        program: 'mailer',
        script: 'mailer.sh',
        autorestart: 'unexpected',
        stopwaitsecs: 2,
        imported_from: HANDMADE,
        environment: { APP_ENV: 'production', API_TOKEN: { from_env: 'API_TOKEN' } },
      },
      { program: 'queue', script: 'queue.sh', stopwaitsecs: 2, imported_from: QUEUE },
    ])
    const wrapper = path.join(app, '.deployer/supervisors/mailer.sh')
    assert.match(run.stdout, `wrote script ${wrapper}`)
    assert.match(await fs.readFile(wrapper, 'utf8'), /\nexec \/bin\/sleep 100000\n$/)
    // The next command, exactly as printed: the inventory and app paths are plain temp paths, so no shell quoting.
    const printed = /^ {2}npx zx tasks\/deploy\.mjs (.+)$/m.exec(run.stdout)?.[1] ?? ''
    assert.is(printed, `--inventory ${sandbox.inventory} --domain ${DOMAIN} --app-dir ${app} --adopt`, run.stdout)
    context.adopt = printed.split(' ')
    // One step: no copying the wrapper into the running release by hand, no separate sync.
    assert.not.match(run.stdout, 'npx zx tasks/supervisor-sync.mjs')
    assert.not.match(run.stdout, 'into the release each server runs')
    for (const host of context.hosts) {
      assert.ok(await existsOn(host, HANDMADE), 'import never changes a server')
      assert.is((await processStates(host)).mailer, 'RUNNING')
    }
  },
)

journey(
  '3. the printed deploy --adopt, with API_TOKEN set: exit 0, r2 live, handmade.conf kept under adopted/, our names RUNNING',
  async (context) => {
    const run = await runTask('deploy', [...context.adopt, '--release', 'r2', '--hold', '0'], { env: context.env })
    assert.is(run.exitCode, 0, run.all)
    assert.not.match(run.all, SECRET)
    for (const host of context.hosts) {
      assert.is(await fs.readlink(onHost(host, `${ROOT}/current`)), 'releases/r2')
      assert.not.ok(await existsOn(host, HANDMADE), `${host.name}: handmade.conf is removed`)
      const kept = await hostExec(host, ['find', ADOPTED, '-type', 'f', '-path', `*${HANDMADE}`])
      const copy = kept.stdout.trim()
      assert.match(copy, new RegExp(`^${ADOPTED}/[^/]+${HANDMADE}$`), kept.stdout + kept.stderr)
      assert.is(await fs.readFile(onHost(host, copy), 'utf8'), CONFS[HANDMADE])
      const processes = await processesOn(host)
      assert.equal(
        processes.map((p) => [p.name, p.state]),
        [
          [`${DOMAIN}-mailer:${DOMAIN}-mailer_00`, 'RUNNING'],
          [`${DOMAIN}-queue:${DOMAIN}-queue_00`, 'RUNNING'],
        ],
      )
      for (const p of processes) assert.is(await releaseOf(host, p.pid as number), 'r2', `${host.name} ${p.name}`)
    }
  },
)

journey('4. supervisor-status: exit 0', async (context) => {
  const run = await task(context, 'supervisor-status', ['--domain', DOMAIN])
  assert.is(run.exitCode, 0, run.all)
  assert.not.match(run.all, SECRET)
})

journey(
  '5. deploy of a new release: exit 0, both workers on it on both servers (the wrapper shipped), status 0',
  async (context) => {
    const run = await task(context, 'deploy', [
      '--domain',
      DOMAIN,
      '--app-dir',
      context.app,
      '--release',
      'r3',
      '--hold',
      '0',
    ])
    assert.is(run.exitCode, 0, run.all)
    assert.not.match(run.all, SECRET)
    for (const host of context.hosts) {
      assert.is(await fs.readlink(onHost(host, `${ROOT}/current`)), 'releases/r3')
      assert.ok(await existsOn(host, `${ROOT}/releases/r3/.deployer/supervisors/mailer.sh`))
      const processes = await processesOn(host)
      assert.equal(
        processes.map((p) => [p.name, p.state]),
        [
          [`${DOMAIN}-mailer:${DOMAIN}-mailer_00`, 'RUNNING'],
          [`${DOMAIN}-queue:${DOMAIN}-queue_00`, 'RUNNING'],
        ],
      )
      for (const p of processes) assert.is(await releaseOf(host, p.pid as number), 'r3', `${host.name} ${p.name}`)
    }
    const status = await task(context, 'supervisor-status', ['--domain', DOMAIN])
    assert.is(status.exitCode, 0, status.all)
  },
)

journey(
  "6. server-logs --service audit: each server's trail holds the adopting deploy and the next one, all ok",
  async (context) => {
    const run = await task(context, 'server-logs', ['--server', 'legacy', '--service', 'audit', '--json'])
    assert.is(run.exitCode, 0, run.all)
    assert.not.match(run.all, SECRET)
    const logs = JSON.parse(run.stdout).logs as Array<{ server: string; source: string; lines: string[] }>
    for (const server of SERVERS) {
      const lines = (logs.find((l) => l.server === server && l.source === 'audit')?.lines ?? []).map(
        (text) => JSON.parse(text) as Line,
      )
      // Import changes no server, so it leaves no line; the adopting deploy's sync restarted every group already
      // (nothing left for its restart step), and the next deploy's sync changed nothing.
      assert.equal(
        lines.map((l) => `${l.task} ${l.action} ${l.result}`),
        ['deploy switch ok', 'deploy sync ok', 'deploy switch ok', 'deploy restart ok'],
      )
      const [switched, adopting, next, restarted] = lines as [Line, Line, Line, Line]
      assert.is(adopting.flags.adopt, true)
      assert.is(adopting.run, switched.run, "the deploy's steps share one run id")
      assert.ok(adopting.change.files?.includes(HANDMADE), JSON.stringify(adopting.change))
      assert.ok(adopting.change.groups?.updated?.includes('mailer'), JSON.stringify(adopting.change))
      assert.equal(switched.change, { release: 'releases/r2' })
      assert.equal(next.change, { release: 'releases/r3' })
      assert.is(restarted.run, next.run, "the deploy's steps share one run id")
    }
  },
)

journey(
  '7. a second import adds nothing: exit 0, the inventory byte for byte, the wrapper untouched',
  async (context) => {
    const before = await fs.readFile(context.sandbox.inventory, 'utf8')
    const wrapper = path.join(context.app, '.deployer/supervisors/mailer.sh')
    const script = await fs.readFile(wrapper, 'utf8')
    const run = await importTask(context, ['--write-scripts', context.app])
    assert.is(run.exitCode, 0, run.all)
    assert.not.match(run.stdout, /\bimported jobs\.test/)
    assert.not.match(run.stdout, 'npx zx tasks/supervisor-sync.mjs')
    assert.is(await fs.readFile(context.sandbox.inventory, 'utf8'), before)
    assert.is(await fs.readFile(wrapper, 'utf8'), script)
  },
)

journey.run()
