import fs from 'node:fs/promises'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec, type SandboxHost } from '../../sandbox/index.ts'
import { ADOPTED } from '../helpers/imported-original.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import {
  addSites,
  deployApp,
  onHost,
  processesOn,
  startSandbox,
  type TestSandbox,
  writeAppDir,
} from '../helpers/sandbox.ts'

// A DeployerPHP server migrated the way an operator does it: hand-written confs → a dry run with --adopt → the
// adopting sync → a deploy of a new site on the same server → status. The server state and the exit code are
// checked at every step.

const journey = suite<{ sandbox: TestSandbox; host: SandboxHost; app: string }>(
  'journey: migrate a DeployerPHP server, then deploy a new site',
)

// Lingers a moment on SIGTERM, so the adopting sync waits for it and says under which stopwaitsecs.
const WORKER =
  '#!/bin/sh\ntrap \'sleep 1; exit 0\' TERM\necho "worker up in $DEPLOYER_RELEASE_PATH"\nwhile :; do sleep 1; done\n'
const OLD_ROOT = '/home/deployer/sites/old.test'
const CONF = '/etc/supervisor/conf.d/old.test-worker.conf'
const LOGROTATE = '/etc/logrotate.d/supervisor-old.test-worker.conf'
const RUNNER = `${OLD_ROOT}/runner.sh`

// What DeployerPHP's supervisor:sync and site:deploy leave on a server (notes/deployerphp.md §4–6), unmarked.
const HAND_WRITTEN: Record<string, string> = {
  [CONF]: `[program:old.test-worker]
command=${RUNNER} .deployer/supervisors/worker.sh
directory=${OLD_ROOT}/current
user=deployer
autostart=true
autorestart=true
stopwaitsecs=3600
numprocs=1
stdout_logfile=/var/log/supervisor/old.test-worker.log
stderr_logfile=/var/log/supervisor/old.test-worker.log
`,
  [LOGROTATE]:
    '/var/log/supervisor/old.test-worker.log {\n    daily\n    rotate 5\n    missingok\n    copytruncate\n}\n',
  [RUNNER]: `#!/usr/bin/env bash
set -e
export DEPLOYER_RELEASE_PATH=${OLD_ROOT}/releases/r1
export DEPLOYER_CURRENT_PATH=${OLD_ROOT}/current
cd "$DEPLOYER_CURRENT_PATH"
exec "./$1"
`,
}

journey.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.host = context.sandbox.host('sandbox-1')
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  await deployApp(context.host, 'old.test', { 'worker.sh': WORKER })
  for (const [file, content] of Object.entries(HAND_WRITTEN))
    await fs.writeFile(onHost(context.host, file), content, { mode: file === RUNNER ? 0o755 : 0o644 })
  await hostExec(context.host, ['chown', 'deployer:deployer', RUNNER])
  const update = await hostExec(context.host, ['supervisorctl', 'update'])
  assert.is(update.exitCode, 0, update.stdout + update.stderr)
  // supervisorctl names a lone process without process_name by its program: `old.test-worker`.
  await waitFor('the hand-written worker running', async () =>
    (await processesOn(context.host)).some((p) => p.name === 'old.test-worker' && p.state === 'RUNNING'),
  )
  // The operator's inventory for the migrated site (its stopwaitsecs tuned on the way), and the new site.
  await addSites(
    context.sandbox.inventory,
    `
  - domain: old.test
    server: sandbox-1
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 10
  - domain: new.test
    server: sandbox-1
    supervisors:
      - program: worker
        script: worker.sh
        numprocs: 2
        stopwaitsecs: 10
`,
  )
})

journey.after(async ({ sandbox }) => {
  await sandbox?.down()
})

async function handWrittenFiles(host: SandboxHost): Promise<Record<string, string>> {
  return Object.fromEntries(
    await Promise.all(
      Object.keys(HAND_WRITTEN).map(async (file) => [file, await fs.readFile(onHost(host, file), 'utf8')] as const),
    ),
  )
}

/** `relative path → content` of every original kept under the adoption state directory. */
async function keptOriginals(host: SandboxHost): Promise<Record<string, string>> {
  const listed = await hostExec(host, ['find', ADOPTED, '-type', 'f', '-printf', '%P\\n'])
  const files = listed.exitCode === 0 ? listed.stdout.split('\n').filter(Boolean).sort() : []
  return Object.fromEntries(
    await Promise.all(
      files.map(async (file) => [file, await fs.readFile(onHost(host, `${ADOPTED}/${file}`), 'utf8')] as const),
    ),
  )
}

async function stat(host: SandboxHost, paths: string[]): Promise<string[]> {
  return (await hostExec(host, ['stat', '-c', '%U:%G %a %n', '--', ...paths])).stdout.trim().split('\n')
}

journey(
  '1. sync --dry-run --adopt shows what it would adopt, exit 0, and changes nothing',
  async ({ sandbox, host }) => {
    const running = async () => (await processesOn(host)).map((p) => [p.name, p.state, p.pid])
    const before = await running()
    const run = await runTask('supervisor-sync', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'old.test',
      '--dry-run',
      '--adopt',
    ])
    assert.is(run.exitCode, 0, run.all)
    for (const file of Object.keys(HAND_WRITTEN)) assert.match(run.stdout, `sandbox-1  would adopt (unmarked) ${file}`)
    assert.equal(await handWrittenFiles(host), HAND_WRITTEN)
    assert.equal(await keptOriginals(host), {})
    assert.equal(await running(), before)
  },
)

journey(
  '2. sync --adopt marks the files, keeps each original (root, 0600) and says where, and the worker runs again',
  async ({ sandbox, host }) => {
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'old.test', '--adopt'])
    assert.is(run.exitCode, 0, run.all)
    // The old process stops under the stopwaitsecs it was started with: the hand-written conf's.
    assert.match(
      run.stdout,
      /waiting for old\.test-worker:old\.test-worker to stop \(since [\d:]+, stopwaitsecs 3600\)/,
    )
    assert.not.match(run.stdout, 'stopwaitsecs ?')
    const files = await handWrittenFiles(host)
    assert.match(files[CONF] as string, /^; zx-supervisor inventory=default site=old\.test program=worker\n/)
    assert.match(files[LOGROTATE] as string, /^# zx-supervisor inventory=default site=old\.test program=worker\n/)
    assert.match(
      files[RUNNER] as string,
      /^#!\/bin\/sh\n# zx-supervisor inventory=default site=old\.test file=runner\n/,
    )
    const kept = await keptOriginals(host)
    const stamp = Object.keys(kept)[0]?.split('/')[0] as string
    assert.equal(
      kept,
      Object.fromEntries(Object.entries(HAND_WRITTEN).map(([file, content]) => [`${stamp}${file}`, content])),
    )
    const keptPaths = Object.keys(HAND_WRITTEN).map((file) => `${ADOPTED}/${stamp}${file}`)
    assert.equal(
      await stat(host, keptPaths),
      keptPaths.map((file) => `root:root 600 ${file}`),
    )
    for (const [file, copy] of Object.keys(HAND_WRITTEN).map((file, i) => [file, keptPaths[i]]))
      assert.match(run.stdout, `sandbox-1  + (adopted) ${file} (original kept in ${copy})`)
    await waitFor('the adopted worker running', async () =>
      (await processesOn(host)).some((p) => p.name === 'old.test-worker:old.test-worker_00' && p.state === 'RUNNING'),
    )
    assert.not.ok(
      (await processesOn(host)).some((p) => p.name === 'old.test-worker'),
      'the hand-written process is gone',
    )
  },
)

journey(
  "3. deploy of a new site on the migrated server: exit 0, its directories the site user's, workers on the new release",
  async ({ sandbox, host, app }) => {
    const run = await runTask('deploy', [
      '--inventory',
      sandbox.inventory,
      '--domain',
      'new.test',
      '--app-dir',
      app,
      '--release',
      'r1',
      '--hold',
      '0',
    ])
    assert.is(run.exitCode, 0, run.all)
    const root = '/home/deployer/sites/new.test'
    assert.equal(
      await stat(host, [root, `${root}/releases`, `${root}/shared`, `${root}/releases/r1`, `${root}/runner.sh`]),
      [
        `deployer:deployer 755 ${root}`,
        `deployer:deployer 755 ${root}/releases`,
        `deployer:deployer 755 ${root}/shared`,
        `deployer:deployer 755 ${root}/releases/r1`,
        `deployer:deployer 755 ${root}/runner.sh`,
      ],
    )
    assert.is(await fs.readlink(onHost(host, `${root}/current`)), 'releases/r1')
    const status = await runTask('supervisor-status', [
      '--inventory',
      sandbox.inventory,
      '--server',
      'sandbox-1',
      '--json',
    ])
    const programs = JSON.parse(status.stdout).servers[0].programs as Array<{
      fullName: string
      processes: Array<{ state: string; release: string }>
    }>
    const fresh = programs.find((p) => p.fullName === 'new.test-worker')
    assert.equal(
      fresh?.processes.map((p) => [p.state, p.release]),
      [
        ['RUNNING', 'r1'],
        ['RUNNING', 'r1'],
      ],
    )
  },
)

journey(
  '4. supervisor-status: every program of both sites as the inventory wants, exit 0',
  async ({ sandbox, host }) => {
    const run = await runTask('supervisor-status', ['--inventory', sandbox.inventory])
    assert.is(run.exitCode, 0, run.all)
    assert.match(run.stdout, /old\.test-worker_00\s+RUNNING/)
    assert.match(run.stdout, /new\.test-worker_01\s+RUNNING/)
    assert.equal(
      (await processesOn(host)).map((p) => [p.name, p.state]),
      [
        ['new.test-worker:new.test-worker_00', 'RUNNING'],
        ['new.test-worker:new.test-worker_01', 'RUNNING'],
        ['old.test-worker:old.test-worker_00', 'RUNNING'],
      ],
    )
  },
)

journey.run()
