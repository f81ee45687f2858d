#!/usr/bin/env zx
// deploy: a rolling deploy from the project's steps, in batches (a canary first when asked); per server: upload,
// switch `current`, sync and restart the programs, the gate (RUNNING on the new release, held, healthy). A failed
// server is rolled back; past --max-fail the rollout stops. Ctrl-C starts nothing new and rolls nothing back.
import {
  checkRolloutOptions,
  deployReports,
  deploySite,
  findSite,
  interruptedReports,
  loadInventory,
  planBatches,
  readBackReleases,
  releaseFromFlag,
  requireAppDir,
  requireScripts,
  sameDeployCommand,
  serversOfSite,
  siteDesiredStates,
} from 'zx-supervisor'
import {
  askDomain,
  askReleaseDir,
  defineTask,
  LOCK_WAIT_FLAG,
  RELEASE_FLAGS,
  ROLLOUT_FLAGS,
  reportDeploy,
  reportInterruptedDeploy,
  runIfMain,
  startDeployProgress,
} from 'zx-supervisor/cli'

export const deploy = defineTask(
  // biome-ignore format: the help reads as written, one flag per line
  {
    name: 'deploy',
    summary: 'rolling deploy of a site in gated batches: release upload, current switch, program sync and restart, gate, rollback',
    usage: '--domain DOMAIN --app-dir PATH [--release NAME] [--batch N|N%] [--canary N] [--max-fail N|N%] [--restart all|one-by-one|none] [--wait SECONDS] [--hold SECONDS] [--health-cmd CMD] [--keep N] [--adopt]',
    flags: [
      ...RELEASE_FLAGS,
      ...ROLLOUT_FLAGS,
      { name: 'adopt', type: 'boolean', description: "take over unmarked files at our paths and remove imported originals in the release's sync, as supervisor-sync --adopt does" },
      LOCK_WAIT_FLAG,
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist'],
    examples: [
      'npx zx tasks/deploy.mjs --domain example.com --app-dir ./build',
      "npx zx tasks/deploy.mjs --domain example.com --app-dir ./build --canary 1 --batch 25% --max-fail 1 --health-cmd 'php artisan about'",
    ],
    interrupt: 'report',
    notes: [
      'A server that fails its gate is rolled back: current to its previous release, the program confs to what the sync read, the programs restarted. It then differs from the inventory on purpose: supervisor-status reports it as drift until the next deploy or sync.',
    ],
  },
  async ({ flags, given, output, session, interactive, interrupted }) => {
    const { inventory } = await loadInventory(flags.inventory)
    const site = findSite(inventory, await askDomain(inventory, flags, interactive))
    const appDir = requireAppDir(await askReleaseDir(site, flags, interactive))
    const release = releaseFromFlag(flags.release)
    const servers = serversOfSite(inventory, site)
    const { batch, canary, restart, 'max-fail': maxFail, 'health-cmd': healthCmd } = flags
    const rollout = checkRolloutOptions({ batch, canary, maxFail, restart, healthCmd }, servers.length)
    await requireScripts(site, appDir)
    const desiredFor = siteDesiredStates(inventory, site, process.env)
    const batches = planBatches(servers, rollout)
    const run = { domain: site.domain, release, batches, canary: Boolean(canary), maxFailures: rollout.maxFailures }
    const { wait: waitSeconds, hold: holdSeconds, keep, adopt, 'lock-wait': lockWaitSeconds } = flags
    const steps = { site, release, appDir, rollout, batches, desiredFor, interrupted, keep, adopt, lockWaitSeconds }
    const progress = startDeployProgress(output, run)
    const result = await deploySite(session, { ...steps, waitSeconds, holdSeconds, ...progress })
    const currents = await readBackReleases(session, site, result)
    if (!result.interrupted) return reportDeploy(output, run, result, deployReports(servers, result, currents))
    const next = sameDeployCommand('tasks/deploy.mjs', deploy.meta.flags, flags, given, { ...run, appDir })
    const stopped = { ...run, signal: String(interrupted.reason), next }
    return reportInterruptedDeploy(output, stopped, result, interruptedReports(servers, result, currents, release))
  },
)

await runIfMain(import.meta.url, deploy)
