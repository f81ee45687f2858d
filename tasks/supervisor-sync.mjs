#!/usr/bin/env zx
// supervisor-sync: make the servers' supervisor programs match the inventory, all-or-nothing per server.
import path from 'node:path'
import { defineTask, runIfMain, PROJECT_DIR } from '../lib/cli/run-task.ts'
import { chooseSiteIfMissing } from '../lib/cli/ask.ts'
import { reportFailures, reportServerSync, syncJson, syncRecap } from '../lib/cli/sync-report.ts'
import { loadInventory } from '../lib/inventory/load.ts'
import { resolveSyncScope } from '../lib/sync/scope.ts'
import { renderDesiredStates } from '../lib/sync/desired.ts'
import { syncServer } from '../lib/sync/sync-server.ts'
import { forEachServer } from '../lib/fleet.ts'

export const supervisorSync = defineTask({
  name: 'supervisor-sync',
  summary: "make the servers' supervisor programs match the inventory",
  usage: '(--domain DOMAIN | --server NAME|GROUP | --all) [--dry-run]',
  flags: [
    { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: "sync one site's programs on every server of the site" },
    { name: 'server', type: 'string', placeholder: 'NAME|GROUP', description: 'sync every site of a server or group (with --domain: only those servers)' },
    { name: 'all', type: 'boolean', description: 'sync every site on every server' },
    { name: 'dry-run', type: 'boolean', description: 'print per server a diff of what would change; touch nothing' },
    { name: 'adopt', type: 'boolean', description: 'take over files without a zx-supervisor marker at the paths sync writes (migration from DeployerPHP)' },
    { name: 'lock-wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: "wait this long for another sync's server lock" },
  ],
  common: ['inventory', 'json', 'verbose', 'quiet', 'timeout'],
  examples: [
    'npx zx tasks/supervisor-sync.mjs --domain example.com',
    'npx zx tasks/supervisor-sync.mjs --server web --dry-run',
    'npx zx tasks/supervisor-sync.mjs --all --inventory inventory/sandbox.yml --json',
  ],
}, async ({ flags, output, session, interactive }) => {
  const { inventory } = await loadInventory(flags.inventory)
  const domain = await chooseSiteIfMissing(inventory, flags, interactive)
  const scope = resolveSyncScope(inventory, { domain, server: flags.server, all: flags.all })
  const desiredFor = renderDesiredStates({ templatesDir: path.join(PROJECT_DIR, 'templates'), ...scope })
  if (scope.hint) output.info(`hint: ${scope.hint}`)

  const outcomes = await forEachServer(scope.servers, session, (server, connection) =>
    syncServer(connection, desiredFor(server), { dryRun: flags['dry-run'], adopt: flags.adopt, lockWaitSeconds: flags['lock-wait'] }))

  for (const outcome of outcomes) if (outcome.ok) reportServerSync(output, outcome.value)
  reportFailures(output, outcomes)
  output.recap(syncRecap(outcomes))
  output.json(syncJson(outcomes))
  return outcomes.every((o) => o.ok) ? 0 : 1
})

await runIfMain(import.meta.url, supervisorSync)
