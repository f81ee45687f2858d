#!/usr/bin/env zx
// deploy: a rolling deploy built from the project's steps. The site's servers go in batches (a canary first when
// asked); each server of a batch: upload the release, switch `current`, sync and restart the programs, the gate
// (RUNNING on the new release, held, healthy); a failed server is rolled back, and past --max-fail the rollout stops
// after its batch. Ctrl-C starts nothing new and rolls nothing back: the summary says where each server was left.
import {
  checkRolloutOptions,
  deployReports,
  deploySite,
  findSite,
  interruptedReports,
  loadInventory,
  planBatches,
  readCurrentReleases,
  releaseTimestamp,
  requireAppDir,
  requireReleaseName,
  requireScripts,
  sameDeployCommand,
  serversOfSite,
  serversToReadBack,
  siteDesiredStates,
} from 'zx-supervisor'
import {
  askDomain,
  askReleaseDir,
  defineTask,
  RELEASE_FLAGS,
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
      { name: 'batch', type: 'string', placeholder: 'N|N%', default: '1', description: "servers deployed together; N% of the site's servers, rounded up, at least 1" },
      { name: 'canary', type: 'integer', placeholder: 'N', min: 1, description: 'a first batch of N servers before the --batch sized ones' },
      { name: 'max-fail', type: 'string', placeholder: 'N|N%', default: '0', description: "failed servers allowed over the whole rollout (N% of the site's servers, rounded down); past it the rollout stops after the current batch" },
      { name: 'restart', type: 'string', placeholder: 'all|one-by-one|none', default: 'all', description: 'how the programs pick up the release (programs whose conf changed are restarted by the sync either way)' },
      { name: 'wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: 'gate: how long the processes may take to be RUNNING after the restart' },
      { name: 'hold', type: 'integer', placeholder: 'SECONDS', default: 5, min: 0, description: 'gate: how long they must then stay RUNNING with the same pid, on top of their startsecs' },
      { name: 'health-cmd', type: 'string', placeholder: 'CMD', description: 'gate: a command run in the new release as the site user on each server; must exit 0' },
      { name: 'keep', type: 'integer', placeholder: 'N', default: 5, min: 2, description: 'releases kept on each deployed server (the current and the previous one always are)' },
      { name: 'adopt', type: 'boolean', description: "take over unmarked files at our paths and remove imported originals in the release's sync, as supervisor-sync --adopt does" },
      { name: 'lock-wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: "wait this long for another sync's server lock" },
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
    const release = requireReleaseName(flags.release ?? releaseTimestamp(new Date()), '--release', { fromFlag: true })
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
    // Read only: where current points on the servers whose release this run does not know.
    const unknown = serversToReadBack(result)
    const currents = await readCurrentReleases(session, unknown, site, { afterInterrupt: result.interrupted })
    if (!result.interrupted) return reportDeploy(output, run, result, deployReports(servers, result, currents))
    // A site or folder answered at a prompt goes into the command too: it is what was deployed.
    const asked = { ...flags, domain: site.domain, 'app-dir': appDir }
    const named = new Set([...given, 'domain', 'app-dir'])
    const next = sameDeployCommand('tasks/deploy.mjs', deploy.meta.flags, asked, named, release)
    const stopped = { ...run, signal: String(interrupted.reason), next }
    return reportInterruptedDeploy(output, stopped, result, interruptedReports(servers, result, currents, release))
  },
)

await runIfMain(import.meta.url, deploy)
