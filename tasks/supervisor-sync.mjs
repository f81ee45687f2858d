#!/usr/bin/env zx
// supervisor-sync: make the servers' supervisor programs match the inventory, all-or-nothing per server.
import path from 'node:path'
import { defineTask, runIfMain, PROJECT_DIR } from '../lib/cli/run-task.ts'
import { chooseSiteIfMissing } from '../lib/cli/ask.ts'
import { reportFailures, reportServerSync, syncJson, syncRecap } from '../lib/cli/sync-report.ts'
import { loadInventory } from '../lib/inventory/load.ts'
import { resolveSyncScope } from '../lib/sync/scope.ts'
import { renderDesiredStates } from '../lib/sync/desired.ts'
import { readLiveState } from '../lib/sync/read-state.ts'
import { filesToUpload, planSync } from '../lib/sync/plan.ts'
import { stageFiles } from '../lib/sync/stage.ts'
import { activatePlan, retryWhenStale } from '../lib/sync/activate.ts'
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
    { name: 'lock-wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: "wait this long for another sync's server lock" },
  ],
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

  const outcomes = await forEachServer(scope.servers, session, (server, connection) => retryWhenStale(async () => {
    const live = await readLiveState(connection, desiredFor(server))
    const plan = planSync(desiredFor(server), live)
    if (flags['dry-run'] || !plan.needsActivation) return { plan, dryRun: Boolean(flags['dry-run']) }
    const staged = await stageFiles(connection, filesToUpload(plan))
    const activation = await activatePlan(connection, plan, staged, { lockWaitSeconds: flags['lock-wait'] })
    return { plan, activation, dryRun: false }
  }))

  for (const outcome of outcomes) if (outcome.ok) reportServerSync(output, outcome.value)
  reportFailures(output, outcomes)
  output.recap(syncRecap(outcomes))
  output.json(syncJson(outcomes))
  return outcomes.every((o) => o.ok) ? 0 : 1
})

await runIfMain(import.meta.url, supervisorSync)
