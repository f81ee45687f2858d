// Is each host alive? Read from /proc and the host's tree, without SSH (so a stopped sshd shows as such).
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { SandboxLayoutName } from './host-layout.ts'
import { sandboxLayout } from './host-layout.ts'
import { hasNamespaces, outerPid } from './processes.ts'
import type { SandboxHost } from './state.ts'
import { dirKind, readSandbox, sandboxPaths } from './state.ts'

export interface HostStatus {
  name: string
  address: string
  port: number
  layout: SandboxLayoutName
  /** init, sshd and supervisord all running. */
  running: boolean
  init: boolean
  sshd: boolean
  supervisord: boolean
}

export interface SandboxStatus {
  dir: string
  /** False when DIR holds no sandbox (then `hosts` is empty). */
  exists: boolean
  hosts: HostStatus[]
}

export async function sandboxStatus(dir: string): Promise<SandboxStatus> {
  const paths = sandboxPaths(dir)
  if ((await dirKind(paths.dir)) !== 'sandbox') return { dir: paths.dir, exists: false, hosts: [] }
  const state = await readSandbox(paths.dir)
  return { dir: paths.dir, exists: true, hosts: await Promise.all(state.hosts.map(hostStatus)) }
}

async function hostStatus(host: SandboxHost): Promise<HostStatus> {
  const init = await hasNamespaces(host.initPid, { pid: host.pidNamespace, mnt: host.mountNamespace })
  const sshd = init && (await runsFromPidFile(host, 'run/sshd.pid'))
  const socket = await fs.stat(path.join(host.root, sandboxLayout(host.layout).socket)).catch(() => undefined)
  // Every layout's supervisord writes /run/supervisord.pid (Debian's /var/run is /run).
  const supervisord = init && Boolean(socket?.isSocket()) && (await runsFromPidFile(host, 'run/supervisord.pid'))
  return {
    name: host.name,
    address: host.address,
    port: host.port,
    layout: host.layout,
    running: init && sshd && supervisord,
    init,
    sshd,
    supervisord,
  }
}

/** The pid file holds a PID as the host numbers it; look for that process in the host's PID namespace. */
async function runsFromPidFile(host: SandboxHost, pidFile: string): Promise<boolean> {
  const innerPid = Number((await fs.readFile(path.join(host.root, pidFile), 'utf8').catch(() => '')).trim())
  return innerPid > 0 && (await outerPid(host.pidNamespace, innerPid)) !== undefined
}
