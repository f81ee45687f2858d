// `down`: stop every host of a sandbox and remove its directory. Idempotent.
import { promises as fs } from 'node:fs'
import { InputError } from '../lib/errors.ts'
import { releaseAddresses } from './addresses.ts'
import { removeInventory } from './client-files.ts'
import { SandboxRequirementError } from './errors.ts'
import { stopHost, stopStrayHosts } from './launch.ts'
import { isRoot } from './packages.ts'
import type { Log } from './state.ts'
import { dirKind, hostPaths, readSandboxIfAny, sandboxPaths } from './state.ts'

/** Stops the hosts (and anything running in them), drops their addresses, removes DIR and the inventory. */
export async function sandboxDown({ dir, log = () => {} }: { dir: string; log?: Log }): Promise<{ stopped: string[] }> {
  const paths = sandboxPaths(dir)
  const kind = await dirKind(paths.dir)
  if (kind === 'missing' || kind === 'empty') {
    log(`no sandbox in ${paths.dir}: nothing to stop`)
    return { stopped: [] }
  }
  if (kind === 'foreign') {
    throw new InputError([
      {
        field: '--dir',
        value: paths.dir,
        allowed: 'a directory made by `sandbox.mjs up`',
        hint: 'it holds files the sandbox did not write, so down leaves it alone',
      },
    ])
  }
  if (!isRoot()) throw new SandboxRequirementError('stopping the sandbox needs root, as starting it did')
  const stopped = await stopSandboxHosts(paths.dir)
  const state = await readSandboxIfAny(paths.dir)
  if (state?.inventory) await removeInventory(state.inventory, state)
  await fs.rm(paths.dir, { recursive: true, force: true })
  log(`stopped ${stopped.length ? stopped.join(', ') : 'no running host'}; removed ${paths.dir}`)
  return { stopped }
}

/** Stops the hosts of DIR, known from state.json or found running, and drops their addresses; keeps the files. */
export async function stopSandboxHosts(dir: string): Promise<string[]> {
  const paths = sandboxPaths(dir)
  const state = await readSandboxIfAny(paths.dir)
  const hosts = state?.hosts ?? []
  await Promise.all(hosts.map((host) => stopHost({ ...host, hostDir: hostPaths(paths.dir, host.name).hostDir })))
  const strays = await stopStrayHosts(paths.hosts)
  await releaseAddresses(paths.hosts)
  return [...new Set([...hosts.map((host) => host.name), ...strays])]
}
