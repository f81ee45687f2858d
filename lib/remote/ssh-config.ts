// Which ssh config file every ssh and rsync call reads: one named by --ssh-config, $ZXS_SSH_CONFIG or the inventory's
// sshConfig (in that order), else OpenSSH's own choice (~/.ssh/config, then /etc/ssh/ssh_config).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'

export const SSH_CONFIG_ENV = 'ZXS_SSH_CONFIG'

export interface SshConfigFile {
  /** Absolute path, passed to ssh as `-F`. */
  path: string
  /** Where it was named, for messages: `--ssh-config`, `$ZXS_SSH_CONFIG`, `<inventory>: sshConfig`. */
  source: string
  /** The flag, variable or inventory key that named it. */
  field: string
}

export interface SshConfigChoice {
  flag?: string
  env: Record<string, string | undefined>
  /** The inventory file and its top-level sshConfig, when it was readable. */
  inventory?: { path: string; sshConfig?: string }
  cwd: string
}

/** The named ssh config, or undefined: ssh then reads its usual files. Flag and variable are relative to cwd. */
export function chooseSshConfig({ flag, env, inventory, cwd }: SshConfigChoice): SshConfigFile | undefined {
  const fromEnv = env[SSH_CONFIG_ENV]?.trim()
  if (flag) return { path: path.resolve(cwd, expandTilde(flag)), source: '--ssh-config', field: '--ssh-config' }
  if (fromEnv)
    return { path: path.resolve(cwd, expandTilde(fromEnv)), source: `$${SSH_CONFIG_ENV}`, field: SSH_CONFIG_ENV }
  if (inventory?.sshConfig) {
    return {
      path: path.resolve(path.dirname(inventory.path), expandTilde(inventory.sshConfig)),
      source: `${inventory.path}: sshConfig`,
      field: 'sshConfig',
    }
  }
  return undefined
}

/** A named file that is missing or unreadable is bad input, found before anything is sent. */
export async function assertSshConfigExists(file: SshConfigFile | undefined): Promise<void> {
  if (!file) return
  const problem = await fs.promises.access(file.path, fs.constants.R_OK).then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error.code ?? String(error),
  )
  if (!problem) return
  const relative =
    file.field === 'sshConfig' ? ' (relative to the inventory file)' : ' (relative to the working directory)'
  throw new InputError(
    [
      {
        field: file.field,
        value: file.path,
        allowed: `a readable ssh config file${relative}`,
        hint: `${problem === 'ENOENT' ? 'no such file' : `cannot read it (${problem})`}; fix the path named by ${file.source}, or leave it out to use ~/.ssh/config`,
      },
    ],
    `The ssh config named by ${file.source} cannot be read:`,
  )
}

/** `-F FILE` for a named config; nothing otherwise (a -F would make ssh skip /etc/ssh/ssh_config). */
export function sshConfigArgs(file: SshConfigFile | undefined): string[] {
  return file ? ['-F', file.path] : []
}

/** The config files ssh reads with these settings (a change in one must not reuse a master made before it). */
export function sshConfigFilesRead(file: SshConfigFile | undefined): string[] {
  return file ? [file.path] : [path.join(os.homedir(), '.ssh', 'config'), '/etc/ssh/ssh_config']
}

/** The text of the config ssh reads first, for lookups that ssh -G cannot answer (''when there is none). */
export function readSshConfigText(file: SshConfigFile | undefined): string {
  try {
    return fs.readFileSync(file?.path ?? path.join(os.homedir(), '.ssh', 'config'), 'utf8')
  } catch {
    return ''
  }
}

function expandTilde(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}
