#!/usr/bin/env zx
// deploy: a pipeline of the project's steps — upload a release, switch `current`, sync the site's programs, restart
// them, and wait until they run — one server at a time, stopping at the first server that fails.
import path from 'node:path'
import { defineTask, runIfMain, PROJECT_DIR } from '../lib/cli/run-task.ts'
import { loadInventory } from '../lib/inventory/load.ts'
import { findSite, serversOfSite, siteRoot } from '../lib/inventory/resolve.ts'
import { programFullName } from '../lib/render/program-files.ts'
import { uploadRelease, switchCurrent } from '../lib/deploy/release.ts'
import { renderDesiredStates } from '../lib/sync/desired.ts'
import { readLiveState } from '../lib/sync/read-state.ts'
import { filesToUpload, planSync } from '../lib/sync/plan.ts'
import { stageFiles } from '../lib/sync/stage.ts'
import { activatePlan } from '../lib/sync/activate.ts'
import { controlPrograms } from '../lib/service/programs.ts'
import { waitUntilRunning } from '../lib/service/wait.ts'
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
  ],
  common: ['inventory', 'json', 'verbose', 'quiet', 'timeout'],
  examples: ['npx zx tasks/deploy.mjs --domain example.com --app-dir ./build'],
}, async ({ flags, output, session }) => {
  const { inventory } = await loadInventory(flags.inventory)
  const site = findSite(inventory, flags.domain)
  const appDir = requireAppDir(flags['app-dir'])
  const release = flags.release ?? new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  if (!/^[A-Za-z0-9._-]+$/.test(release) || release.startsWith('.')) throw new InputError([{ field: '--release', value: release, allowed: 'letters, digits, . _ - (not starting with .)', hint: 'or leave it out for a timestamp' }])
  const servers = serversOfSite(inventory, site)
  const groups = site.supervisors.map((p) => programFullName(site, p))
  const desiredFor = renderDesiredStates({ templatesDir: path.join(PROJECT_DIR, 'templates'), servers, sitesOn: () => [site] })

  const done = []
  for (const server of servers) {
    output.server(server.name, `deploying release ${release}`)
    const connection = await session.connect(server)
    const root = siteRoot(server, site)
    await uploadRelease(connection, { localDir: appDir, root, release })
    await switchCurrent(connection, { root, release })
    const plan = planSync(desiredFor(server), await readLiveState(connection, desiredFor(server)))
    const activation = plan.needsActivation ? await activatePlan(connection, plan, await stageFiles(connection, filesToUpload(plan)), { lockWaitSeconds: 60 }) : undefined
    const applied = new Set([...(activation?.update.added ?? []), ...(activation?.update.updated ?? [])])
    const restart = groups.filter((g) => !applied.has(g))
    if (restart.length) await controlPrograms(connection, 'restart', restart)
    const processes = groups.length ? await waitUntilRunning(connection, groups, { timeoutSeconds: flags.wait }) : []
    output.server(server.name, `release ${release} live; ${processes.length} process(es) running${applied.size ? `; config applied to ${[...applied].join(', ')}` : ''}`)
    done.push({ server: server.name, release, changed: plan.changes.length, processes: processes.length })
  }
  // A failure above stops the rollout there: the servers before it run the new release, the rest the old one.
  output.recap(done.map((d) => ({ server: d.server, ok: 1, changed: 1, failed: 0 })))
  output.json({ ok: true, domain: site.domain, release, servers: done })
})

/** @param {unknown} dir */
function requireAppDir(dir) {
  if (typeof dir !== 'string') throw new InputError([{ field: '--app-dir', value: dir, allowed: 'the folder to upload as the release', hint: 'e.g. --app-dir ./build' }])
  return path.resolve(dir)
}

await runIfMain(import.meta.url, deploy)
