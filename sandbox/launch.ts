// Starting and stopping one host: a detached `unshare` whose child, host-init.sh, is the host's PID 1.
import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { packageFile } from '../lib/project.ts'
import { SandboxError } from './errors.ts'
import { privateDirs } from './host-fs.ts'
import type { SandboxLayout } from './host-layout.ts'
import type { Namespaces } from './processes.ts'
import {
  allPids,
  childrenOf,
  commandLine,
  hasNamespaces,
  namespacesOf,
  pollUntil,
  processesIn,
  signal,
} from './processes.ts'

export const HOST_INIT = packageFile('sandbox/host-init.sh')
/** Daemons in a host get a clean environment, as on a booted server, not the caller's (NODE_OPTIONS…). */
export const HOST_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/root',
}
/** --kill-child: if unshare dies, the kernel kills the init, and with it the whole host. */
const UNSHARE = [
  'unshare',
  '--mount',
  '--uts',
  '--pid',
  '--fork',
  '--mount-proc',
  '--propagation',
  'private',
  '--kill-child=SIGKILL',
  '--',
]
const READY_TIMEOUT_MS = 20_000

export interface HostFiles {
  name: string
  hostDir: string
  status: string
  initLog: string
  sshdLog: string
}

export interface Launched {
  initPid: number
  unsharePid: number
  pidNamespace: string
  mountNamespace: string
}

/**
 * Starts the host fully detached (own session, stdio to init.log, no inherited pipes or lock fds), so the
 * caller can exit or be awaited by zx while the host lives on. Returns once its PID 1 exists, before it is ready.
 */
export async function launchHost(files: HostFiles, layout: SandboxLayout): Promise<Launched> {
  await fs.writeFile(files.status, '')
  const log = await fs.open(files.initLog, 'a')
  try {
    // node:child_process rather than execa: execa would pipe through this process instead of handing the
    // log fd to the child, and its result promise would wait on a daemon (Node's documented daemon recipe).
    const etc = layout.etcOverlay ? 'overlay' : 'machine'
    const [file = 'unshare', ...args] = [
      ...UNSHARE,
      '/bin/bash',
      HOST_INIT,
      files.hostDir,
      files.name,
      etc,
      layout.config,
      layout.socket,
      ...privateDirs(layout),
    ]
    const child = spawn(file, args, { detached: true, stdio: ['ignore', log.fd, log.fd], env: HOST_ENV })
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
    child.unref()
    if (child.pid === undefined)
      throw new SandboxError(`could not start unshare for ${files.name}: ${(await spawnError).message}`)
    const initPid = await waitForChild(child.pid)
    const ns = await namespacesOf(initPid)
    if (!ns) throw new SandboxError(`the init of ${files.name} exited at once`)
    return { initPid, unsharePid: child.pid, pidNamespace: ns.pid, mountNamespace: ns.mnt }
  } finally {
    await log.close()
  }
}

async function waitForChild(unsharePid: number): Promise<number> {
  let child: number | undefined
  await pollUntil(
    async () => {
      child = (await childrenOf(unsharePid))[0]
      return child !== undefined || (await commandLine(unsharePid)) === undefined
    },
    { timeoutMs: 5000, everyMs: 2 },
  )
  if (child === undefined) throw new SandboxError(`unshare (pid ${unsharePid}) started no init`)
  return child
}

/** Waits for host-init.sh to write `ready` (supervisord socket bound, sshd listening) to its status file. */
export async function waitUntilReady(files: HostFiles, launched: Launched, abort?: AbortSignal): Promise<void> {
  let status = ''
  const ns: Namespaces = { pid: launched.pidNamespace, mnt: launched.mountNamespace }
  const settled = await pollUntil(
    async () => {
      status = (await fs.readFile(files.status, 'utf8').catch(() => '')).trim()
      return status !== '' || !(await hasNamespaces(launched.initPid, ns))
    },
    { timeoutMs: READY_TIMEOUT_MS, abort },
  )
  if (status === 'ready') return
  const reason = status || (settled ? 'its init exited' : `not ready within ${READY_TIMEOUT_MS / 1000} s`)
  throw new SandboxError(`host ${files.name} did not start: ${reason.replace(/^failed: /, '')}`, await hostLogs(files))
}

/** init.log and sshd.log of a host, for a failure message. */
export async function hostLogs(files: HostFiles): Promise<string> {
  const read = (file: string) => fs.readFile(file, 'utf8').catch(() => '(missing)\n')
  return `--- ${files.initLog}\n${await read(files.initLog)}--- ${files.sshdLog}\n${await read(files.sshdLog)}`
}

/**
 * SIGKILLs the host's PID 1 (the kernel then kills everything in its PID namespace), only if it still is
 * that process; waits until the namespace is empty. Its unshare reaps it and exits; if not, it is killed too.
 */
export async function stopHost(host: Launched & { name: string; hostDir: string }): Promise<void> {
  const ns: Namespaces = { pid: host.pidNamespace, mnt: host.mountNamespace }
  if (await hasNamespaces(host.initPid, ns)) signal(host.initPid, 'SIGKILL')
  await waitUntilEmpty(host.name, host.pidNamespace)
  if (await isLauncherOf(host.unsharePid, host.hostDir)) signal(host.unsharePid, 'SIGKILL')
}

async function waitUntilEmpty(name: string, pidNamespace: string): Promise<void> {
  const empty = await pollUntil(async () => (await processesIn(pidNamespace)).length === 0, { timeoutMs: 5000 })
  if (!empty)
    throw new SandboxError(
      `processes of ${name} still run 5 s after SIGKILL: ${(await processesIn(pidNamespace)).join(' ')}`,
    )
}

async function isLauncherOf(pid: number, hostDir: string): Promise<boolean> {
  const command = await commandLine(pid)
  return command?.comm === 'unshare' && command.argv.includes(HOST_INIT) && command.argv.includes(hostDir)
}

/** Stops hosts under `hostsDir` that no state file knows about (an `up` killed before it wrote one). */
export async function stopStrayHosts(hostsDir: string): Promise<string[]> {
  const pids = await allPids()
  const commands = await Promise.all(pids.map(commandLine))
  const strays = pids.flatMap((pid, i) => {
    const command = commands[i]
    const at = command?.argv.indexOf(HOST_INIT) ?? -1
    const hostDir = command?.argv[at + 1] ?? ''
    return command?.comm === 'unshare' && at !== -1 && path.dirname(hostDir) === hostsDir
      ? [{ pid, name: path.basename(hostDir) }]
      : []
  })
  await Promise.all(
    strays.map(async ({ pid, name }) => {
      const pidNamespace = await fs.readlink(`/proc/${pid}/ns/pid_for_children`).catch(() => '')
      for (const child of await childrenOf(pid)) {
        if ((await namespacesOf(child))?.pid === pidNamespace) signal(child, 'SIGKILL')
      }
      if (pidNamespace) await waitUntilEmpty(name, pidNamespace)
      signal(pid, 'SIGKILL')
    }),
  )
  return strays.map(({ name }) => name)
}
