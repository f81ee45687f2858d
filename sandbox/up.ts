// `up`: N throwaway servers on this machine, each answering a real SSH login before this returns.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { InputError } from '../lib/errors.ts'
import type { Problem } from '../lib/types.ts'
import { assertLoopback, reserveAddresses } from './addresses.ts'
import { assertInventoryReplaceable, writeClientFiles } from './client-files.ts'
import { sandboxDown, stopSandboxHosts } from './down.ts'
import { SandboxError, SandboxRequirementError, throwIfAborted } from './errors.ts'
import { prepareHostFs } from './host-fs.ts'
import type { SandboxLayoutName } from './host-layout.ts'
import { assertLayoutName, DEFAULT_LAYOUT, sandboxLayout } from './host-layout.ts'
import { hostLogs, launchHost, waitUntilReady } from './launch.ts'
import { withSandboxLock } from './lock.ts'
import { ensureSandboxPackages, isRoot } from './packages.ts'
import { probeLogin } from './probe.ts'
import type { Log, SandboxHost, SandboxState } from './state.ts'
import {
  createSandboxDir,
  dirKind,
  hostName,
  hostPaths,
  readSandboxIfAny,
  SANDBOX_USER,
  SSH_PORT,
  sandboxPaths,
  writeState,
} from './state.ts'
import { ensureLoginUser } from './user.ts'

export const MAX_HOSTS = 64
/** ssh splits options on spaces and expands %-tokens in IdentityFile and UserKnownHostsFile. */
const UNSAFE_PATH = /[\s"'\\%#]/

export interface SandboxUpOptions {
  dir: string
  count: number
  /** Where to write the inventory (nothing is written when absent). */
  inventoryPath?: string
  /** Replace the inventory even when it differs from what `up` last wrote there (by default that is refused). */
  replaceInventory?: boolean
  /** The first host's address; the others follow it. Default: the first free ones from 127.0.0.2. */
  firstAddress?: string
  /** Whose supervisor layout every host imitates: 'debian' (default), 'rhel' or 'alpine'. */
  layout?: SandboxLayoutName
  log?: Log
  /** Aborting stops every host started so far, then rejects with the signal's reason. */
  signal?: AbortSignal
}

/** Brings up `count` hosts in DIR (tearing down what DIR held), writes state.json, and returns it. */
export async function sandboxUp(options: SandboxUpOptions): Promise<SandboxState> {
  const log = options.log ?? (() => {})
  checkUpOptions(options)
  await ensureSandboxPackages({ log })
  if (!isRoot())
    throw new SandboxRequirementError('the sandbox needs root (namespaces, mounts, a login user): run it with sudo')
  const paths = sandboxPaths(options.dir)
  const inventory = options.inventoryPath === undefined ? undefined : path.resolve(options.inventoryPath)
  // Before the old hosts go: a refused inventory leaves everything as it was.
  if (inventory && !options.replaceInventory)
    await assertInventoryReplaceable(inventory, await readSandboxIfAny(paths.dir))
  await clearDir(paths.dir, log)
  const token = await createSandboxDir(paths.dir)
  const state: SandboxState = {
    dir: paths.dir,
    identityFile: paths.identityFile,
    knownHosts: paths.knownHosts,
    user: SANDBOX_USER,
    hosts: [],
    inventory,
  }
  await writeState(state)
  try {
    return await startHosts(state, token, options, log)
  } catch (error) {
    log(`stopping what was started; the files stay in ${paths.dir} (remove them with: down --dir ${paths.dir})`)
    await stopSandboxHosts(paths.dir)
    throw error
  }
}

function checkUpOptions({ dir, count, firstAddress, layout }: SandboxUpOptions): void {
  const problems: Problem[] = []
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    problems.push({ field: '--servers', value: count, allowed: `a whole number from 1 to ${MAX_HOSTS}` })
  }
  if (UNSAFE_PATH.test(path.resolve(dir))) {
    problems.push({
      field: '--dir',
      value: path.resolve(dir),
      allowed: 'a path without spaces, quotes, backslashes, % or #',
      hint: 'ssh options that name files in it would split or expand it',
    })
  }
  if (problems.length) throw new InputError(problems)
  if (firstAddress !== undefined) assertLoopback(firstAddress)
  if (layout !== undefined) assertLayoutName(layout)
}

async function clearDir(dir: string, log: Log): Promise<void> {
  const kind = await dirKind(dir)
  if (kind === 'sandbox') {
    log(`${dir} already holds a sandbox: taking it down first`)
    await sandboxDown({ dir, log })
  } else if (kind === 'foreign') {
    throw new InputError([
      {
        field: '--dir',
        value: dir,
        allowed: 'a missing or empty directory, or one made by `sandbox.mjs up`',
        hint: 'it holds other files, which up would mix with its own; pick another --dir',
      },
    ])
  }
}

async function startHosts(
  state: SandboxState,
  token: string,
  options: SandboxUpOptions,
  log: Log,
): Promise<SandboxState> {
  const names = Array.from({ length: options.count }, (_, i) => hostName(i))
  const { authorizedKey, user, neighbours } = await claimAddresses(state.dir, names, token, options.firstAddress)
  log(`starting ${names.length} host(s) in ${state.dir}: ${neighbours.map((n) => `${n.name} ${n.address}`).join(', ')}`)
  const layoutName = options.layout ?? DEFAULT_LAYOUT
  const layout = sandboxLayout(layoutName)
  const hostKeys = new Map<string, string>()
  const saveState = serialized(() => writeState(state))
  const started = await Promise.allSettled(
    neighbours.map(async ({ name, address }) => {
      const files = { name, ...hostPaths(state.dir, name) }
      const { hostKey } = await prepareHostFs({
        name,
        address,
        port: SSH_PORT,
        root: files.root,
        user,
        authorizedKey,
        neighbours,
        layout,
      })
      hostKeys.set(name, hostKey)
      throwIfAborted(options.signal)
      const launched = await launchHost(files, layout)
      state.hosts.push({
        name,
        address,
        port: SSH_PORT,
        user: user.name,
        identityFile: state.identityFile,
        knownHosts: state.knownHosts,
        root: files.root,
        layout: layoutName,
        ...launched,
      })
      await saveState()
      await waitUntilReady(files, launched, options.signal)
    }),
  )
  // allSettled: on a failure, every host that did start is in state.hosts before the caller stops them.
  const failure = started.find((result) => result.status === 'rejected')
  if (failure) throw failure.reason
  state.hosts.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name))
  await writeClientFiles(state, hostKeys)
  await writeState(state)
  await Promise.all(state.hosts.map((host) => probe(state.dir, host, options.signal)))
  log(`ready: ${state.hosts.map((host) => `${host.name} ${host.user}@${host.address}`).join(', ')}`)
  return state
}

/** The client key, the login user and one address per host (the last two under the machine-wide lock). */
async function claimAddresses(dir: string, names: string[], token: string, firstAddress?: string) {
  const paths = sandboxPaths(dir)
  const owners = names.map((name) => ({ hostDir: hostPaths(dir, name).hostDir, marker: paths.marker, token }))
  await Promise.all(owners.map(({ hostDir }) => fs.mkdir(hostDir, { recursive: true })))
  const [authorizedKey, { user, addresses }] = await Promise.all([
    makeClientKey(paths.identityFile),
    withSandboxLock(async () => ({
      user: await ensureLoginUser(SANDBOX_USER),
      addresses: await reserveAddresses(owners, SSH_PORT, firstAddress),
    })),
  ])
  return { authorizedKey, user, neighbours: names.map((name, i) => ({ name, address: addresses[i] ?? '' })) }
}

async function probe(dir: string, host: SandboxHost, signal?: AbortSignal): Promise<void> {
  try {
    await probeLogin(host, { abort: signal })
  } catch (error) {
    if (!(error instanceof SandboxError)) throw error
    throw new SandboxError(error.message, await hostLogs({ name: host.name, ...hostPaths(dir, host.name) }))
  }
}

async function makeClientKey(identityFile: string): Promise<string> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'zx-supervisor-sandbox', '-f', identityFile])
  return fs.readFile(`${identityFile}.pub`, 'utf8')
}

/** Runs fn one call at a time (parallel host starts all save the same state.json). */
function serialized(fn: () => Promise<void>): () => Promise<void> {
  let last: Promise<void> = Promise.resolve()
  return () => (last = last.then(fn, fn))
}
