import type { Connection } from '../remote/connection.ts'
import { type ActivationResult, activatePlan, StaleStateError, type StoppingProcess } from './activate.ts'
import type { DesiredState } from './desired.ts'
import { assertNothingRefused, filesToUpload, planSync, type SyncPlan } from './plan.ts'
import { readLiveState } from './read-state.ts'
import { stageFiles } from './stage.ts'

// The core unit of every sync: read → plan → stage → activate for one server. The lock covers activation only, so
// when another sync changed this server's files after our read, plan again from a fresh read.

export interface SyncServerOptions {
  /** Plan only; touch nothing. */
  dryRun?: boolean
  /** A dry run for CI and cron: the result says whether a change is pending (`pending`); the task turns that into exit 3. */
  check?: boolean
  /** Take over unmarked files at the paths we want (never another inventory's). */
  adopt?: boolean
  /** How long activation waits for another sync's server lock. */
  lockWaitSeconds: number
  /** Plans made in a row before giving up when other syncs keep getting there first. */
  attempts?: number
  /** Told about each old process the update is still waiting for (up to its stopwaitsecs). */
  onStopping?: (process: StoppingProcess) => void
}

export interface ServerSyncResult {
  plan: SyncPlan
  activation?: ActivationResult
  /** True for --dry-run and --check: nothing was touched. */
  dryRun: boolean
  check: boolean
  /** Nothing was applied and the server differs from the inventory (files, or confs supervisor has not applied). */
  pending: boolean
}

export async function syncServer(
  connection: Connection,
  desired: DesiredState,
  options: SyncServerOptions,
): Promise<ServerSyncResult> {
  const check = Boolean(options.check)
  const dryRun = check || Boolean(options.dryRun)
  for (let attempt = 1; ; attempt++) {
    const plan = planSync(desired, await readLiveState(connection, desired), { adopt: Boolean(options.adopt) })
    assertNothingRefused(plan)
    if (dryRun || !plan.needsActivation) return { plan, dryRun, check, pending: plan.needsActivation }
    const staged = await stageFiles(connection, filesToUpload(plan))
    try {
      const activation = await activatePlan(connection, plan, staged, {
        lockWaitSeconds: options.lockWaitSeconds,
        ...(options.onStopping ? { onStopping: options.onStopping } : {}),
      })
      return { plan, activation, dryRun, check, pending: false }
    } catch (error) {
      if (!(error instanceof StaleStateError) || attempt >= (options.attempts ?? 3)) throw error
    } finally {
      await staged.release()
    }
  }
}
