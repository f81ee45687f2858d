// What /proc says about the hosts' processes: namespaces, children, and PIDs as a host numbers them.
import { promises as fs } from 'node:fs'
import { throwIfAborted } from './errors.ts'

export interface Namespaces {
  pid: string
  mnt: string
}

/** `/proc/<pid>/ns/{pid,mnt}` links (`pid:[4026532…]`), or undefined when the process is gone. */
export async function namespacesOf(pid: number): Promise<Namespaces | undefined> {
  try {
    const [pidNs, mntNs] = await Promise.all([fs.readlink(`/proc/${pid}/ns/pid`), fs.readlink(`/proc/${pid}/ns/mnt`)])
    return { pid: pidNs, mnt: mntNs }
  } catch {
    return undefined
  }
}

export async function hasNamespaces(pid: number, expected: Namespaces): Promise<boolean> {
  const actual = await namespacesOf(pid)
  return actual?.pid === expected.pid && actual.mnt === expected.mnt
}

/**
 * Every live process in the PID namespace `pidNamespace`. Zombies are left out: they hold nothing, and a
 * killed host's PID 1 may wait as one until the machine's own init gets round to reaping it.
 */
export async function processesIn(pidNamespace: string): Promise<number[]> {
  const pids = await allPids()
  const links = await Promise.all(pids.map((pid) => fs.readlink(`/proc/${pid}/ns/pid`).catch(() => '')))
  const members = pids.filter((_, i) => links[i] === pidNamespace)
  const zombie = await Promise.all(members.map(isZombie))
  return members.filter((_, i) => !zombie[i])
}

async function isZombie(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
}

/** The machine's PID of the process a host knows as `innerPid`, if it runs in that host. */
export async function outerPid(pidNamespace: string, innerPid: number): Promise<number | undefined> {
  for (const pid of await processesIn(pidNamespace)) {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
    const nsPids = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/)
    if (nsPids && Number(nsPids[nsPids.length - 1]) === innerPid) return pid
  }
  return undefined
}

export async function childrenOf(pid: number): Promise<number[]> {
  const text = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')
  return text.trim().split(/\s+/).filter(Boolean).map(Number)
}

export async function commandLine(pid: number): Promise<{ comm: string; argv: string[] } | undefined> {
  try {
    const [comm, cmdline] = await Promise.all([
      fs.readFile(`/proc/${pid}/comm`, 'utf8'),
      fs.readFile(`/proc/${pid}/cmdline`, 'utf8'),
    ])
    return { comm: comm.trim(), argv: cmdline.split('\0').slice(0, -1) }
  } catch {
    return undefined
  }
}

export async function allPids(): Promise<number[]> {
  return (await fs.readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number)
}

/** Sends a signal; false when the process is already gone. */
export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name)
    return true
  } catch {
    return false
  }
}

export interface PollOptions {
  timeoutMs: number
  everyMs?: number
  abort?: AbortSignal
}

/** Calls check until it returns true (then true) or the time is up (then false). */
export async function pollUntil(
  check: () => Promise<boolean>,
  { timeoutMs, everyMs = 10, abort }: PollOptions,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    throwIfAborted(abort)
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
