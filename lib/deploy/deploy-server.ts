import { InterruptedError, RemoteError } from '../errors.ts'
import type { RecordApplied } from '../fleet.ts'
import { siteRoot, siteUser } from '../inventory/resolve.ts'
import { currentPath, fullName } from '../layout.ts'
import type { Connection } from '../remote/connection.ts'
import type { DesiredState } from '../sync/desired.ts'
import { type ServerSyncResult, syncServer } from '../sync/sync-server.ts'
import type { Site } from '../types.ts'
import { type GateProgram, passGate, SUPERVISOR_DEFAULT_STARTSECS } from './gate.ts'
import { type DeployStep, isInterrupt } from './interrupted.ts'
import type { RolloutOptions } from './options.ts'
import { refuseBeforeUpload } from './precheck.ts'
import { pruneReleases, releaseBefore, releaseName, switchCurrent, uploadRelease } from './release.ts'
import { type ReleaseRestart, restartForRelease } from './restart.ts'
import { groupsOnNewRelease, rollBackServer, type ServerRollback } from './rollback.ts'

// One server of a rolling deploy: upload, switch `current`, sync the programs, restart them, the gate, prune. A
// failure after the switch rolls the server back; an interrupt (the `interrupted` signal) starts no further step
// and rolls nothing back: the result says which step it cut off.

export interface ServerDeployInput {
  site: Site
  release: string
  /** The local folder uploaded as the release. */
  appDir: string
  /** 1-based, as printed. */
  batch: number
  /** The server's desired state (renderDesiredStates). */
  desired: DesiredState
  rollout: Pick<RolloutOptions, 'restart' | 'healthCmd'>
  waitSeconds: number
  holdSeconds: number
  /** Releases kept after the gate passed (the current and the previous one always are). */
  keep: number
  lockWaitSeconds: number
  /** The release's sync takes over unmarked files at our paths and removes imported originals (supervisor-sync --adopt). */
  adopt?: boolean
  interrupted: AbortSignal
  /** forEachServer's record of the steps that changed the server. */
  applied: RecordApplied
  onEvent?: (event: DeployEvent) => void
}

/** What happens on the server as it happens, for the caller to show (steps never print). */
export type DeployEvent =
  | { kind: 'started'; batch: number; release: string }
  | { kind: 'rollback-target'; release: string; previous: string | null }
  /** The sync took over a file (--adopt): an unmarked conf at our path, or an imported original it removed. */
  | { kind: 'adopted'; path: string; removed: boolean; kept: string | null }
  | { kind: 'restarted'; restart: ReleaseRestart }
  | { kind: 'gate'; line: string }
  | { kind: 'live'; release: string; processes: number }
  | { kind: 'failed'; reason: string }
  | { kind: 'rolled-back'; release: string | null }
  | { kind: 'prune-failed'; reason: string }

export type ServerDeploy =
  | {
      outcome: 'deployed'
      release: string
      batch: number
      switchedAt: Date
      gatePassedAt: Date
      restart: ReleaseRestart
      pruned: string[]
    }
  | {
      outcome: 'rolled-back'
      release: string | null
      batch: number
      switchedAt: Date
      reason: string
      rollback: ServerRollback
    }
  /** Cut off by the interrupt at `step` (`reason`: why it was rolling back, when it was). */
  | { outcome: 'interrupted'; batch: number; step: DeployStep; reason?: string }

/** The site's programs as the restart and the gate see them: group name, processes, startsecs. */
export function releasePrograms(site: Site): GateProgram[] {
  return site.supervisors.map((p) => ({
    name: fullName(site.domain, p.program),
    numprocs: p.numprocs,
    startSecs: p.startsecs ?? SUPERVISOR_DEFAULT_STARTSECS,
  }))
}

export async function deployServer(connection: Connection, input: ServerDeployInput): Promise<ServerDeploy> {
  const progress: { step: DeployStep; reason?: string } = { step: 'connect' }
  try {
    return await deploySteps(connection, input, progress)
  } catch (error) {
    if (!isInterrupt(error, input.interrupted)) throw error
    return {
      outcome: 'interrupted',
      batch: input.batch,
      step: progress.step,
      ...(progress.reason ? { reason: progress.reason } : {}),
    }
  }
}

async function deploySteps(
  connection: Connection,
  input: ServerDeployInput,
  progress: { step: DeployStep; reason?: string },
): Promise<ServerDeploy> {
  const { site, release, batch, desired, rollout, interrupted, applied } = input
  const server = connection.server
  const emit = (event: DeployEvent) => input.onEvent?.(event)
  const root = siteRoot(server, site)
  const programs = releasePrograms(site)
  // Nothing new starts after Ctrl-C.
  const begin = (step: DeployStep) => {
    if (interrupted.aborted) throw new InterruptedError(String(interrupted.reason), server.name)
    progress.step = step
  }
  const adopt = Boolean(input.adopt)
  // A server the release's sync would refuse (an imported original without --adopt) is refused before any change.
  await refuseBeforeUpload(connection, desired, { adopt, lockWaitSeconds: input.lockWaitSeconds })
  begin('upload')
  emit({ kind: 'started', batch, release })
  const uploaded = await uploadRelease(connection, {
    localDir: input.appDir,
    root,
    release,
    owner: siteUser(server, site),
    sitesPath: server.sitesPath,
  })
  applied('upload', uploaded)
  begin('switch')
  const switched = await switchCurrent(connection, { root, release })
  applied('switch', switched)
  begin('gate')
  const switchedAt = new Date()
  const previous = await rollbackTarget(connection, { root, release, previous: switched.previous, interrupted })
  if (previous !== switched.previous) emit({ kind: 'rollback-target', release, previous })
  let synced: ServerSyncResult | undefined
  let restart: ReleaseRestart | undefined
  try {
    synced = await syncServer(connection, desired, { adopt, lockWaitSeconds: input.lockWaitSeconds })
    if (synced.activation) applied('sync', synced)
    for (const change of synced.plan.changes.filter((c) => c.kind === 'adopt')) {
      const kept = synced.activation?.kept.get(change.path) ?? null
      emit({ kind: 'adopted', path: change.path, removed: !change.after, kept })
    }
    restart = await restartForRelease(connection, { programs, synced, mode: rollout.restart })
    if (restart.restarted.length) applied('restart', restart)
    emit({ kind: 'restarted', restart })
    if (restart.stopped) throw new RemoteError(server.name, restart.stopped)
    const health = rollout.healthCmd
      ? { command: rollout.healthCmd, user: siteUser(server, site), directory: uploaded.path }
      : undefined
    const gate = await passGate(connection, {
      desired,
      programs,
      currentPath: currentPath(root),
      release,
      checkRelease: rollout.restart !== 'none',
      waitSeconds: input.waitSeconds,
      holdSeconds: input.holdSeconds,
      ...(health ? { health } : {}),
      onProgress: (line) => emit({ kind: 'gate', line }),
    })
    if (!gate.passed) throw new RemoteError(server.name, gate.reason)
    emit({ kind: 'live', release, processes: gate.processes.length })
    begin('prune')
    const pruned = await pruneOldReleases(connection, {
      root,
      keep: input.keep,
      protect: [release, previous],
      interrupted,
      emit,
    })
    if (pruned.length) applied('prune', { removed: pruned })
    return { outcome: 'deployed', release, batch, switchedAt, gatePassedAt: gate.at, restart, pruned }
  } catch (error) {
    // Our own interrupt cut a step off: no failure, no rollback (the summary says where the server was left).
    if (isInterrupt(error, interrupted)) throw error
    const reason = messageOf(error)
    progress.step = 'rollback'
    progress.reason = reason
    emit({ kind: 'failed', reason })
    const onNewRelease = groupsOnNewRelease({
      programs,
      mode: rollout.restart,
      ...(synced ? { synced } : {}),
      ...(restart ? { restart } : {}),
    })
    const rollback = await rollBackServer(connection, {
      root,
      previous,
      ...(synced ? { synced } : {}),
      onNewRelease,
      desired,
      currentPath: currentPath(root),
      waitSeconds: input.waitSeconds,
      lockWaitSeconds: input.lockWaitSeconds,
    }).catch((rollbackError) => {
      throw isInterrupt(rollbackError, interrupted)
        ? rollbackError
        : new RemoteError(server.name, `${reason}; rollback failed: ${messageOf(rollbackError)}`)
    })
    applied('rollback', rollback)
    emit({ kind: 'rolled-back', release: rollback.release })
    return { outcome: 'rolled-back', release: rollback.release, batch, switchedAt, reason, rollback }
  }
}

/**
 * Where a rollback goes: where current pointed before the switch, unless that was this release already (this
 * deploy run again after an interrupt): then the release uploaded before it.
 */
async function rollbackTarget(
  connection: Connection,
  input: { root: string; release: string; previous: string | null; interrupted: AbortSignal },
): Promise<string | null> {
  if (input.previous === null || releaseName(input.previous) !== input.release) return input.previous
  return releaseBefore(connection, { root: input.root, release: input.release }).catch((error) => {
    if (isInterrupt(error, input.interrupted)) throw error
    return input.previous
  })
}

/** Keeps `keep` releases (current and previous always); a failed prune is a warning, the deploy stands. */
async function pruneOldReleases(
  connection: Connection,
  input: {
    root: string
    keep: number
    protect: (string | null)[]
    interrupted: AbortSignal
    emit: (event: DeployEvent) => void
  },
): Promise<string[]> {
  try {
    return (await pruneReleases(connection, { root: input.root, keep: input.keep, protect: input.protect })).removed
  } catch (error) {
    if (!isInterrupt(error, input.interrupted)) input.emit({ kind: 'prune-failed', reason: messageOf(error) })
    return []
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
