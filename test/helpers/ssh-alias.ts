import fs from 'node:fs/promises'
import path from 'node:path'
import type { SandboxHost } from '../../sandbox/index.ts'
import type { TestSandbox } from './sandbox.ts'

// A private ssh config with an alias reached through another sandbox host (ProxyJump), as an operator writes one.

export const JUMP_ALIAS = 'nu-jump'
export const INNER_ALIAS = 'nu-inner'

/** Writes `<dir>/ssh_config`: nu-jump → jump, nu-inner → inner through nu-jump; User, Port and keys from the config only. */
export async function writeAliasConfig(
  sandbox: TestSandbox,
  dir: string,
  jump: SandboxHost,
  inner: SandboxHost,
): Promise<string> {
  const { identityFile, knownHosts, user } = sandbox.state
  const common = [
    `  User ${user}`,
    `  IdentityFile ${identityFile}`,
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    `  UserKnownHostsFile ${knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
  ]
  const text = [
    `Host ${JUMP_ALIAS}`,
    `  HostName ${jump.address}`,
    `  Port ${jump.port}`,
    ...common,
    `Host ${INNER_ALIAS}`,
    `  HostName ${inner.address}`,
    `  Port ${inner.port}`,
    ...common,
    `  ProxyJump ${JUMP_ALIAS}`,
    '',
  ].join('\n')
  await fs.mkdir(dir, { recursive: true })
  const file = path.join(dir, 'ssh_config')
  await fs.writeFile(file, text)
  return file
}

/** The host's sshd log (every login: `Accepted publickey for USER`). */
export function sshdLog(host: SandboxHost): Promise<string> {
  return fs.readFile(path.join(host.root, 'var/log/sshd.log'), 'utf8').catch(() => '')
}

/** The users who logged in to the host since `before` (a length of its sshd log). */
export async function loginsSince(host: SandboxHost, before: number): Promise<string[]> {
  const text = (await sshdLog(host)).slice(before)
  return [...text.matchAll(/Accepted publickey for (\S+)/g)].map((match) => match[1] as string)
}
