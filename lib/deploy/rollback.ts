import { RemoteError } from '../errors.ts'
import type { Connection } from '../remote/connection.ts'
import { controlPrograms } from '../service/programs.ts'
import type { ProcessStatus } from '../supervisor/process.ts'
import type { ActivationResult } from '../sync/activate.ts'
import type { DesiredState } from '../sync/desired.ts'
import { revertPlan } from '../sync/rollback.ts'
import type { ServerSyncResult } from '../sync/sync-server.ts'
import { waitUntilUp } from './gate.ts'
import type { RestartMode } from './options.ts'
import { releaseName, restoreCurrent } from './release.ts'
import type { ReleaseRestart } from './restart.ts'

// A server that failed its gate goes back to where it was before the deploy: `current` to the release it pointed to,
// the program confs to the bytes the sync read (the reverse plan, all-or-nothing), and the programs the deploy put on
// the new release restarted on the old one, then seen RUNNING there.

export interface RollbackInput {
  root: string
  /** Where current pointed before the switch (switchCurrent's `previous`; null: there was no current). */
  previous: string | null
  /** The deploy's sync, when it applied something. */
  synced?: ServerSyncResult
  /** Groups the deploy restarted onto the new release (by the sync's update or the restart step). */
  onNewRelease: string[]
  desired: DesiredState
  currentPath: string
  waitSeconds: number
  lockWaitSeconds: number
  pollMs?: number
}

export interface ServerRollback {
  /** The release current points to again (null: no current, as before the first deploy). */
  release: string | null
  /** supervisor's update of the confs put back (null: the sync had changed no file). */
  reverted: ActivationResult | null
  restarted: string[]
  processes: ProcessStatus[]
}

/**
 * Every group the deploy may have put on the new release, so the rollback puts it back: those the sync's update
 * added or changed, and those the restart step restarted (when it was cut off by a failure, all of the site's, unless
 * --restart none).
 */
export function groupsOnNewRelease(input: {
  programs: Array<{ name: string }>
  mode: RestartMode
  synced?: ServerSyncResult
  restart?: ReleaseRestart
}): string[] {
  const update = input.synced?.activation?.update
  const bySync = [...(update?.added ?? []), ...(update?.updated ?? [])]
  const restartStep = input.synced && input.mode !== 'none' ? input.programs.map((p) => p.name) : []
  const restarted = input.restart?.restarted ?? restartStep
  return [...new Set([...bySync, ...restarted])]
}

export async function rollBackServer(connection: Connection, input: RollbackInput): Promise<ServerRollback> {
  await restoreCurrent(connection, { root: input.root, previous: input.previous })
  const reverted = input.synced?.activation
    ? await revertPlan(connection, input.synced.plan, { lockWaitSeconds: input.lockWaitSeconds })
    : null
  const removed = new Set(reverted?.update.removed ?? [])
  const restartedByRevert = [...(reverted?.update.added ?? []), ...(reverted?.update.updated ?? [])]
  const restart = input.onNewRelease.filter((group) => !removed.has(group) && !restartedByRevert.includes(group))
  if (restart.length) await controlPrograms(connection, 'restart', restart)
  const release = input.previous === null ? null : releaseName(input.previous)
  const groups = [...new Set([...restart, ...restartedByRevert])]
  // Without a previous release there is nothing to run: the programs this deploy added are gone again.
  if (release === null || !groups.length) return { release, reverted, restarted: restart, processes: [] }
  const up = await waitUntilUp(connection, {
    desired: input.desired,
    programs: groups.map((name) => ({ name, numprocs: 0, startSecs: 0 })),
    currentPath: input.currentPath,
    release,
    checkRelease: true,
    waitSeconds: input.waitSeconds,
    ...(input.pollMs ? { pollMs: input.pollMs } : {}),
  })
  if (!up.passed)
    throw new RemoteError(
      connection.server.name,
      `rolled back to ${release}, but its programs did not come back: ${up.reason}`,
    )
  return { release, reverted, restarted: restart, processes: up.processes }
}
