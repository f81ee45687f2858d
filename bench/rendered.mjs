// The files our sync writes to each server, from the project's own renderer (renderDesiredStates, as the package exports it): Ansible copies
// exactly these, so both tools put identical bytes in place.
import path from 'node:path'
import { loadInventory, renderDesiredStates, resolveSyncScope } from 'zx-supervisor'
import { PROJECT } from './ours.mjs'

/** @param {string} inventory @returns {Promise<(host: string) => import('zx-supervisor').RemoteFile[]>} */
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
