#!/usr/bin/env zx
// supervisor-delete: remove a program from the inventory; the next supervisor-sync removes it from the servers.
import { findSite, loadInventory, removeProgram, saveInventory } from 'zx-supervisor'
import { askDomain, askProgram, confirmDeletion, defineTask, runIfMain } from 'zx-supervisor/cli'

export const supervisorDelete = defineTask(
  {
    name: 'supervisor-delete',
    summary: 'remove a supervisor program from the inventory (supervisor-sync then removes it from the servers)',
    usage: '--domain DOMAIN --program NAME [--force] [--yes]',
    flags: [
      { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: 'the site (prompted on a terminal)' },
      {
        name: 'program',
        type: 'string',
        placeholder: 'NAME',
        description: 'the program to remove (prompted on a terminal)',
      },
      { name: 'force', alias: 'f', type: 'boolean', description: 'skip typing the program name to confirm' },
    ],
    common: ['inventory', 'yes', 'json', 'verbose', 'quiet'],
    examples: [
      'npx zx tasks/supervisor-delete.mjs',
      'npx zx tasks/supervisor-delete.mjs --domain example.com --program queue-worker --force --yes',
    ],
    notes: ['Without a terminal it needs --yes (and then asks nothing); without --yes it refuses with exit 2.'],
  },
  async ({ flags, output, interactive }) => {
    const loaded = await loadInventory(flags.inventory)
    const site = findSite(loaded.inventory, await askDomain(loaded.inventory, flags, interactive))
    if (!site.supervisors.length) {
      output.warn(`No supervisor configurations found for '${site.domain}'`)
      output.json({ ok: true, domain: site.domain, deleted: null })
      return 0
    }
    const program = await askProgram(site, flags, interactive)
    const answer = await confirmDeletion(program, flags, interactive)
    if (answer === 'mismatch') {
      output.error('Program name does not match. Deletion cancelled.')
      return 1
    }
    if (answer === 'declined') {
      output.info('Cancelled deleting supervisor program')
      return 0
    }
    await saveInventory(loaded, removeProgram(loaded, site.domain, program))

    output.info(`Supervisor '${program}' removed from inventory (${loaded.path})`)
    output.info(
      `Next, remove it from the servers: npx zx tasks/supervisor-sync.mjs --inventory ${loaded.path} --domain ${site.domain}`,
    )
    output.info(
      `Non-interactive replay: npx zx tasks/supervisor-delete.mjs --inventory ${loaded.path} --domain ${site.domain} --program ${program} --force --yes`,
    )
    output.json({ ok: true, domain: site.domain, deleted: program, inventory: loaded.path })
    return 0
  },
)

await runIfMain(import.meta.url, supervisorDelete)
