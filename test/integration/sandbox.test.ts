// Real sandbox hosts: brought up by the task, reached over SSH, isolated, faulted, torn down. Needs root.
// Run: node --import tsx test/integration/sandbox.test.ts
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { load } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { SandboxHost, SandboxState } from '../../sandbox/index.ts'
import {
  hostExec,
  pauseSshd,
  readSandbox,
  resumeSshd,
  sandboxDown,
  sandboxStatus,
  startSshd,
  stopSshd,
} from '../../sandbox/index.ts'
import { processesIn } from '../../sandbox/processes.ts'

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const isRoot = process.getuid?.() === 0
const it = isRoot ? test : test.skip
if (!isRoot) {
  console.warn(
    '\n!!!!!!!! SKIPPED test/integration/sandbox.test.ts: it needs root (namespaces, mounts, sshd). Run it as root. !!!!!!!!\n',
  )
}

let dir = ''
let state: SandboxState
/** Sandboxes of the --layout cases, each in its own DIR. */
const layoutDirs: string[] = []
function host(i: number): SandboxHost {
  const found = state.hosts[i]
  if (!found) throw new Error(`the sandbox has no host ${i + 1}`)
  return found
}

function task(...args: string[]) {
  return execa('npx', ['zx', 'tasks/sandbox.mjs', ...args], { cwd: PROJECT, reject: false, timeout: 120_000 })
}

/** The login the brief promises works: the generated key, strict host key checking, no agent, no prompt. */
function ssh(target: SandboxHost, command: string, options: string[] = []) {
  return execa(
    'ssh',
    [
      '-i',
      target.identityFile,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${target.knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      ...options,
      `${target.user}@${target.address}`,
      command,
    ],
    { reject: false },
  )
}

test.after(async () => {
  if (isRoot && dir) await sandboxDown({ dir })
  if (isRoot) for (const layoutDir of layoutDirs) await sandboxDown({ dir: layoutDir })
})

/** supervisord's files of another layout must never appear in the machine's /etc: /etc/supervisord.conf would become every Debian host's config. */
async function machineEtcClean(): Promise<string[]> {
  const names = await fs.readdir('/etc')
  return names.filter((name) => ['supervisord.conf', 'supervisord.d', 'supervisor.d'].includes(name))
}

it('up (the task) returns with every host reachable and prints state.json', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-sandbox-test-'))
  const result = await task(
    'up',
    '--servers',
    '2',
    '--dir',
    dir,
    '--inventory',
    path.join(dir, 'inventory.yml'),
    '--json',
  )
  assert.is(result.exitCode, 0, result.stderr)
  state = JSON.parse(result.stdout) as SandboxState
  assert.equal(state, await readSandbox(dir))
  assert.equal(
    state.hosts.map((h) => h.name),
    ['sandbox-1', 'sandbox-2'],
  )
  for (const h of state.hosts) assert.match(h.address, /^127\.\d+\.\d+\.\d+$/)
  assert.is.not(host(0).address, host(1).address)
  assert.equal(
    state.hosts.map((h) => h.layout),
    ['debian', 'debian'],
    'Debian is the default layout',
  )
})

it('up over an inventory edited since (as supervisor-create does): exit 2 naming it, hosts and edit untouched', async () => {
  const inventory = path.join(dir, 'inventory.yml')
  const edited = (await fs.readFile(inventory, 'utf8')).replace(
    'sites: []\n',
    'sites:\n  - domain: a.test\n    server: sandbox-1\n',
  )
  await fs.writeFile(inventory, edited)
  const again = await task('up', '--servers', '2', '--dir', dir, '--inventory', inventory)
  assert.is(again.exitCode, 2, again.stderr)
  assert.match(again.stderr, `Refusing to overwrite ${inventory}:`)
  assert.match(again.stderr, '--force')
  assert.is(await fs.readFile(inventory, 'utf8'), edited)
  assert.equal(
    (await sandboxStatus(dir)).hosts.map((h) => h.running),
    [true, true],
  )
})

it('up --force replaces the edited inventory with a fresh one', async () => {
  const inventory = path.join(dir, 'inventory.yml')
  const forced = await task('up', '--servers', '2', '--dir', dir, '--inventory', inventory, '--force', '--json')
  assert.is(forced.exitCode, 0, forced.stderr)
  state = JSON.parse(forced.stdout) as SandboxState
  const text = await fs.readFile(inventory, 'utf8')
  assert.equal((load(text) as { sites: unknown[] }).sites, [])
})

it('each host answers a strict key login with its own hostname', async () => {
  for (const target of state.hosts) {
    const result = await ssh(target, 'hostname')
    assert.is(result.exitCode, 0, result.stderr)
    assert.is(result.stdout, target.name)
  }
})

it('the inventory names each host by address, with the key and known_hosts', async () => {
  const text = await fs.readFile(path.join(dir, 'inventory.yml'), 'utf8')
  assert.ok(
    text.startsWith(
      `# Generated by tasks/sandbox.mjs up — local throwaway servers. Use: --inventory ${path.join(dir, 'inventory.yml')}\n`,
    ),
    text,
  )
  const inventory = load(text) as { servers: Record<string, unknown>[]; sites: unknown[] }
  assert.equal(inventory.sites, [])
  assert.equal(inventory.servers[1], {
    name: 'sandbox-2',
    host: host(1).address,
    port: 22,
    username: 'deployer',
    privateKeyPath: state.identityFile,
    knownHostsFile: state.knownHosts,
  })
  assert.match(
    await fs.readFile(state.knownHosts, 'utf8'),
    new RegExp(`^${host(0).address.replaceAll('.', '\\.')} ssh-ed25519 `, 'm'),
  )
})

it('sudo -n supervisorctl status works over SSH (stock root-only socket)', async () => {
  const withSudo = await ssh(host(0), 'sudo -n supervisorctl status')
  assert.is(withSudo.exitCode, 0, withSudo.stderr)
  const withoutSudo = await ssh(host(0), 'supervisorctl status')
  assert.match(withoutSudo.stdout + withoutSudo.stderr, /Permission denied/)
})

it('a program in host 1 conf.d runs there only', async () => {
  const conf = path.join(host(0).root, 'etc/supervisor/conf.d/zxs-isolation.conf')
  await fs.writeFile(conf, '[program:zxs-isolation]\ncommand=/bin/sleep 600\nstartsecs=0\n')
  const update = await ssh(
    host(0),
    'sudo -n supervisorctl update && sleep 0.2 && sudo -n supervisorctl status zxs-isolation',
  )
  assert.match(update.stdout, /zxs-isolation\s+RUNNING/, update.stderr)
  const other = await ssh(host(1), 'ls /etc/supervisor/conf.d; sudo -n supervisorctl status zxs-isolation')
  assert.is(other.exitCode, 4, 'supervisorctl on host 2 knows no such process')
  assert.not.match(other.stdout, /zxs-isolation\.conf/)
  assert.not.ok(
    await fs.access('/etc/supervisor/conf.d/zxs-isolation.conf').then(
      () => true,
      () => false,
    ),
    'machine conf.d untouched',
  )
  assert.not.match((await hostExec(host(1), ['ps', '-eo', 'args'])).stdout, /sleep 600/)
})

it('hostExec runs as root inside the host, with stdin', async () => {
  assert.equal(await hostExec(host(1), ['sh', '-c', 'echo "$(hostname) $(id -u)"; cat'], { input: 'from stdin' }), {
    stdout: `sandbox-2 0\nfrom stdin`,
    stderr: '',
    exitCode: 0,
  })
  assert.is((await hostExec(host(1), ['false'])).exitCode, 1)
})

it('status says every host runs', async () => {
  const status = await sandboxStatus(dir)
  assert.ok(status.exists)
  assert.equal(
    status.hosts.map((h) => [h.name, h.running]),
    [
      ['sandbox-1', true],
      ['sandbox-2', true],
    ],
  )
})

it('stopSshd makes connections refused; startSshd brings sshd back', async () => {
  await stopSshd(host(0))
  const refused = await ssh(host(0), 'true')
  assert.is(refused.exitCode, 255)
  assert.match(refused.stderr, /Connection refused/)
  assert.is((await sandboxStatus(dir)).hosts[0]?.sshd, false)
  assert.is((await ssh(host(1), 'true')).exitCode, 0, 'the other host is not affected')
  await startSshd(host(0))
  const back = await ssh(host(0), 'hostname')
  assert.is(back.stdout, 'sandbox-1', back.stderr)
  assert.is((await sandboxStatus(dir)).hosts[0]?.running, true)
})

it('pauseSshd makes connections time out; resumeSshd brings them back', async () => {
  await pauseSshd(host(1))
  const started = Date.now()
  const hung = await ssh(host(1), 'true', ['-o', 'ConnectTimeout=1'])
  assert.is(hung.exitCode, 255)
  assert.match(hung.stderr, /timed out/)
  assert.ok(Date.now() - started >= 900)
  await resumeSshd(host(1))
  assert.is((await ssh(host(1), 'hostname')).stdout, 'sandbox-2')
})

it("the default (Debian) host runs supervisord with /etc/supervisor/supervisord.conf, in the machine's /etc", async () => {
  assert.match(
    (await hostExec(host(0), ['ps', '-eo', 'args'])).stdout,
    /supervisord -c \/etc\/supervisor\/supervisord\.conf/,
  )
  assert.match(
    (await hostExec(host(0), ['findmnt', '-no', 'FSTYPE', '/etc'])).stdout,
    /^$/,
    '/etc is not a mount of its own',
  )
})

it('up --layout with an unknown name: exit 2 naming the layouts, before anything starts', async () => {
  const missing = path.join(os.tmpdir(), `zxs-sandbox-no-layout-${process.pid}`)
  const result = await task(
    'up',
    '--dir',
    missing,
    '--inventory',
    path.join(missing, 'inventory.yml'),
    '--layout',
    'suse',
  )
  assert.is(result.exitCode, 2, result.stderr)
  assert.match(result.stderr, /--layout.*suse/s)
  assert.match(result.stderr, 'debian, rhel, alpine')
  assert.not.ok(
    await fs.access(missing).then(
      () => true,
      () => false,
    ),
    'no DIR made',
  )
})

it("up --layout rhel: RHEL's config, include dir and socket in a private /etc; status and down; the machine's /etc untouched", async () => {
  const rhelDir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-sandbox-rhel-'))
  layoutDirs.push(rhelDir)
  const up = await task(
    'up',
    '--servers',
    '2',
    '--layout',
    'rhel',
    '--dir',
    rhelDir,
    '--inventory',
    path.join(rhelDir, 'inventory.yml'),
    '--json',
  )
  assert.is(up.exitCode, 0, up.stderr)
  const rhel = JSON.parse(up.stdout) as SandboxState
  assert.equal(
    rhel.hosts.map((h) => h.layout),
    ['rhel', 'rhel'],
  )
  assert.equal(
    (await readSandbox(rhelDir)).hosts.map((h) => h.layout),
    ['rhel', 'rhel'],
    'recorded in state.json',
  )
  assert.equal(await machineEtcClean(), [])
  const [one] = rhel.hosts as [SandboxHost]
  const inside = await ssh(
    one,
    'sudo -n supervisorctl -c /etc/supervisord.conf status && grep -E "^(files =|file=|serverurl=|logfile=|pidfile=)" /etc/supervisord.conf && ' +
      'test -S /run/supervisor/supervisor.sock && test -d /etc/supervisord.d && ! test -e /etc/supervisor && ! test -e /etc/init.d/supervisor && echo ok',
  )
  assert.is(inside.exitCode, 0, inside.stderr + inside.stdout)
  assert.equal(inside.stdout.split('\n'), [
    'file=/run/supervisor/supervisor.sock   ; (the path to the socket file)',
    'logfile=/var/log/supervisor/supervisord.log  ; (main log file;default $CWD/supervisord.log)',
    'pidfile=/run/supervisord.pid ; (supervisord pidfile;default supervisord.pid)',
    'serverurl=unix:///run/supervisor/supervisor.sock ; use a unix:// URL  for a unix socket',
    'files = supervisord.d/*.ini',
    'ok',
  ])
  assert.match((await hostExec(one, ['ps', '-eo', 'args'])).stdout, /supervisord -c \/etc\/supervisord\.conf/)
  const mounts = (await hostExec(one, ['findmnt', '-rno', 'TARGET,FSTYPE'])).stdout
  assert.match(mounts, /^\/etc overlay$/m)
  for (const privateDir of ['/etc/ssh', '/etc/sudoers.d', '/etc/logrotate.d', '/etc/hosts', '/etc/hostname']) {
    assert.match(
      mounts,
      new RegExp(`^${privateDir} `, 'm'),
      `${privateDir} is still the host's own, on top of the overlay`,
    )
  }
  // Written from inside: overlayfs leaves changes made straight to its upper dir while mounted undefined.
  const conf = await hostExec(one, ['sh', '-c', 'cat >/etc/supervisord.d/zxs-rhel.ini'], {
    input: '[program:zxs-rhel]\ncommand=/bin/sleep 600\nstartsecs=0\n',
  })
  assert.is(conf.exitCode, 0, conf.stderr)
  assert.ok(await fs.stat(path.join(one.root, 'etc/supervisord.d/zxs-rhel.ini')), 'seen from outside in the upper dir')
  const update = await ssh(
    one,
    'sudo -n supervisorctl -c /etc/supervisord.conf update && sleep 0.2 && sudo -n supervisorctl -c /etc/supervisord.conf status zxs-rhel',
  )
  assert.match(update.stdout, /zxs-rhel\s+RUNNING/, update.stderr)
  const status = await task('status', '--dir', rhelDir)
  assert.is(status.exitCode, 0, status.stdout + status.stderr)
  assert.match(status.stdout, /^sandbox-2\t\S+\tyes\tyes\tyes\tyes\trhel$/m)
  const down = await task('down', '--dir', rhelDir)
  assert.is(down.exitCode, 0, down.stderr)
  assert.not.ok(
    await fs.access(rhelDir).then(
      () => true,
      () => false,
    ),
    'DIR removed',
  )
  assert.equal(await machineEtcClean(), [])
})

it('up --layout alpine: /etc/supervisord.conf including /etc/supervisor.d/*.ini, socket /run/supervisord.sock', async () => {
  const alpineDir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-sandbox-alpine-'))
  layoutDirs.push(alpineDir)
  const up = await task(
    'up',
    '--layout',
    'alpine',
    '--dir',
    alpineDir,
    '--inventory',
    path.join(alpineDir, 'inventory.yml'),
    '--json',
  )
  assert.is(up.exitCode, 0, up.stderr)
  const [one] = (JSON.parse(up.stdout) as SandboxState).hosts as [SandboxHost]
  assert.is(one.layout, 'alpine')
  const inside = await ssh(
    one,
    'sudo -n supervisorctl -c /etc/supervisord.conf status && test -S /run/supervisord.sock && test -d /etc/supervisor.d && ' +
      'grep -xF "files = /etc/supervisor.d/*.ini" /etc/supervisord.conf && ! test -e /etc/supervisor',
  )
  assert.is(inside.exitCode, 0, inside.stderr + inside.stdout)
  assert.equal(
    (await sandboxStatus(alpineDir)).hosts.map((h) => [h.layout, h.running]),
    [['alpine', true]],
  )
  assert.equal(await machineEtcClean(), [])
  assert.is((await task('down', '--dir', alpineDir)).exitCode, 0)
  assert.equal(await machineEtcClean(), [])
})

it('down (the task) leaves no process in the hosts and removes DIR; down again is harmless', async () => {
  const down = await task('down', '--dir', dir)
  assert.is(down.exitCode, 0, down.stderr)
  for (const h of state.hosts) assert.equal(await processesIn(h.pidNamespace), [], `${h.name} has processes left`)
  assert.not.ok(
    await fs.access(dir).then(
      () => true,
      () => false,
    ),
    'DIR removed',
  )
  assert.is((await ssh(host(0), 'true', ['-o', 'ConnectTimeout=2'])).exitCode, 255)
  assert.is((await task('down', '--dir', dir)).exitCode, 0)
  assert.equal(await sandboxDown({ dir }), { stopped: [] })
  assert.equal(await sandboxStatus(dir), { dir, exists: false, hosts: [] })
})

test.run()
