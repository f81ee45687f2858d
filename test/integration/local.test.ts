import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { PROJECT, waitFor } from '../helpers/run-task.ts'
import { deployApp, processesOn, startSandbox, type TestSandbox, WORKER } from '../helpers/sandbox.ts'

// `host: local`: the same steps on the machine the task runs on, without SSH. The task runs INSIDE a sandbox host
// (nsenter), so "this machine" is that host and the real machine's /etc/supervisor is never touched.

const local = suite<{ sandbox: TestSandbox }>('host: local runs the steps without SSH')

local.before(async (context) => {
  context.sandbox = await startSandbox(1)
})

local.after(async ({ sandbox }) => {
  await sandbox?.down()
})

local('sync and status with host: local, inside a server', async ({ sandbox }) => {
  const host = sandbox.host('sandbox-1')
  await deployApp(host, 'l.test', { 'worker.sh': WORKER })
  await fs.writeFile(
    path.join(host.root, 'root/inventory.yml'),
    `servers:
  - name: here
    host: local
sites:
  - domain: l.test
    server: here
    supervisors:
      - program: worker
        script: worker.sh
        numprocs: 2
`,
  )
  const sshdLog = path.join(host.root, 'var/log/sshd.log')
  const sshdBefore = (await fs.stat(sshdLog)).size
  // The checkout may live under a directory the host keeps private (/tmp in CI): copy it into the host's /opt.
  const inside = '/opt/zxs-project'
  for (const entry of ['package.json', 'lib', 'dist', 'tasks', 'templates', 'node_modules'])
    await fs.cp(path.join(PROJECT, entry), path.join(host.root, inside, entry), {
      recursive: true,
      verbatimSymlinks: true,
    })
  const task = (name: string, ...args: string[]) =>
    hostExec(host, [
      'sh',
      '-c',
      'cd "$1" && shift && exec node node_modules/zx/build/cli.js "$@"',
      'sh',
      inside,
      `tasks/${name}.mjs`,
      '--inventory',
      '/root/inventory.yml',
      ...args,
    ])
  const sync = await task('supervisor-sync', '--all')
  assert.is(sync.exitCode, 0, sync.stdout + sync.stderr)
  assert.match(sync.stdout, 'here  + /etc/supervisor/conf.d/l.test-worker.conf')
  await waitFor(
    'two processes running',
    async () => (await processesOn(host)).filter((p) => p.state === 'RUNNING').length === 2,
  )
  const again = await task('supervisor-sync', '--all')
  assert.match(again.stdout, /here\s+ok=1 changed=0 failed=0/)
  const status = await task('supervisor-status')
  assert.is(status.exitCode, 0, status.stdout + status.stderr)
  assert.match(status.stdout, /here\s+l.test-worker\s+l.test-worker_01\s+RUNNING/)
  assert.is((await fs.stat(sshdLog)).size, sshdBefore, 'no SSH connection was made')
  assert.ok(await fs.stat(path.join(host.root, 'etc/supervisor/conf.d/l.test-worker.conf')))
  assert.not.ok(
    await fs.stat('/etc/supervisor/conf.d/l.test-worker.conf').catch(() => null),
    "the real machine's conf.d is untouched",
  )
})

local.run()
