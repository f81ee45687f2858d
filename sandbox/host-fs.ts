// The private tree of one host (DIR/hosts/<name>/fs): its init bind-mounts these over the machine's directories.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { STATE_DIR } from '../lib/layout.ts'
import { hostsFile, sshdConfig, sudoersRule } from './host-config.ts'
import type { SandboxLayout } from './host-layout.ts'
import type { LoginUser } from './user.ts'

/** Private in every host, mounted in this order after /run. Each must exist on the machine (a mount point). */
const PRIVATE_DIRS = [
  '/etc/supervisor',
  '/etc/ssh',
  '/etc/sudoers.d',
  '/etc/logrotate.d',
  '/var/log',
  '/home',
  '/root',
  '/tmp',
  '/var/tmp',
  '/srv',
  '/opt',
  STATE_DIR,
]

/** The private dirs of a host of this layout: what the layout hides from the machine is not mounted either. */
export function privateDirs(layout: SandboxLayout): string[] {
  return PRIVATE_DIRS.filter((dir) => !layout.hidden.includes(dir))
}

const TREE: [string, number][] = [
  ['etc', 0o755],
  ['etc/ssh', 0o755],
  ['etc/sudoers.d', 0o755],
  ['etc/logrotate.d', 0o755],
  ['run', 0o755],
  ['run/sshd', 0o755],
  ['run/lock', 0o1777],
  ['var', 0o755],
  ['var/log', 0o755],
  ['var/log/supervisor', 0o755],
  ['var/tmp', 0o1777],
  ['home', 0o755],
  ['root', 0o700],
  ['tmp', 0o1777],
  ['srv', 0o755],
  ['opt', 0o755],
  ['var/lib', 0o755],
  [STATE_DIR.slice(1), 0o700],
]

/** Copied from the machine so the tools inside behave as they do on it (skipped when absent). */
const MACHINE_COPIES = [
  '/etc/ssh/moduli',
  '/etc/ssh/ssh_config',
  '/etc/ssh/ssh_config.d',
  '/etc/sudoers.d',
  '/etc/logrotate.d',
]

export interface HostSpec {
  name: string
  address: string
  port: number
  /** The host's `fs` dir. */
  root: string
  user: LoginUser
  /** The client's public key, allowed for the user and for root. */
  authorizedKey: string
  /** Every host of the sandbox, for /etc/hosts. */
  neighbours: { name: string; address: string }[]
  layout: SandboxLayout
}

/** Builds the tree and returns the host's public key (`ssh-ed25519 AAAA…`) for known_hosts. */
export async function prepareHostFs(spec: HostSpec): Promise<{ hostKey: string }> {
  // Our state directory is no distribution's: the machine gets an empty one as its mount point.
  await fs.mkdir(STATE_DIR, { recursive: true, mode: 0o700 })
  for (const [dir, mode] of TREE) await makeDir(path.join(spec.root, dir), mode)
  for (const dir of spec.layout.dirs) await makeDir(path.join(spec.root, dir), 0o755)
  for (const hidden of spec.layout.hidden) await makeWhiteout(path.join(spec.root, hidden))
  await Promise.all(MACHINE_COPIES.map((source) => copyIfPresent(source, path.join(spec.root, source))))
  const [hostKey] = await Promise.all([
    makeHostKey(spec),
    writeFile(path.join(spec.root, 'etc/ssh/sshd_config'), sshdConfig(spec), 0o644),
    writeFile(path.join(spec.root, spec.layout.config), spec.layout.configText(), 0o644),
    writeSudoers(spec),
    writeIdentity(spec),
    makeHome(path.join(spec.root, 'root'), spec.authorizedKey, 0o700),
    makeHome(path.join(spec.root, 'home', spec.user.name), spec.authorizedKey, 0o750, spec.user),
  ])
  return { hostKey }
}

async function makeDir(dir: string, mode: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true })
  await fs.chmod(dir, mode)
}

async function writeFile(file: string, content: string, mode: number): Promise<void> {
  await fs.writeFile(file, content)
  await fs.chmod(file, mode)
}

/** An overlay whiteout (a 0/0 character device in the upper dir): the machine's file is absent in the host. */
async function makeWhiteout(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await execa('mknod', ['--mode=0000', file, 'c', '0', '0'])
}

async function copyIfPresent(source: string, target: string): Promise<void> {
  const present = await fs.access(source).then(
    () => true,
    () => false,
  )
  if (present) await fs.cp(source, target, { recursive: true, preserveTimestamps: true })
}

async function makeHostKey({ name, root }: HostSpec): Promise<string> {
  const key = path.join(root, 'etc/ssh/ssh_host_ed25519_key')
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', key])
  return (await fs.readFile(`${key}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')
}

async function writeSudoers({ root, user }: HostSpec): Promise<void> {
  const file = path.join(root, 'etc/sudoers.d/zx-supervisor-sandbox')
  await writeFile(file, sudoersRule(user.name), 0o440)
  await execa('visudo', ['-cqf', file])
}

async function writeIdentity({ root, name, neighbours }: HostSpec): Promise<void> {
  const machineHosts = await fs.readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n')
  await writeFile(path.join(root, 'etc/hostname'), `${name}\n`, 0o644)
  await writeFile(path.join(root, 'etc/hosts'), hostsFile(machineHosts, neighbours), 0o644)
}

/** A home from /etc/skel with the client key in .ssh/authorized_keys, owned by `owner` (root when absent). */
async function makeHome(home: string, key: string, mode: number, owner?: LoginUser): Promise<void> {
  await copyIfPresent('/etc/skel', home)
  await makeDir(home, mode)
  await makeDir(path.join(home, '.ssh'), 0o700)
  await writeFile(path.join(home, '.ssh/authorized_keys'), key, 0o600)
  if (owner) await execa('chown', ['-R', `${owner.uid}:${owner.gid}`, home])
}
