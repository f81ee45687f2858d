import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { deployApp, processesOn, startSandbox, type TestSandbox, WORKER } from '../helpers/sandbox.ts'
import { INNER_ALIAS, JUMP_ALIAS, loginsSince, sshdLog, writeAliasConfig } from '../helpers/ssh-alias.ts'

// An inventory that says only `host: nu-inner`: the ssh config named by --ssh-config, $ZXS_SSH_CONFIG or the
// inventory's sshConfig decides the user, port and the ProxyJump through another sandbox host; seen in both sshd logs.

interface Context {
  sandbox: TestSandbox
  config: string
  inventory: string
}
const aliases = suite<Context>(
  'ssh config aliases: --ssh-config, $ZXS_SSH_CONFIG, sshConfig and ProxyJump on sandbox servers',
)

const SITE = `sites:
  - domain: app.test
    server: inner
    supervisors:
      - program: worker
        script: worker.sh
        stopwaitsecs: 2
`
const inventoryText = (serverExtra = '', top = '') =>
  `${top}servers:\n  - name: inner\n    host: ${INNER_ALIAS}\n${serverExtra}${SITE}`

aliases.before(async (context) => {
  context.sandbox = await startSandbox(2)
  const { sandbox } = context
  context.config = await writeAliasConfig(
    sandbox,
    path.join(sandbox.dir, 'client'),
    sandbox.host('sandbox-1'),
    sandbox.host('sandbox-2'),
  )
  context.inventory = path.join(sandbox.dir, 'alias.yml')
  await fs.writeFile(context.inventory, inventoryText())
  await deployApp(sandbox.host('sandbox-2'), 'app.test', { 'worker.sh': WORKER })
})

aliases.after(async ({ sandbox }) => {
  await sandbox?.down()
})

/** Runs a task and returns who logged in to the jump host and to the inner host meanwhile. */
async function withLogins(sandbox: TestSandbox, run: () => ReturnType<typeof runTask>) {
  const [jump, inner] = [sandbox.host('sandbox-1'), sandbox.host('sandbox-2')]
  const before = [(await sshdLog(jump)).length, (await sshdLog(inner)).length] as const
  const result = await run()
  return { result, jump: await loginsSince(jump, before[0]), inner: await loginsSince(inner, before[1]) }
}

aliases(
  "--ssh-config: sync logs in as the alias's User through its ProxyJump, never as root; --verbose says so",
  async ({ sandbox, config, inventory }) => {
    const { result, jump, inner } = await withLogins(sandbox, () =>
      runTask('supervisor-sync', ['--inventory', inventory, '--all', '--ssh-config', config, '--verbose']),
    )
    assert.is(result.exitCode, 0, result.all)
    assert.ok(jump.length > 0 && jump.every((user) => user === 'deployer'), `the jump host saw the hop: ${jump}`)
    assert.ok(inner.length > 0 && inner.every((user) => user === 'deployer'), `logins on the inner host: ${inner}`)
    assert.match(
      result.stderr,
      new RegExp(
        `inner: logs in as deployer@${sandbox.host('sandbox-2').address.replace(/\./g, '\\.')}:22, through ProxyJump ${JUMP_ALIAS} \\(user from the ssh config ${config}`,
      ),
    )
    assert.not.match(result.stderr, / -l root/, 'no -l: the config decides')
    assert.not.match(result.stderr, / -p 22/, 'no -p: the config decides')
    assert.match(result.stderr, `-F ${config}`)
    await waitFor('the worker RUNNING on the inner host', async () =>
      (await processesOn(sandbox.host('sandbox-2'))).some(
        (p) => p.group === 'app.test-worker' && p.state === 'RUNNING',
      ),
    )
  },
)

aliases(
  "$ZXS_SSH_CONFIG, and the inventory's sshConfig relative to the inventory file: status 0 as deployer",
  async ({ sandbox, config }) => {
    const fromEnv = await withLogins(sandbox, () =>
      runTask('supervisor-status', ['--inventory', path.join(sandbox.dir, 'alias.yml')], {
        env: { ZXS_SSH_CONFIG: config },
      }),
    )
    assert.is(fromEnv.result.exitCode, 0, fromEnv.result.all)
    assert.equal([...new Set(fromEnv.inner)], ['deployer'])

    const inventory = path.join(sandbox.dir, 'with-config.yml')
    await fs.writeFile(inventory, inventoryText('', 'sshConfig: client/ssh_config\n'))
    const fromInventory = await withLogins(sandbox, () => runTask('supervisor-status', ['--inventory', inventory]))
    assert.is(fromInventory.result.exitCode, 0, fromInventory.result.all)
    assert.equal([...new Set(fromInventory.inner)], ['deployer'])
    assert.equal([...new Set(fromInventory.jump)], ['deployer'])
  },
)

aliases(
  "precedence: --ssh-config over $ZXS_SSH_CONFIG over sshConfig; the inventory's username over the config's User",
  async ({ sandbox, config }) => {
    const inventory = path.join(sandbox.dir, 'broken-config.yml')
    await fs.writeFile(inventory, inventoryText('', 'sshConfig: nowhere/ssh_config\n'))
    const flagWins = await runTask('supervisor-status', ['--inventory', inventory, '--ssh-config', config], {
      env: { ZXS_SSH_CONFIG: '/nonexistent/ssh_config' },
    })
    assert.is(flagWins.exitCode, 0, flagWins.all)
    const envWins = await runTask('supervisor-status', ['--inventory', inventory], { env: { ZXS_SSH_CONFIG: config } })
    assert.is(envWins.exitCode, 0, envWins.all)

    const asRoot = path.join(sandbox.dir, 'as-root.yml')
    await fs.writeFile(asRoot, inventoryText('    username: root\n'))
    const { result, inner } = await withLogins(sandbox, () =>
      runTask('supervisor-status', ['--inventory', asRoot, '--ssh-config', config]),
    )
    assert.is(result.exitCode, 0, result.all)
    assert.equal([...new Set(inner)], ['root'], 'username: root in the inventory wins over User deployer')
  },
)

aliases(
  'a jump host forwards only to the sandbox\'s own hosts; a failed hop is exit 1 saying so, not "connection lost"',
  async ({ sandbox, config }) => {
    // A listener on this machine's loopback that is not a sandbox host: the jump host must not connect to it (PermitOpen).
    let reached = 0
    const listener = net.createServer((socket) => {
      reached += 1
      socket.destroy()
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const { port } = listener.address() as net.AddressInfo
    try {
      const outside = path.join(sandbox.dir, 'client', 'outside_config')
      const text = await fs.readFile(config, 'utf8')
      await fs.writeFile(
        outside,
        text
          .replace(`Host ${INNER_ALIAS}`, 'Host nu-outside')
          .replace(
            `HostName ${sandbox.host('sandbox-2').address}\n  Port ${sandbox.host('sandbox-2').port}`,
            `HostName 127.0.0.1\n  Port ${port}`,
          ),
      )
      const inventory = path.join(sandbox.dir, 'outside.yml')
      await fs.writeFile(inventory, 'servers:\n  - name: outside\n    host: nu-outside\nsites: []\n')
      const run = await runTask('supervisor-status', ['--inventory', inventory, '--ssh-config', outside])
      assert.is(run.exitCode, 1, run.all)
      assert.match(
        run.all,
        `the connection to nu-outside (127.0.0.1:${port} via ${JUMP_ALIAS}) as deployer closed in the jump (ProxyJump or ProxyCommand) before the login`,
        run.all,
      )
      assert.is(reached, 0, 'the jump host refused to forward outside the sandbox')
    } finally {
      listener.close()
    }
  },
)

aliases('a named ssh config that is missing: exit 2 naming where it was named, nothing sent', async ({ sandbox }) => {
  const inventory = path.join(sandbox.dir, 'missing-config.yml')
  await fs.writeFile(inventory, inventoryText('', 'sshConfig: nowhere/ssh_config\n'))
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      '--ssh-config',
      ['--inventory', path.join(sandbox.dir, 'alias.yml'), '--ssh-config', '/nonexistent/zxs/ssh_config'],
      {},
      /--ssh-config: got "\/nonexistent\/zxs\/ssh_config"; allowed: a readable ssh config file/,
    ],
    [
      '$ZXS_SSH_CONFIG',
      ['--inventory', path.join(sandbox.dir, 'alias.yml')],
      { ZXS_SSH_CONFIG: '/nonexistent/zxs/ssh_config' },
      /ZXS_SSH_CONFIG: got "\/nonexistent\/zxs\/ssh_config"/,
    ],
    [
      'sshConfig',
      ['--inventory', inventory],
      {},
      new RegExp(
        `sshConfig: got "${path.join(sandbox.dir, 'nowhere/ssh_config')}"; allowed: a readable ssh config file \\(relative to the inventory file\\)`,
      ),
    ],
  ]
  for (const [source, args, env, expected] of cases) {
    const { result, jump, inner } = await withLogins(sandbox, () =>
      runTask('supervisor-sync', [...args, '--all'], { env }),
    )
    assert.is(result.exitCode, 2, `${source}: ${result.all}`)
    assert.match(result.stderr, expected)
    assert.equal([...jump, ...inner], [], `${source}: no login anywhere`)
  }
})

aliases.run()
