#!/usr/bin/env zx
// deploy: a rolling deploy built from the project's steps. The site's servers go in batches (a canary batch first
// when asked); on each server of a batch, together: upload the release, switch `current`, sync the programs, restart
// them, then the gate (RUNNING on the new release, held, healthy). A server that fails is rolled back; past
// --max-fail failed servers the rollout stops after the current batch and the later servers are never touched.
// Ctrl-C cuts off the steps in flight and starts nothing new (no rollback): the summary says where each server was left.
import path from 'node:path'
import { defineTask, runIfMain, PROJECT_DIR } from '../lib/cli/run-task.ts'
import { loadInventory } from '../lib/inventory/load.ts'
import { findSite, serversOfSite, siteRoot, siteUser } from '../lib/inventory/resolve.ts'
import { listAvailableScripts } from '../lib/app/available-scripts.ts'
import { currentPath, fullName } from '../lib/layout.ts'
import { uploadRelease, switchCurrent, pruneReleases, readCurrentRelease, releaseBefore, releaseName } from '../lib/deploy/release.ts'
import { checkRolloutOptions } from '../lib/deploy/options.ts'
import { planBatches } from '../lib/deploy/batches.ts'
import { rollOut } from '../lib/deploy/rollout.ts'
import { restartForRelease } from '../lib/deploy/restart.ts'
import { passGate, SUPERVISOR_DEFAULT_STARTSECS } from '../lib/deploy/gate.ts'
import { rollBackServer } from '../lib/deploy/rollback.ts'
import { describeInterrupted, interruptedOutcome, isInterrupt, sameDeployCommand } from '../lib/deploy/interrupted.ts'
import { renderDesiredStates } from '../lib/sync/desired.ts'
import { resolveEnvironmentRefs } from '../lib/secrets.ts'
import { syncServer } from '../lib/sync/sync-server.ts'
import { appliedJson, reportFailures } from '../lib/cli/sync-report.ts'
import { forEachServer } from '../lib/fleet.ts'
import { EXIT, InputError, InterruptedError, RemoteError } from '../lib/errors.ts'
import { askDomain, askReleaseDir } from '../lib/cli/ask.ts'

export const deploy = defineTask({
  name: 'deploy',
  summary: 'rolling deploy of a site in gated batches: release upload, current switch, program sync and restart, gate, rollback',
  usage: '--domain DOMAIN --app-dir PATH [--release NAME] [--batch N|N%] [--canary N] [--max-fail N|N%] [--restart all|one-by-one|none] [--wait SECONDS] [--hold SECONDS] [--health-cmd CMD] [--keep N]',
  flags: [
    { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: 'the site to deploy' },
    { name: 'app-dir', type: 'string', placeholder: 'PATH', description: 'the built app to upload as the release' },
    { name: 'release', type: 'string', placeholder: 'NAME', description: 'release directory name (default: a UTC timestamp)' },
    { name: 'batch', type: 'string', placeholder: 'N|N%', default: '1', description: "servers deployed together; N% of the site's servers, rounded up, at least 1" },
    { name: 'canary', type: 'integer', placeholder: 'N', min: 1, description: 'a first batch of N servers before the --batch sized ones' },
    { name: 'max-fail', type: 'string', placeholder: 'N|N%', default: '0', description: "failed servers allowed over the whole rollout (N% of the site's servers, rounded down); past it the rollout stops after the current batch" },
    { name: 'restart', type: 'string', placeholder: 'all|one-by-one|none', default: 'all', description: 'how the programs pick up the release (programs whose conf changed are restarted by the sync either way)' },
    { name: 'wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: 'gate: how long the processes may take to be RUNNING after the restart' },
    { name: 'hold', type: 'integer', placeholder: 'SECONDS', default: 5, min: 0, description: 'gate: how long they must then stay RUNNING with the same pid, on top of their startsecs' },
    { name: 'health-cmd', type: 'string', placeholder: 'CMD', description: 'gate: a command run in the new release as the site user on each server; must exit 0' },
    { name: 'keep', type: 'integer', placeholder: 'N', default: 5, min: 2, description: 'releases kept on each deployed server (the current and the previous one always are)' },
    { name: 'lock-wait', type: 'integer', placeholder: 'SECONDS', default: 60, description: "wait this long for another sync's server lock" },
  ],
  common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist'],
  examples: [
    'npx zx tasks/deploy.mjs --domain example.com --app-dir ./build',
    "npx zx tasks/deploy.mjs --domain example.com --app-dir ./build --canary 1 --batch 25% --max-fail 1 --health-cmd 'php artisan about'",
  ],
  interrupt: 'report',
  notes: [
    "A server that fails its gate is rolled back: current to its previous release, the program confs to what the sync read, the programs restarted. It then differs from the inventory on purpose: supervisor-status reports it as drift until the next deploy or sync.",
  ],
}, async ({ flags, given, output, session, interactive, interrupted }) => {
  const { inventory } = await loadInventory(flags.inventory)
  const site = findSite(inventory, await askDomain(inventory, flags, interactive))
  const appDir = requireAppDir(await askReleaseDir(site, flags, interactive))
  const release = requireReleaseName(flags.release ?? new Date().toISOString().replace(/\D/g, '').slice(0, 14))
  const servers = serversOfSite(inventory, site)
  const rollout = checkRolloutOptions({ batch: flags.batch, canary: flags.canary, maxFail: flags['max-fail'], restart: flags.restart, healthCmd: flags['health-cmd'] }, servers.length)
  await requireScripts(site, appDir)
  const { sites: resolvedSites } = resolveEnvironmentRefs(inventory, [site], process.env, { mode: 'require' })
  const desiredFor = renderDesiredStates({ templatesDir: path.join(PROJECT_DIR, 'templates'), inventoryId: inventory.id, servers, sitesOn: () => resolvedSites, wholeServer: false })
  const programs = site.supervisors.map((p) => ({ name: fullName(site.domain, p.program), numprocs: p.numprocs, startSecs: p.startsecs ?? SUPERVISOR_DEFAULT_STARTSECS }))
  const batches = planBatches(servers, rollout)
  output.info(`deploying ${site.domain} release ${release} in ${batches.length} batch(es): ${batches.map((b) => b.map((s) => s.name).join(', ')).join(' | ')}`)

  /**
   * One server: upload, switch, sync, restart, gate; a failure after the switch rolls the server back.
   * @param {import('../lib/types.ts').Server} server @param {import('../lib/remote/connection.ts').Connection} connection
   * @param {import('../lib/fleet.ts').RecordApplied} applied @param {number} batch
   * @param {{ step: import('../lib/deploy/interrupted.ts').DeployStep, reason?: string }} progress the step in flight, for an interrupt
   */
  const deployServer = async (server, connection, applied, batch, progress) => {
    const say = (/** @type {string} */ line) => output.server(server.name, line)
    const root = siteRoot(server, site)
    const desired = desiredFor(server)
    /** Starts a step, unless the run was interrupted: nothing new starts after Ctrl-C. @param {import('../lib/deploy/interrupted.ts').DeployStep} step */
    const begin = (step) => {
      if (interrupted.aborted) throw new InterruptedError(String(interrupted.reason), server.name)
      progress.step = step
    }
    begin('upload')
    say(`batch ${batch}: deploying release ${release}`)
    const uploaded = await uploadRelease(connection, { localDir: appDir, root, release, owner: siteUser(server, site), sitesPath: server.sitesPath })
    applied('upload', uploaded)
    begin('switch')
    const switched = await switchCurrent(connection, { root, release })
    applied('switch', switched)
    begin('gate')
    const switchedAt = new Date()
    // Current already on this release: this deploy is run again (after an interrupt); a rollback goes to the one before.
    const previous = switched.previous !== null && releaseName(switched.previous) === release
      ? await releaseBefore(connection, { root, release }).catch((error) => { if (isInterrupt(error, interrupted)) throw error; return switched.previous })
      : switched.previous
    if (previous !== switched.previous) say(`current already pointed to ${release}; a rollback would go back to ${previous ? releaseName(previous) : 'no release'} (uploaded before it)`)
    /** @type {import('../lib/sync/sync-server.ts').ServerSyncResult | undefined} */ let synced
    /** @type {import('../lib/deploy/restart.ts').ReleaseRestart | undefined} */ let restart
    try {
      synced = await syncServer(connection, desired, { lockWaitSeconds: flags['lock-wait'] })
      if (synced.activation) applied('sync', synced)
      restart = await restartForRelease(connection, { programs, synced, mode: rollout.restart })
      if (restart.restarted.length) applied('restart', restart)
      say(describeRestart(restart))
      if (restart.stopped) throw new RemoteError(server.name, restart.stopped)
      const health = rollout.healthCmd ? { command: rollout.healthCmd, user: siteUser(server, site), directory: uploaded.path } : undefined
      const gate = await passGate(connection, { desired, programs, currentPath: currentPath(root), release, checkRelease: rollout.restart !== 'none', waitSeconds: flags.wait, holdSeconds: flags.hold, ...(health ? { health } : {}), onProgress: say })
      if (!gate.passed) throw new RemoteError(server.name, gate.reason)
      say(`release ${release} live; ${gate.processes.length} process(es) running`)
      begin('prune')
      const pruned = await pruneOldReleases(connection, root, [release, previous])
      if (pruned.length) applied('prune', { removed: pruned })
      return { outcome: /** @type {const} */ ('deployed'), release, batch, switchedAt, gatePassedAt: gate.at, restart, pruned }
    } catch (error) {
      // Our own interrupt cut a step off: no failure, no rollback (the summary says where the server was left).
      if (isInterrupt(error, interrupted)) throw error
      const reason = messageOf(error)
      progress.step = 'rollback'
      progress.reason = reason
      say(`failed: ${reason}; rolling back`)
      // Every group the deploy may have put on the new release goes back: those the sync updated, and those restarted.
      const bySync = [...(synced?.activation?.update.added ?? []), ...(synced?.activation?.update.updated ?? [])]
      const restarted = restart?.restarted ?? (synced && rollout.restart !== 'none' ? programs.map((p) => p.name) : [])
      const rolledBack = await rollBackServer(connection, { root, previous, ...(synced ? { synced } : {}), onNewRelease: [...new Set([...bySync, ...restarted])], desired, currentPath: currentPath(root), waitSeconds: flags.wait, lockWaitSeconds: flags['lock-wait'] })
        .catch((rollbackError) => { throw isInterrupt(rollbackError, interrupted) ? rollbackError : new RemoteError(server.name, `${reason}; rollback failed: ${messageOf(rollbackError)}`) })
      applied('rollback', rolledBack)
      say(`rolled back to ${rolledBack.release ?? 'no release (there was none before)'}`)
      return { outcome: /** @type {const} */ ('rolled-back'), release: rolledBack.release, batch, switchedAt, reason, rollback: rolledBack }
    }
  }

  /** Keeps --keep releases (current and previous always); a failed prune is a warning, the deploy stands. @param {import('../lib/remote/connection.ts').Connection} connection @param {string} root @param {(string | null)[]} protect */
  const pruneOldReleases = async (connection, root, protect) => {
    try {
      return (await pruneReleases(connection, { root, keep: flags.keep, protect })).removed
    } catch (error) {
      if (isInterrupt(error, interrupted)) return []
      output.warn(`${connection.server.name}: ${messageOf(error)}`)
      return []
    }
  }

  const result = await rollOut(batches, (batch, number) => {
    output.info(`batch ${number}/${batches.length}${number === 1 && rollout.canary ? ' (canary)' : ''}: ${batch.map((s) => s.name).join(', ')}`)
    return forEachServer(batch, session, (server, connection, applied) => {
      /** @type {{ step: import('../lib/deploy/interrupted.ts').DeployStep, reason?: string }} */ const progress = { step: 'connect' }
      return deployServer(server, connection, applied, number, progress).catch((error) => {
        if (!isInterrupt(error, interrupted)) throw error
        return { outcome: /** @type {const} */ ('interrupted'), batch: number, step: progress.step, ...(progress.reason ? { reason: progress.reason } : {}) }
      })
    }, batch.length)
  }, {
    maxFailures: rollout.maxFailures,
    interrupted,
    failed: (o) => (o.ok ? o.value.outcome === 'rolled-back' : !(o.error instanceof InterruptedError)),
    onBatchDone: (b) => output.info(`batch ${b.number}/${batches.length} done: ${b.results.filter((o) => o.ok && o.value.outcome === 'deployed').length}/${b.servers.length} passed the gate; ${b.failures} failed so far (--max-fail allows ${rollout.maxFailures})${b.stopping ? ': stopping the rollout' : ''}`),
  })

  if (result.interrupted) return reportInterrupted(result)

  // Read only: where current points on the servers whose release this run does not know (never deployed, or failed).
  const outcomes = result.batches.flatMap((b) => b.results)
  const unknown = [...result.skipped, ...outcomes.filter((o) => !o.ok).map((o) => o.server)]
  const readBack = await forEachServer(unknown, session, (server, connection) => readCurrentRelease(connection, { root: siteRoot(server, site) }))
  const runs = new Map(readBack.map((o) => [o.server.name, o.ok ? o.value : undefined]))
  const batchOf = new Map(result.batches.flatMap((b) => b.servers.map((s) => [s.name, b.number])))

  const reports = servers.map((server) => {
    const outcome = outcomes.find((o) => o.server.name === server.name)
    if (!outcome) return { server: server.name, ok: false, outcome: 'not-deployed', release: runs.get(server.name) ?? null, reason: `rollout stopped after batch ${result.stoppedAfter}` }
    if (!outcome.ok) return { server: server.name, batch: batchOf.get(server.name), ok: false, outcome: 'failed', release: runs.get(server.name) ?? null, reason: messageOf(outcome.error), applied: outcome.applied.map(appliedJson) }
    if (outcome.value.outcome === 'interrupted') throw new Error('unreachable: an interrupted rollout is reported by reportInterrupted')
    const { restart, rollback, ...value } = outcome.value
    return { server: server.name, ok: value.outcome === 'deployed', ...value, ...(restart ? { restart: { mode: restart.mode, bySync: restart.bySync, restarted: restart.restarted } } : {}), ...(rollback ? { rollback: { confsRestored: Boolean(rollback.reverted), update: rollback.reverted?.update ?? null, restarted: rollback.restarted } } : {}) }
  })
  reportFailures(output, outcomes)
  output.recap(reports.map((r) => ({ server: r.server, ok: r.ok ? 1 : 0, changed: r.outcome === 'failed' ? Number(Boolean(r.applied?.length)) : Number(r.outcome !== 'not-deployed'), failed: r.ok || r.outcome === 'not-deployed' ? 0 : 1, note: describeReport(r) })))
  output.json({ ok: reports.every((r) => r.ok), domain: site.domain, release, batches: batches.map((b) => b.map((s) => s.name)), maxFailures: rollout.maxFailures, failures: result.failures, stoppedAfterBatch: result.stoppedAfter, servers: reports })
  return reports.every((r) => r.ok) ? 0 : 1

  /**
   * The one summary of an interrupted rollout: per server where it was left (reading back, over the connections
   * already open, where current points when the step cut off decides it), then the command that finishes the deploy.
   * @param {typeof result} result
   */
  async function reportInterrupted(result) {
    const signal = String(interrupted.reason)
    const outcomes = result.batches.flatMap((b) => b.results)
    const batchOf = new Map(result.batches.flatMap((b) => b.servers.map((s) => [s.name, b.number])))
    const touched = outcomes.filter((o) => (o.ok ? o.value.outcome === 'interrupted' && o.value.step !== 'connect' : !(o.error instanceof InterruptedError)))
    const readBack = await forEachServer(touched.map((o) => o.server), session, async (server, connection) => readCurrentRelease(connection, { root: siteRoot(server, site), afterInterrupt: true }))
    const runs = new Map(readBack.map((o) => [o.server.name, o.ok ? o.value : undefined]))
    const reports = servers.map((server) => {
      const outcome = outcomes.find((o) => o.server.name === server.name)
      const current = runs.get(server.name)
      const base = { server: server.name, ok: false, batch: batchOf.get(server.name) ?? null, release: current ?? null, changed: Boolean(outcome?.applied.length) }
      if (!outcome || (!outcome.ok && outcome.error instanceof InterruptedError)) return { ...base, outcome: 'not-started', note: describeInterrupted('not-started', release, undefined) }
      if (!outcome.ok) return { ...base, outcome: 'failed', reason: messageOf(outcome.error), note: `${current ?? '?'} (failed: ${messageOf(outcome.error)})` }
      const value = outcome.value
      if (value.outcome !== 'interrupted') return { ...base, ok: value.outcome === 'deployed', outcome: value.outcome, release: value.release ?? null, ...(value.reason ? { reason: value.reason } : {}), note: describeReport(value) }
      const state = interruptedOutcome(value.step, release, current)
      return { ...base, ok: state === 'deployed', outcome: state, ...(state === 'deployed' ? { release } : {}), ...(value.reason ? { reason: value.reason } : {}), note: describeInterrupted(state, release, state === 'deployed' ? release : current, value.reason) }
    })
    reportFailures(output, outcomes.filter((o) => !o.ok && !(o.error instanceof InterruptedError)))
    output.recap(reports.map((r) => ({ server: r.server, ok: r.ok ? 1 : 0, changed: Number(r.changed), failed: r.outcome === 'failed' || r.outcome === 'rolled-back' ? 1 : 0, note: r.note })))
    // A site or folder answered at a prompt goes into the command too: it is what was deployed.
    const next = sameDeployCommand('tasks/deploy.mjs', deploy.meta.flags, { ...flags, domain: site.domain, 'app-dir': appDir }, new Set([...given, 'domain', 'app-dir']), release)
    const during = result.batches.at(-1)?.number ?? 1
    output.warn(`interrupted by ${signal} during batch ${during}/${batches.length}: nothing was rolled back for it and no later batch was started. To finish every server, run the same deploy again: ${next}`)
    output.json({ ok: false, interrupted: signal, domain: site.domain, release, batches: batches.map((b) => b.map((s) => s.name)), interruptedInBatch: during, failures: result.failures, next, servers: reports.map(({ note: _note, ...r }) => r) })
    return EXIT.interrupted
  }
})

/** `r2 (new)`, `r1 (rolled back: …)`, `r1 (not deployed: rollout stopped after batch 2)`. @param {{ outcome: string, release?: string | null, reason?: string }} report */
function describeReport(report) {
  const runs = report.release ?? (report.outcome === 'rolled-back' ? 'no release' : '?')
  if (report.outcome === 'deployed') return `${runs} (new)`
  return `${runs} (${report.outcome.replace('-', ' ')}: ${report.reason})`
}

/** @param {import('../lib/deploy/restart.ts').ReleaseRestart} restart */
function describeRestart(restart) {
  const bySync = restart.bySync.length ? `${restart.bySync.join(', ')}: conf changed, so the sync's update already restarted the whole group (all its processes at once)` : ''
  const own = restart.mode === 'none'
    ? `--restart none: ${restart.bySync.length ? 'the other programs' : 'the programs'} keep running their release until restarted`
    : restart.restarted.length ? `restarted ${restart.mode === 'one-by-one' ? 'one by one' : 'all at once'}: ${restart.restarted.join(', ')}` : ''
  return [own, bySync].filter(Boolean).join('; ') || 'nothing to restart'
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error)
}

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

/** @param {string} release */
function requireReleaseName(release) {
  if (!/^[A-Za-z0-9._-]+$/.test(release) || release.startsWith('.')) throw new InputError([{ field: '--release', value: release, allowed: 'letters, digits, . _ - (not starting with .)', hint: 'or leave it out for a timestamp' }])
  return release
}

await runIfMain(import.meta.url, deploy)
