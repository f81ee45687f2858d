#!/usr/bin/env zx
// deploy: a pipeline of the project's steps — upload a release, switch `current`, sync the site's programs, restart
// them, and wait until they run — one server at a time, stopping at the first server that fails.
import path from 'node:path'
import { defineTask, runIfMain, PROJECT_DIR } from '../lib/cli/run-task.ts'
import { loadInventory } from '../lib/inventory/load.ts'
import { findSite, serversOfSite, siteRoot } from '../lib/inventory/resolve.ts'
import { listAvailableScripts } from '../lib/app/available-scripts.ts'
import { fullName } from '../lib/layout.ts'
import { uploadRelease, switchCurrent } from '../lib/deploy/release.ts'
import { renderDesiredStates } from '../lib/sync/desired.ts'
import { syncServer } from '../lib/sync/sync-server.ts'
import { controlPrograms } from '../lib/service/programs.ts'
import { waitUntilRunning } from '../lib/service/wait.ts'
import { appliedJson, reportFailures } from '../lib/cli/sync-report.ts'
import { forEachServer } from '../lib/fleet.ts'
import { InputError } from '../lib/errors.ts'

export const deploy = defineTask({
  name: 'deploy',
  summary: "rolling deploy of a site: release upload, current switch, program sync and restart, server by server",
  usage: '--domain DOMAIN --app-dir PATH [--release NAME] [--wait SECONDS]',
  flags: [
    { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: 'the site to deploy' },
    { name: 'app-dir', type: 'string', placeholder: 'PATH', description: 'the built app to upload as the release' },
    { name: 'release', type: 'string', placeholder: 'NAME', description: 'release directory name (default: a UTC timestamp)' },
    { name: 'wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: 'how long each server may take until its programs run' },
    { name: 'lock-wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: "wait this long for another sync's server lock" },
  ],
  common: ['inventory', 'json', 'verbose', 'quiet', 'timeout'],
  examples: ['npx zx tasks/deploy.mjs --domain example.com --app-dir ./build'],
}, async ({ flags, output, session }) => {
  const { inventory } = await loadInventory(flags.inventory)
  const site = findSite(inventory, flags.domain)
  const appDir = requireAppDir(flags['app-dir'])
  const release = flags.release ?? new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  if (!/^[A-Za-z0-9._-]+$/.test(release) || release.startsWith('.')) throw new InputError([{ field: '--release', value: release, allowed: 'letters, digits, . _ - (not starting with .)', hint: 'or leave it out for a timestamp' }])
  await requireScripts(site, appDir)
  const servers = serversOfSite(inventory, site)
  const groups = site.supervisors.map((p) => fullName(site.domain, p.program))
  const desiredFor = renderDesiredStates({ templatesDir: path.join(PROJECT_DIR, 'templates'), inventoryId: inventory.id, servers, sitesOn: () => [site], wholeServer: false })

  // One server at a time; the first failure stops the rollout (the servers before it run the new release).
  let stopped = false
  const outcomes = await forEachServer(servers, session, async (server, connection, applied) => {
    if (stopped) throw new Error('not deployed: the rollout stopped at an earlier server')
    try {
      output.server(server.name, `deploying release ${release}`)
      const root = siteRoot(server, site)
      applied('upload', await uploadRelease(connection, { localDir: appDir, root, release }))
      applied('switch', await switchCurrent(connection, { root, release }))
      const synced = await syncServer(connection, desiredFor(server), { lockWaitSeconds: flags['lock-wait'] })
      if (synced.activation) applied('sync', synced)
      const restarted = new Set([...(synced.activation?.update.added ?? []), ...(synced.activation?.update.updated ?? [])])
      const restart = groups.filter((g) => !restarted.has(g))
      if (restart.length) applied('restart', await controlPrograms(connection, 'restart', restart))
      const processes = groups.length ? await waitUntilRunning(connection, groups, { timeoutSeconds: flags.wait }) : []
      output.server(server.name, `release ${release} live; ${processes.length} process(es) running${restarted.size ? `; config applied to ${[...restarted].join(', ')}` : ''}`)
      return { release, changed: synced.plan.changes.length, processes: processes.length }
    } catch (error) {
      stopped = true
      throw error
    }
  }, 1)

  reportFailures(output, outcomes)
  output.recap(outcomes.map((o) => ({ server: o.server.name, ok: o.ok ? 1 : 0, changed: o.ok || o.applied.length ? 1 : 0, failed: o.ok ? 0 : 1 })))
  output.json({
    ok: outcomes.every((o) => o.ok),
    domain: site.domain,
    release,
    servers: outcomes.map((o) => (o.ok ? { server: o.server.name, ok: true, ...o.value } : { server: o.server.name, ok: false, error: o.error instanceof Error ? o.error.message : String(o.error), applied: o.applied.map(appliedJson) })),
  })
  return outcomes.every((o) => o.ok) ? 0 : 1
})

/**
 * Every program's script must be in the release before anything is uploaded or switched.
 * @param {import('../lib/types.ts').Site} site @param {string} appDir
 */
async function requireScripts(site, appDir) {
  const { scripts } = await listAvailableScripts(site, appDir)
  const missing = site.supervisors.filter((p) => !scripts.includes(p.script))
  if (missing.length) {
    throw new InputError(missing.map((p) => ({ field: '--app-dir', value: appDir, allowed: `an app with .deployer/supervisors/${p.script} (program ${p.program})`, hint: 'add the script to the app, or remove the program with supervisor-delete; nothing was uploaded' })))
  }
}

/** @param {unknown} dir */
function requireAppDir(dir) {
  if (typeof dir !== 'string') throw new InputError([{ field: '--app-dir', value: dir, allowed: 'the folder to upload as the release', hint: 'e.g. --app-dir ./build' }])
  return path.resolve(dir)
}

await runIfMain(import.meta.url, deploy)
