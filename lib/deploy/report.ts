import { InterruptedError } from '../errors.ts'
import type { AppliedStep, ServerOutcome } from '../fleet.ts'
import type { UpdateResult } from '../supervisor/process.ts'
import type { Server } from '../types.ts'
import type { ServerDeploy } from './deploy-server.ts'
import { describeInterrupted, type InterruptedOutcome, interruptedOutcome } from './interrupted.ts'
import type { RestartMode } from './options.ts'
import type { RolloutResult } from './rollout.ts'

// What a rollout did to each of the site's servers, as data for the recap and --json: from the servers' outcomes
// and, for those whose release the run does not know, where `current` was read back to point.

export type DeployRollout = RolloutResult<Server, ServerOutcome<ServerDeploy>>

/** Read back at the end: `current` of each server, by name (null: no current; undefined: not read). */
export type CurrentReleases = ReadonlyMap<string, string | null | undefined>

export interface DeployReport {
  server: string
  ok: boolean
  outcome: 'deployed' | 'rolled-back' | 'failed' | 'not-deployed'
  /** The release current points to now. */
  release: string | null
  batch?: number | undefined
  reason?: string
  /** A failed server's steps that had changed it before the failure. */
  applied?: AppliedStep[]
  switchedAt?: Date
  gatePassedAt?: Date
  pruned?: string[]
  restart?: { mode: RestartMode; bySync: string[]; restarted: string[] }
  rollback?: { confsRestored: boolean; update: UpdateResult | null; restarted: string[] }
  /** The recap's note: `r2 (new)`, `r1 (rolled back: …)`. */
  note: string
}

export interface InterruptedReport {
  server: string
  ok: boolean
  batch: number | null
  release: string | null
  /** Something was done there before the interrupt. */
  changed: boolean
  outcome: InterruptedOutcome | 'rolled-back'
  reason?: string
  note: string
}

/** A failed server for --max-fail: rolled back, or failed outright; an interrupted one is not a failure. */
export function deployFailed(outcome: ServerOutcome<ServerDeploy>): boolean {
  return outcome.ok ? outcome.value.outcome === 'rolled-back' : !(outcome.error instanceof InterruptedError)
}

/**
 * The servers whose `current` is read back at the end: those this run did not deploy (never started, or failed);
 * after an interrupt, those the interrupt cut off in a step (and those that failed).
 */
export function serversToReadBack(result: DeployRollout): Server[] {
  const outcomes = result.batches.flatMap((b) => b.results)
  if (!result.interrupted) return [...result.skipped, ...outcomes.filter((o) => !o.ok).map((o) => o.server)]
  const touched = outcomes.filter((o) =>
    o.ok ? o.value.outcome === 'interrupted' && o.value.step !== 'connect' : !(o.error instanceof InterruptedError),
  )
  return touched.map((o) => o.server)
}

/** Per server of the site, in inventory order: which release it runs now and why. */
export function deployReports(servers: Server[], result: DeployRollout, currents: CurrentReleases): DeployReport[] {
  const outcomes = result.batches.flatMap((b) => b.results)
  const batchOf = batchNumbers(result)
  return servers.map((server) => {
    const outcome = outcomes.find((o) => o.server.name === server.name)
    if (!outcome)
      return noted({
        server: server.name,
        ok: false,
        outcome: 'not-deployed',
        release: currents.get(server.name) ?? null,
        reason: `rollout stopped after batch ${result.stoppedAfter}`,
      })
    if (!outcome.ok) {
      const reason = messageOf(outcome.error)
      return noted({
        server: server.name,
        batch: batchOf.get(server.name),
        ok: false,
        outcome: 'failed',
        release: currents.get(server.name) ?? null,
        reason,
        applied: outcome.applied,
      })
    }
    if (outcome.value.outcome === 'interrupted')
      throw new Error('unreachable: an interrupted rollout is reported by interruptedReports')
    if (outcome.value.outcome === 'deployed') {
      const { restart, ...value } = outcome.value
      return noted({
        server: server.name,
        ok: true,
        ...value,
        restart: { mode: restart.mode, bySync: restart.bySync, restarted: restart.restarted },
      })
    }
    const { rollback, ...value } = outcome.value
    return noted({
      server: server.name,
      ok: false,
      ...value,
      rollback: {
        confsRestored: Boolean(rollback.reverted),
        update: rollback.reverted?.update ?? null,
        restarted: rollback.restarted,
      },
    })
  })
}

/**
 * Per server of an interrupted rollout, where it was left: from the step the interrupt cut off and, for the switch,
 * where current points now.
 */
export function interruptedReports(
  servers: Server[],
  result: DeployRollout,
  currents: CurrentReleases,
  release: string,
): InterruptedReport[] {
  const outcomes = result.batches.flatMap((b) => b.results)
  const batchOf = batchNumbers(result)
  return servers.map((server): InterruptedReport => {
    const outcome = outcomes.find((o) => o.server.name === server.name)
    const current = currents.get(server.name)
    const base = {
      server: server.name,
      ok: false,
      batch: batchOf.get(server.name) ?? null,
      release: current ?? null,
      changed: Boolean(outcome?.applied.length),
    }
    if (!outcome || (!outcome.ok && outcome.error instanceof InterruptedError))
      return { ...base, outcome: 'not-started', note: describeInterrupted('not-started', release, undefined) }
    if (!outcome.ok)
      return {
        ...base,
        outcome: 'failed',
        reason: messageOf(outcome.error),
        note: `${current ?? '?'} (failed: ${messageOf(outcome.error)})`,
      }
    const value = outcome.value
    if (value.outcome !== 'interrupted') {
      const done = {
        outcome: value.outcome,
        release: value.release,
        ...(value.outcome === 'rolled-back' ? { reason: value.reason } : {}),
      }
      return { ...base, ok: value.outcome === 'deployed', ...done, note: describeReport(done) }
    }
    const state = interruptedOutcome(value.step, release, current)
    const note = describeInterrupted(state, release, state === 'deployed' ? release : current, value.reason)
    return {
      ...base,
      ok: state === 'deployed',
      outcome: state,
      ...(state === 'deployed' ? { release } : {}),
      ...(value.reason ? { reason: value.reason } : {}),
      note,
    }
  })
}

/** `r2 (new)`, `r1 (rolled back: …)`, `r1 (not deployed: rollout stopped after batch 2)`. */
export function describeReport(report: { outcome: string; release?: string | null; reason?: string }): string {
  const runs = report.release ?? (report.outcome === 'rolled-back' ? 'no release' : '?')
  if (report.outcome === 'deployed') return `${runs} (new)`
  return `${runs} (${report.outcome.replace('-', ' ')}: ${report.reason})`
}

function noted(report: Omit<DeployReport, 'note'>): DeployReport {
  return { ...report, note: describeReport(report) }
}

function batchNumbers(result: DeployRollout): Map<string, number> {
  return new Map(result.batches.flatMap((b) => b.servers.map((s) => [s.name, b.number])))
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
