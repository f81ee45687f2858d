import { failureOf, RemoteError } from '../errors.ts'
import type { AppliedStep, ServerOutcome } from '../fleet.ts'
import { ADOPTED_DIR } from '../layout.ts'
import type { StoppingProcess } from '../sync/activate.ts'
import type { DesiredState } from '../sync/desired.ts'
import { environmentChanges, type FileChange, formatPlanDiff } from '../sync/plan.ts'
import type { ServerSyncResult } from '../sync/sync-server.ts'
import type { Output, RecapRow } from './output.ts'

// How a sync is shown: per-server lines, the dry-run diff, the recap and the --json document.

const SIGN = { add: '+', change: '~', adopt: '+ (adopted)', remove: '-' } as const

/** --verbose: which template file each kind of file came from (a site's override, the team's, or the package's). */
export function reportTemplates(output: Output, states: DesiredState[]): void {
  const used = new Map<string, number>()
  for (const file of states.flatMap((state) => state.files)) {
    if (file.template) used.set(file.template, (used.get(file.template) ?? 0) + 1)
  }
  for (const [template, count] of [...used].sort(([a], [b]) => a.localeCompare(b))) {
    output.detail(`template ${template} (${count} file${count === 1 ? '' : 's'})`)
  }
}

export function reportServerSync(output: Output, result: ServerSyncResult): void {
  const { plan, activation } = result
  const name = plan.server.name
  for (const script of plan.missingScripts)
    output.warn(
      `${name}: script missing from the current release: ${script} (deploy it, or the program will fail to start)`,
    )
  if (result.dryRun) {
    output.server(
      name,
      plan.needsActivation
        ? `would change ${plan.changes.length} file(s); update ${plan.groups.join(', ') || 'no group'}`
        : 'up to date, nothing to do',
    )
    for (const change of plan.changes)
      if (change.kind === 'adopt' || change.reason)
        output.server(
          name,
          `would ${change.kind === 'adopt' ? 'adopt (unmarked)' : 'remove'} ${change.path}${change.reason ? ` (${change.reason})` : ''}${change.kind === 'adopt' ? ` (original to be kept under ${ADOPTED_DIR}/)` : ''}`,
        )
    // --check is for CI and cron: the summary lines say what is pending; the diff only when asked for.
    const diff = result.check && !output.options.verbose ? '' : formatPlanDiff(plan)
    if (diff) output.info(diff.trimEnd())
    return
  }
  for (const change of plan.changes) {
    const kept = activation?.kept.get(change.path)
    output.server(
      name,
      `${change.kind === 'adopt' && !change.after ? '- (imported original)' : SIGN[change.kind]} ${change.path}${change.reason ? ` (${change.reason})` : ''}${kept ? ` (original kept in ${kept})` : ''}`,
    )
  }
  for (const [kind, groups] of Object.entries(activation?.update ?? {}))
    for (const group of groups) output.server(name, `${group}: ${kind} process group`)
  if (!plan.needsActivation) output.server(name, 'up to date')
}

export function changedCount(result: ServerSyncResult): number {
  const update = result.activation?.update
  return (
    result.plan.changes.length || (update ? update.added.length + update.updated.length + update.removed.length : 0)
  )
}

export function syncRecap(outcomes: ServerOutcome<ServerSyncResult>[]): RecapRow[] {
  return outcomes.map((o) =>
    o.ok
      ? {
          server: o.server.name,
          ok: o.value.plan.programs.length,
          changed: changedCount(o.value),
          failed: 0,
          ...(o.value.dryRun ? { note: `(${o.value.check ? 'check' : 'dry run'}: nothing was changed)` } : {}),
        }
      : { server: o.server.name, ok: 0, changed: appliedChanges(o), failed: 1, ...failureNote(o) },
  )
}

export function syncJson(outcomes: ServerOutcome<ServerSyncResult>[]) {
  return {
    ok: outcomes.every((o) => o.ok),
    servers: outcomes.map((o) =>
      o.ok
        ? {
            server: o.server.name,
            ok: true,
            dryRun: o.value.dryRun,
            pending: o.value.pending,
            changed: changedCount(o.value),
            changes: o.value.plan.changes.map((c) => changeJson(c, o.value.activation?.kept.get(c.path))),
            groups: o.value.plan.groups,
            update: o.value.activation?.update ?? null,
            missingScripts: o.value.plan.missingScripts,
          }
        : {
            server: o.server.name,
            ok: false,
            error: o.error instanceof Error ? o.error.message : String(o.error),
            applied: o.applied.map(appliedJson),
          },
    ),
  }
}

/**
 * One file of a plan, with the environment keys it changes (values shown by the one rule of lib/redact.ts) and,
 * for an adopted file, where its original was kept.
 */
function changeJson(change: FileChange, kept: string | undefined) {
  const environment = environmentChanges(change.before, change.after)
  return {
    kind: change.kind,
    path: change.path,
    ...(change.reason ? { reason: change.reason } : {}),
    ...(environment.length ? { environment } : {}),
    ...(kept ? { kept } : {}),
  }
}

/** A failed server's steps that had changed it before the failure, as JSON (sync results summarised). */
export function appliedJson(applied: AppliedStep): unknown {
  const result = applied.result as Partial<ServerSyncResult> | undefined
  if (!result?.plan) return applied
  return {
    step: applied.step,
    changes: result.plan.changes.map((c) => ({ kind: c.kind, path: c.path })),
    update: result.activation?.update ?? null,
  }
}

/** --check's exit code: 1 when a server failed (unreachable, a refused file), else 3 when a change is pending, else 0. */
export function checkExitCode(outcomes: ServerOutcome<ServerSyncResult>[]): 0 | 1 | 3 {
  if (outcomes.some((o) => !o.ok)) return 1
  return outcomes.some((o) => o.ok && o.value.pending) ? 3 : 0
}

/** What the recap says of a failed server: what it had applied, else why it failed when that has a name. */
function failureNote(outcome: ServerOutcome<unknown>): { note?: string } {
  if (outcome.applied.length)
    return { note: `(applied: ${outcome.applied.map((a) => a.step).join(', ')}; then failed)` }
  const failure = failureOf(outcome.ok ? undefined : outcome.error)
  return failure === 'FAILED' ? {} : { note: failure }
}

function appliedChanges(outcome: ServerOutcome<unknown>): number {
  return outcome.applied.reduce(
    (n, a) =>
      n + ((a.result as Partial<ServerSyncResult> | undefined)?.plan ? changedCount(a.result as ServerSyncResult) : 1),
    0,
  )
}

export function reportFailures(output: Output, outcomes: ServerOutcome<unknown>[]): void {
  for (const o of outcomes) {
    if (o.ok) continue
    const message = o.error instanceof Error ? o.error.message : String(o.error)
    if (o.applied.length)
      output.error(`${o.server.name}: applied ${o.applied.map((a) => a.step).join(', ')}, then failed: ${message}`)
    else output.error(`${o.server.name}: ${message}`)
    if (o.error instanceof RemoteError && o.error.detail) output.detail(o.error.detail.trim())
  }
}

/** Says, once per process, which old process an update waits for; kept as the Ctrl-C message meanwhile. */
export function stoppingReporter(
  output: Output,
  stillRunning: Map<string, string>,
  server: string,
): { onStopping(process: StoppingProcess): void; done(): void } {
  const seen = new Set<string>()
  return {
    onStopping(process) {
      stillRunning.set(
        server,
        `${server}: ${process.process} is still stopping (stopwaitsecs ${process.stopwaitsecs}); the update goes on there on its own and leaves the files in the new state`,
      )
      output.status?.note(server, `waiting for ${process.process} to stop`)
      if (seen.has(process.process)) return
      seen.add(process.process)
      output.server(
        server,
        `waiting for ${process.process} to stop (since ${process.since.toTimeString().slice(0, 8)}, stopwaitsecs ${process.stopwaitsecs})`,
      )
    },
    done() {
      stillRunning.delete(server)
      output.status?.note(server, undefined)
    },
  }
}
