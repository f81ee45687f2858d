import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InputError } from '../../lib/errors.ts'
import { sshOptions } from '../../lib/remote/connection.ts'
import {
  configNamesUser,
  decideLogin,
  describeEndpoint,
  type Login,
  parseResolvedConfig,
} from '../../lib/remote/endpoint.ts'
import {
  assertSshConfigExists,
  chooseSshConfig,
  SSH_CONFIG_ENV,
  sshConfigFilesRead,
} from '../../lib/remote/ssh-config.ts'
import type { Server } from '../../lib/types.ts'

// Who ssh logs in as and on which port: the inventory when it says so, else the ssh config (ssh -G), else root on 22;
// and which ssh config file every call reads: --ssh-config, $ZXS_SSH_CONFIG, the inventory's sshConfig, ~/.ssh/config.

const server = (fields: Partial<Server> = {}): Server => ({
  name: 'inner',
  host: 'nu-inner',
  groups: [],
  siteUser: 'deployer',
  sitesPath: '/home/deployer/sites',
  local: false,
  ...fields,
})
const SETTINGS = { controlPath: '/run/zxs/abc', timeoutSeconds: 10, batch: true }
const login = (fields: Partial<Login> = {}): Login => ({
  host: 'nu-inner',
  hostName: '127.0.0.3',
  port: 22,
  user: 'deployer',
  userFrom: 'ssh config',
  portFrom: 'ssh config',
  ...fields,
})

/** The values of every `flag VALUE` pair in argv. */
const valuesOf = (argv: string[], flag: string) => argv.flatMap((arg, i) => (argv[i - 1] === flag ? [arg] : []))

const ARGV_CASES: Array<[string, Server, Login | undefined, { p: string[]; l: string[] }]> = [
  [
    'inventory silent, config names the user: neither -p nor -l (the config decides)',
    server(),
    login(),
    { p: [], l: [] },
  ],
  [
    'inventory silent, nothing names a user: -l root (the documented default), no -p',
    server(),
    login({ user: 'root', userFrom: 'default' }),
    { p: [], l: ['root'] },
  ],
  [
    'inventory sets port and username: both passed',
    server({ port: 2222, username: 'ops' }),
    login({ port: 2222, user: 'ops', userFrom: 'inventory', portFrom: 'inventory' }),
    { p: ['2222'], l: ['ops'] },
  ],
  [
    'inventory sets only the port',
    server({ port: 2200 }),
    login({ port: 2200, portFrom: 'inventory' }),
    { p: ['2200'], l: [] },
  ],
  [
    'inventory sets only the username',
    server({ username: 'root' }),
    login({ user: 'root', userFrom: 'inventory' }),
    { p: [], l: ['root'] },
  ],
  [
    'before the login is known (ssh -G): only what the inventory sets',
    server({ username: 'ops' }),
    undefined,
    { p: [], l: ['ops'] },
  ],
]

for (const [name, srv, known, expected] of ARGV_CASES) {
  test(`ssh argv: ${name}`, () => {
    const argv = sshOptions(srv, known, SETTINGS)
    assert.equal(valuesOf(argv, '-p'), expected.p)
    assert.equal(valuesOf(argv, '-l'), expected.l)
  })
}

test('ssh argv: a named ssh config comes first as -F; without one, no -F (OpenSSH reads ~/.ssh/config and /etc/ssh/ssh_config)', () => {
  const named = sshOptions(server(), login(), {
    ...SETTINGS,
    sshConfig: { path: '/srv/cfg/ssh_config', source: '--ssh-config', field: '--ssh-config' },
  })
  assert.equal(named.slice(0, 2), ['-F', '/srv/cfg/ssh_config'])
  assert.not.ok(sshOptions(server(), login(), SETTINGS).includes('-F'))
})

const G_OUTPUT = `user deployer
hostname 127.0.0.3
port 2222
proxyjump nu-jump
identityfile ~/.ssh/id_ed25519
batchmode yes
`

test('parseResolvedConfig reads user, hostname, port and proxyjump from ssh -G', () => {
  assert.equal(parseResolvedConfig(G_OUTPUT), {
    user: 'deployer',
    hostName: '127.0.0.3',
    port: 2222,
    proxyJump: 'nu-jump',
  })
  assert.equal(parseResolvedConfig('user root\nhostname 10.0.0.5\nport 22\nproxyjump none\n'), {
    user: 'root',
    hostName: '10.0.0.5',
    port: 22,
  })
})

const RESOLVED = { user: 'deployer', hostName: '127.0.0.3', port: 2222 }
const DECIDE_CASES: Array<
  [
    string,
    Server,
    typeof RESOLVED,
    { localUser: string; configNamesUser: boolean },
    Pick<Login, 'user' | 'userFrom' | 'port' | 'portFrom'>,
  ]
> = [
  [
    'inventory username and port win',
    server({ username: 'ops', port: 2200 }),
    { ...RESOLVED, user: 'ops', port: 2200 },
    { localUser: 'root', configNamesUser: true },
    { user: 'ops', userFrom: 'inventory', port: 2200, portFrom: 'inventory' },
  ],
  [
    'config User (differs from the local user) wins over the root default',
    server(),
    RESOLVED,
    { localUser: 'root', configNamesUser: false },
    { user: 'deployer', userFrom: 'ssh config', port: 2222, portFrom: 'ssh config' },
  ],
  [
    'config User equal to the local user still counts',
    server(),
    { ...RESOLVED, user: 'alice' },
    { localUser: 'alice', configNamesUser: true },
    { user: 'alice', userFrom: 'ssh config', port: 2222, portFrom: 'ssh config' },
  ],
  [
    'nothing names a user: root, not the local user ssh would pick',
    server(),
    { ...RESOLVED, user: 'alice', port: 22 },
    { localUser: 'alice', configNamesUser: false },
    { user: 'root', userFrom: 'default', port: 22, portFrom: 'ssh config' },
  ],
]

for (const [name, srv, resolved, context, expected] of DECIDE_CASES) {
  test(`decideLogin: ${name}`, () => {
    const decided = decideLogin(srv, resolved, context)
    assert.equal(
      { user: decided.user, userFrom: decided.userFrom, port: decided.port, portFrom: decided.portFrom },
      expected,
    )
    assert.is(decided.hostName, resolved.hostName)
  })
}

const CONFIG = `
Host web-*
  User deploy
  Port 2222
Host web-1
  HostName 10.0.0.11
Host db-1
  HostName 10.0.0.12
Match exec "touch /tmp/zxs-match-exec-ran"
  User nobody
`

test('configNamesUser: a User line for the host, found without running Match exec', () => {
  fs.rmSync('/tmp/zxs-match-exec-ran', { force: true })
  assert.ok(configNamesUser('web-1', CONFIG))
  assert.not.ok(configNamesUser('db-1', CONFIG))
  assert.not.ok(configNamesUser('db-1', ''))
  assert.not.ok(fs.existsSync('/tmp/zxs-match-exec-ran'))
})

const DESCRIBE_CASES: Array<[string, Server, Login | undefined, string]> = [
  ['an alias names the address, port and user', server(), login(), 'nu-inner (127.0.0.3:22) as deployer'],
  [
    'a ProxyJump is named',
    server(),
    login({ proxyJump: 'nu-jump' }),
    'nu-inner (127.0.0.3:22 via nu-jump) as deployer',
  ],
  [
    'an address is not repeated',
    server({ host: '203.0.113.10' }),
    login({ host: '203.0.113.10', hostName: '203.0.113.10', user: 'root' }),
    '203.0.113.10:22 as root',
  ],
  ['before the login is known: the host as written', server({ port: 2222 }), undefined, 'nu-inner:2222'],
  ['host: local', server({ host: 'local', local: true }), undefined, 'local'],
]

for (const [name, srv, known, expected] of DESCRIBE_CASES) {
  test(`describeEndpoint: ${name}`, () => {
    assert.is(describeEndpoint(srv, known), expected)
  })
}

const INVENTORY = '/srv/inv/inventory.yml'
const PRECEDENCE: Array<[string, Parameters<typeof chooseSshConfig>[0], { path: string; field: string } | undefined]> =
  [
    [
      '--ssh-config beats everything (relative to the working directory)',
      {
        flag: 'a/cfg',
        env: { [SSH_CONFIG_ENV]: '/env/cfg' },
        inventory: { path: INVENTORY, sshConfig: 'inv-cfg' },
        cwd: '/work',
      },
      { path: '/work/a/cfg', field: '--ssh-config' },
    ],
    [
      '$ZXS_SSH_CONFIG beats the inventory',
      { env: { [SSH_CONFIG_ENV]: 'env-cfg' }, inventory: { path: INVENTORY, sshConfig: 'inv-cfg' }, cwd: '/work' },
      { path: '/work/env-cfg', field: SSH_CONFIG_ENV },
    ],
    [
      'the inventory sshConfig, relative to the inventory file',
      { env: {}, inventory: { path: INVENTORY, sshConfig: 'ssh/cfg' }, cwd: '/work' },
      { path: '/srv/inv/ssh/cfg', field: 'sshConfig' },
    ],
    [
      '~ is the home directory',
      { env: {}, inventory: { path: INVENTORY, sshConfig: '~/.ssh/alt' }, cwd: '/work' },
      { path: path.join(os.homedir(), '.ssh/alt'), field: 'sshConfig' },
    ],
    ['an empty $ZXS_SSH_CONFIG counts as unset', { env: { [SSH_CONFIG_ENV]: ' ' }, cwd: '/work' }, undefined],
    [
      'nothing named: OpenSSH reads its own (~/.ssh/config)',
      { env: {}, inventory: { path: INVENTORY }, cwd: '/work' },
      undefined,
    ],
  ]

for (const [name, input, expected] of PRECEDENCE) {
  test(`chooseSshConfig: ${name}`, () => {
    const chosen = chooseSshConfig(input)
    assert.equal(chosen && { path: chosen.path, field: chosen.field }, expected)
  })
}

test('a named ssh config that does not exist is bad input (exit 2) naming where it was named', async () => {
  const missing = (field: string) => ({
    path: '/nonexistent/zxs/ssh_config',
    source: field === 'sshConfig' ? `${INVENTORY}: sshConfig` : field,
    field,
  })
  for (const field of ['--ssh-config', SSH_CONFIG_ENV, 'sshConfig']) {
    const error = await assertSshConfigExists(missing(field)).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.instance(error, InputError)
    assert.is((error as InputError).exitCode, 2)
    assert.match((error as InputError).message, field)
    assert.match((error as InputError).message, '/nonexistent/zxs/ssh_config')
  }
  await assertSshConfigExists(undefined)
})

test('the files a master depends on: a named config replaces ~/.ssh/config and /etc/ssh/ssh_config', () => {
  assert.equal(sshConfigFilesRead({ path: '/srv/cfg', source: '--ssh-config', field: '--ssh-config' }), ['/srv/cfg'])
  assert.equal(sshConfigFilesRead(undefined), [path.join(os.homedir(), '.ssh', 'config'), '/etc/ssh/ssh_config'])
})

test.run()
