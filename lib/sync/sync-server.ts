import type { Connection } from '../remote/connection.ts'
import { readLiveState } from './read-state.ts'
import { assertNothingRefused, filesToUpload, planSync, type SyncPlan } from './plan.ts'
import { stageFiles } from './stage.ts'
import { activatePlan, StaleStateError, type ActivationResult } from './activate.ts'
import type { DesiredState } from './desired.ts'

// The core unit of every sync: read → plan → stage → activate for one server. The lock covers activation only, so
// when another sync changed this server's files after our read, plan again from a fresh read.

export interface SyncServerOptions {
  /** Plan only; touch nothing. */
  dryRun?: boolean
  /** Take over unmarked files at the paths we want (never another inventory's). */
  adopt?: boolean
  /** How long activation waits for another sync's server lock. */
  lockWaitSeconds: number
  /** Plans made in a row before giving up when other syncs keep getting there first. */
  attempts?: number
}

export interface ServerSyncResult {
  plan: SyncPlan
  activation?: ActivationResult
  dryRun: boolean
}

export async function syncServer(connection: Connection, desired: DesiredState, options: SyncServerOptions): Promise<ServerSyncResult> {
  const dryRun = Boolean(options.dryRun)
  for (let attempt = 1; ; attempt++) {
    const plan = planSync(desired, await readLiveState(connection, desired), { adopt: Boolean(options.adopt) })
    assertNothingRefused(plan)
    if (dryRun || !plan.needsActivation) return { plan, dryRun }
    const staged = await stageFiles(connection, filesToUpload(plan))
    try {
      return { plan, activation: await activatePlan(connection, plan, staged, { lockWaitSeconds: options.lockWaitSeconds }), dryRun }
    } catch (error) {
      if (!(error instanceof StaleStateError) || attempt >= (options.attempts ?? 3)) throw error
    } finally {
      await staged.release()
    }
  }
}
