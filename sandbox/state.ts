// Where a sandbox keeps its files, and state.json: the one record every other command reads.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { InputError } from '../lib/errors.ts'
import { assertLoopback } from './addresses.ts'
import { SandboxRequirementError } from './errors.ts'
import type { SandboxLayoutName } from './host-layout.ts'
import { DEFAULT_LAYOUT } from './host-layout.ts'

export const SANDBOX_USER = 'deployer'
export const SSH_PORT = 22
const MARKER = '.zx-supervisor-sandbox'

/** Progress lines for the user; the task prints them, the library never does. */
export type Log = (line: string) => void

export interface SandboxHost {
  name: string
  address: string
  port: number
  user: string
  identityFile: string
  knownHosts: string
  /**
   * The host's private tree seen from outside: its /etc/supervisor is `<root>/etc/supervisor`. A host with a
   * private /etc (rhel, alpine) has `<root>/etc` as its overlay's upper dir: `<root>/etc/supervisord.d` is its own.
   */
  root: string
  /** Whose supervisor layout it imitates (config, include dir, socket). */
  layout: SandboxLayoutName
  /** PID 1 of the host's namespaces, as the machine numbers it. */
  initPid: number
  unsharePid: number
  /** `/proc/<initPid>/ns/pid` and `ns/mnt` at start: teardown kills only a process that still matches. */
  pidNamespace: string
  mountNamespace: string
}

export interface SandboxState {
  dir: string
  identityFile: string
  knownHosts: string
  user: string
  hosts: SandboxHost[]
  /** The inventory file `up` wrote; `down` removes it. */
  inventory?: string
}

export function sandboxPaths(dir: string) {
  const root = path.resolve(dir)
  return {
    dir: root,
    marker: path.join(root, MARKER),
    state: path.join(root, 'state.json'),
    identityFile: path.join(root, 'id_ed25519'),
    knownHosts: path.join(root, 'known_hosts'),
    sshConfig: path.join(root, 'ssh_config'),
    hosts: path.join(root, 'hosts'),
  }
}

export function hostPaths(dir: string, name: string) {
  const hostDir = path.join(sandboxPaths(dir).hosts, name)
  return {
    hostDir,
    root: path.join(hostDir, 'fs'),
    status: path.join(hostDir, 'status'),
    initLog: path.join(hostDir, 'init.log'),
    sshdLog: path.join(hostDir, 'fs', 'var', 'log', 'sshd.log'),
  }
}

export function hostName(index: number): string {
  return `sandbox-${index + 1}`
}

/** 'sandbox': DIR was made by `up`; 'empty' or 'missing': free to use; 'foreign': someone else's files. */
export async function dirKind(dir: string): Promise<'sandbox' | 'empty' | 'missing' | 'foreign'> {
  const paths = sandboxPaths(dir)
  const entries = await fs.readdir(paths.dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    if (error.code === 'EACCES')
      throw new SandboxRequirementError(`cannot read ${paths.dir}: a sandbox belongs to root; run this as root`)
    throw error
  })
  if (!entries) return 'missing'
  if (entries.includes(MARKER)) return 'sandbox'
  return entries.length === 0 ? 'empty' : 'foreign'
}

/**
 * Creates DIR (0700) with a marker holding a fresh random token: it lets `down` remove DIR, and tells a
 * reservation made for this DIR from one made for an earlier DIR at the same path. Returns the token.
 */
export async function createSandboxDir(dir: string): Promise<string> {
  const paths = sandboxPaths(dir)
  const token = randomBytes(16).toString('hex')
  await fs.mkdir(paths.hosts, { recursive: true })
  await fs.chmod(paths.dir, 0o700)
  await fs.writeFile(paths.marker, `${token}\n`)
  return token
}

export async function writeState(state: SandboxState): Promise<void> {
  const file = sandboxPaths(state.dir).state
  await fs.writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`)
  await fs.rename(`${file}.tmp`, file)
}

/** The state of the sandbox in DIR; InputError when there is none or it was edited into something unsafe. */
export async function readSandbox(dir: string): Promise<SandboxState> {
  const file = sandboxPaths(dir).state
  const text = await fs.readFile(file, 'utf8').catch(() => undefined)
  if (text === undefined) {
    throw new InputError([
      {
        field: '--dir',
        value: path.resolve(dir),
        allowed: 'a directory made by `sandbox.mjs up`',
        hint: 'run `npx zx tasks/sandbox.mjs up` first',
      },
    ])
  }
  let state: SandboxState
  try {
    state = JSON.parse(text) as SandboxState
  } catch (error) {
    throw new InputError([
      {
        field: file,
        value: text,
        allowed: 'the JSON `sandbox.mjs up` wrote',
        hint: `${String(error)}; run down, then up again`,
      },
    ])
  }
  for (const [i, host] of state.hosts.entries()) assertLoopback(host.address, `${file}: hosts[${i}].address`)
  // A host recorded before hosts had layouts is a Debian one.
  for (const host of state.hosts) host.layout ??= DEFAULT_LAYOUT
  return state
}

/** Like readSandbox, but undefined when DIR holds no state (an `up` that failed early). */
export async function readSandboxIfAny(dir: string): Promise<SandboxState | undefined> {
  const exists = await fs.access(sandboxPaths(dir).state).then(
    () => true,
    () => false,
  )
  return exists ? readSandbox(dir) : undefined
}
