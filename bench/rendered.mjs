// The files our sync writes to each server, from the project's own renderer (lib/sync/desired.ts): Ansible copies
// exactly these, so both tools put identical bytes in place.
import path from 'node:path'
import { loadInventory } from '../lib/inventory/load.ts'
import { renderDesiredStates } from '../lib/sync/desired.ts'
import { resolveSyncScope } from '../lib/sync/scope.ts'
import { PROJECT } from './ours.mjs'

/** @param {string} inventory @returns {Promise<(host: string) => import('../lib/types.ts').RemoteFile[]>} */
export async function renderedFiles(inventory) {
  const { inventory: loaded } = await loadInventory(inventory)
  const scope = resolveSyncScope(loaded, { all: true })
  const desiredFor = renderDesiredStates({ templatesDir: path.join(PROJECT, 'templates'), ...scope })
  return (host) => {
    const server = scope.servers.find((s) => s.name === host)
    if (!server) throw new Error(`${host} is not in ${inventory}`)
    return desiredFor(server).files
  }
}
