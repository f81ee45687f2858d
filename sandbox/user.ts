// The login user of every host. Users are machine-wide (/etc/passwd is shared); only homes are private.
import { execa } from 'execa'

export interface LoginUser {
  name: string
  uid: number
  gid: number
  home: string
}

/** Looks the user up, creating it (no home on the machine: each host has its own) when missing. Call under the lock. */
export async function ensureLoginUser(name: string): Promise<LoginUser> {
  const existing = await findUser(name)
  if (existing) return existing
  await execa('useradd', [
    '--no-create-home',
    '--home-dir',
    `/home/${name}`,
    '--shell',
    '/bin/bash',
    '--user-group',
    name,
  ])
  const created = await findUser(name)
  if (!created) throw new Error(`useradd ${name} succeeded but getent does not know ${name}`)
  return created
}

async function findUser(name: string): Promise<LoginUser | undefined> {
  const { stdout, exitCode } = await execa('getent', ['passwd', name], { reject: false })
  if (exitCode !== 0) return undefined
  const [, , uid, gid, , home] = stdout.trim().split(':')
  return { name, uid: Number(uid), gid: Number(gid), home: home ?? `/home/${name}` }
}
