import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, processesOn, startSandbox, type TestSandbox } from '../helpers/sandbox.ts'

// Secrets at rest: a synced environment value is readable by root only; program logs are not world-readable.

const privacy = suite<{ sandbox: TestSandbox }>('no secret readable by another local user')
const SECRET = 'sk_live_zxs_private_4242'
// The worker prints its secret: the log must stay private too.
const LEAKY = '#!/bin/sh\necho "token is $STRIPE_SECRET"\nexec sleep 100000\n'

privacy.before(async (context) => {
  context.sandbox = await startSandbox(1)
  await addSites(
    context.sandbox.inventory,
    `
  - domain: s.test
    server: sandbox-1
    supervisors:
      - program: leaky
        script: leaky.sh
        stopwaitsecs: 2
        environment:
          STRIPE_SECRET: ${SECRET}
`,
  )
  await deployApp(context.sandbox.host('sandbox-1'), 's.test', { 'leaky.sh': LEAKY })
})

privacy.after(async ({ sandbox }) => {
  await sandbox?.down()
})

privacy(
  'after a sync, user nobody finds the secret in no file under the conf dir, the log dir or the site root',
  async ({ sandbox }) => {
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--all'])
    assert.is(run.exitCode, 0, run.all)
    const host = sandbox.host('sandbox-1')
    const log = path.join(host.root, 'var/log/supervisor/s.test-leaky.log')
    await waitFor('the worker wrote its log', async () =>
      (await fs.readFile(log, 'utf8').catch(() => '')).includes(SECRET),
    )
    const asRoot = await hostExec(host, [
      'grep',
      '-rl',
      SECRET,
      '/etc/supervisor',
      '/var/log/supervisor',
      '/home/deployer/sites',
    ])
    assert.ok(
      asRoot.stdout.includes('/etc/supervisor/conf.d/s.test-leaky.conf'),
      `the control: root finds it (${asRoot.stdout})`,
    )
    const asNobody = await hostExec(host, [
      'setpriv',
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      '--',
      'grep',
      '-rl',
      SECRET,
      '/etc/supervisor',
      '/var/log/supervisor',
      '/home/deployer/sites',
    ])
    assert.is(asNobody.stdout.trim(), '', `nobody reads no file holding the secret: ${asNobody.stdout}`)
    assert.is(
      ((await fs.stat(path.join(host.root, 'etc/supervisor/conf.d/s.test-leaky.conf'))).mode & 0o777).toString(8),
      '600',
    )
    assert.is(((await fs.stat(log)).mode & 0o777).toString(8), '640')
  },
)

privacy(
  'a log written world-readable before (an older sync) is made private on the next sync that activates',
  async ({ sandbox }) => {
    const host = sandbox.host('sandbox-1')
    const log = path.join(host.root, 'var/log/supervisor/s.test-leaky.log')
    await fs.chmod(log, 0o644)
    const text = await fs.readFile(sandbox.inventory, 'utf8')
    await fs.writeFile(sandbox.inventory, text.replace('stopwaitsecs: 2', 'stopwaitsecs: 3'))
    const run = await runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--all'])
    assert.is(run.exitCode, 0, run.all)
    assert.is(((await fs.stat(log)).mode & 0o777).toString(8), '640')
    await waitFor('the worker running again', async () =>
      (await processesOn(host)).some((p) => p.group === 's.test-leaky' && p.state === 'RUNNING'),
    )
  },
)

privacy('a rotated log stays private (logrotate copies it with its mode)', async ({ sandbox }) => {
  const host = sandbox.host('sandbox-1')
  const rotated = await hostExec(host, [
    'logrotate',
    '-f',
    '-s',
    '/tmp/logrotate.state',
    '/etc/logrotate.d/supervisor-s.test-leaky.conf',
  ])
  assert.is(rotated.exitCode, 0, rotated.stderr)
  for (const name of ['s.test-leaky.log', 's.test-leaky.log.1']) {
    assert.is(((await fs.stat(path.join(host.root, 'var/log/supervisor', name))).mode & 0o777).toString(8), '640', name)
  }
})

privacy.run()
