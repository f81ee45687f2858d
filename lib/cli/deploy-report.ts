import type { DeployEvent, ServerDeploy } from '../deploy/deploy-server.ts'
import { releaseName } from '../deploy/release.ts'
import type { DeployReport, DeployRollout, InterruptedReport } from '../deploy/report.ts'
import type { ReleaseRestart } from '../deploy/restart.ts'
import type { BatchDone } from '../deploy/rollout.ts'
import { EXIT, InterruptedError } from '../errors.ts'
import type { ServerOutcome } from '../fleet.ts'
import type { Server } from '../types.ts'
import type { Output, RecapRow } from './output.ts'
import { appliedJson, reportFailures } from './sync-report.ts'

// How a rolling deploy is shown: the plan, each batch starting and done, each server's steps as they happen, then
// the recap and the --json document (of a finished rollout, or of an interrupted one with the command to finish it).

export interface DeployRun {
  domain: string
  release: string
  batches: Server[][]
  /** A canary batch goes first. */
  canary: boolean
  maxFailures: number
}

/** Says the plan, then returns deploySite's hooks that show each batch starting and done, and each server's events. */
export function startDeployProgress(output: Output, run: DeployRun) {
  const names = (servers: Server[]) => servers.map((s) => s.name).join(', ')
  const total = run.batches.length
  output.info(
    `deploying ${run.domain} release ${run.release} in ${total} batch(es): ${run.batches.map(names).join(' | ')}`,
  )
  return {
    onBatchStarted: (servers: Server[], number: number) => {
      output.info(`batch ${number}/${total}${number === 1 && run.canary ? ' (canary)' : ''}: ${names(servers)}`)
    },
    onBatchDone: (batch: BatchDone<Server, ServerOutcome<ServerDeploy>>) => {
      const passed = batch.results.filter((o) => o.ok && o.value.outcome === 'deployed').length
      const allowed = `${batch.failures} failed so far (--max-fail allows ${run.maxFailures})`
      const stopping = batch.stopping ? ': stopping the rollout' : ''
      output.info(
        `batch ${batch.number}/${total} done: ${passed}/${batch.servers.length} passed the gate; ${allowed}${stopping}`,
      )
    },
    onServerEvent: (server: string, event: DeployEvent) => {
      if (event.kind === 'prune-failed') output.warn(`${server}: ${event.reason}`)
      else output.server(server, describeDeployEvent(event))
    },
  }
}

export function describeDeployEvent(event: Exclude<DeployEvent, { kind: 'prune-failed' }>): string {
  switch (event.kind) {
    case 'started':
      return `batch ${event.batch}: deploying release ${event.release}`
    case 'rollback-target': {
      const previous = event.previous ? releaseName(event.previous) : 'no release'
      return `current already pointed to ${event.release}; a rollback would go back to ${previous} (uploaded before it)`
    }
    case 'adopted':
      return `${event.removed ? 'removed imported original' : 'adopted (unmarked)'} ${event.path}${event.kept ? `; original kept in ${event.kept}` : ''}`
    case 'restarted':
      return describeRestart(event.restart)
    case 'gate':
      return event.line
    case 'live':
      return `release ${event.release} live; ${event.processes} process(es) running`
    case 'failed':
      return `failed: ${event.reason}; rolling back`
    case 'rolled-back':
      return `rolled back to ${event.release ?? 'no release (there was none before)'}`
  }
}

export function describeRestart(restart: ReleaseRestart): string {
  const bySync = restart.bySync.length
    ? `${restart.bySync.join(', ')}: conf changed, so the sync's update already restarted the whole group (all its processes at once)`
    : ''
  const own =
    restart.mode === 'none'
      ? `--restart none: ${restart.bySync.length ? 'the other programs' : 'the programs'} keep running their release until restarted`
      : restart.restarted.length
        ? `restarted ${restart.mode === 'one-by-one' ? 'one by one' : 'all at once'}: ${restart.restarted.join(', ')}`
        : ''
  return [own, bySync].filter(Boolean).join('; ') || 'nothing to restart'
}

export function deployRecap(reports: DeployReport[]): RecapRow[] {
  return reports.map((r) => ({
    server: r.server,
    ok: r.ok ? 1 : 0,
    changed: r.outcome === 'failed' ? Number(Boolean(r.applied?.length)) : Number(r.outcome !== 'not-deployed'),
    failed: r.ok || r.outcome === 'not-deployed' ? 0 : 1,
    note: r.note,
  }))
}

/** A finished rollout: failures, recap, JSON; exit 0 only when every server runs the new release. */
export function reportDeploy(output: Output, run: DeployRun, result: DeployRollout, reports: DeployReport[]): 0 | 1 {
  const ok = reports.every((r) => r.ok)
  reportFailures(
    output,
    result.batches.flatMap((b) => b.results),
  )
  output.recap(deployRecap(reports))
  output.json({
    ok,
    domain: run.domain,
    release: run.release,
    batches: batchNames(run),
    maxFailures: run.maxFailures,
    failures: result.failures,
    stoppedAfterBatch: result.stoppedAfter,
    servers: reports.map(({ note: _note, ...r }) => (r.applied ? { ...r, applied: r.applied.map(appliedJson) } : r)),
  })
  return ok ? EXIT.ok : EXIT.failed
}

export function interruptedRecap(reports: InterruptedReport[]): RecapRow[] {
  return reports.map((r) => ({
    server: r.server,
    ok: r.ok ? 1 : 0,
    changed: Number(r.changed),
    failed: r.outcome === 'failed' || r.outcome === 'rolled-back' ? 1 : 0,
    note: r.note,
  }))
}

/**
 * The one summary of an interrupted rollout: per server where it was left, then the command that finishes the
 * deploy (`next`). Exit 130.
 */
export function reportInterruptedDeploy(
  output: Output,
  run: DeployRun & { signal: string; next: string },
  result: DeployRollout,
  reports: InterruptedReport[],
): number {
  const outcomes = result.batches.flatMap((b) => b.results)
  reportFailures(
    output,
    outcomes.filter((o) => !o.ok && !(o.error instanceof InterruptedError)),
  )
  output.recap(interruptedRecap(reports))
  const during = result.batches.at(-1)?.number ?? 1
  output.warn(
    `interrupted by ${run.signal} during batch ${during}/${run.batches.length}: nothing was rolled back for it and no later batch was started. To finish every server, run the same deploy again: ${run.next}`,
  )
  output.json({
    ok: false,
    interrupted: run.signal,
    domain: run.domain,
    release: run.release,
    batches: batchNames(run),
    interruptedInBatch: during,
    failures: result.failures,
    next: run.next,
    servers: reports.map(({ note: _note, ...r }) => r),
  })
  return EXIT.interrupted
}

function batchNames(run: DeployRun): string[][] {
  return run.batches.map((b) => b.map((s) => s.name))
}
