import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import { auditEntry, auditOf } from '../audit.ts'
import { RemoteError } from '../errors.ts'
import {
  ACTIVATION_RUNS,
  adoptionDir,
  CREATED_DIRECTORIES,
  discoveryPatterns,
  fullName,
  KEPT_ORIGINAL,
  keptOriginalPath,
  MARKER_TOKEN,
  type ManagedFileSpec,
  markerProgram,
  PROGRAM_LOG,
  SERVER_LOCK,
  STAGE_PREFIX,
} from '../layout.ts'
import { packageFile } from '../project.ts'
import type { CommandResult, Connection } from '../remote/connection.ts'
import { DETACH_FAILED, DETACHED_LOST, runDetached } from '../remote/detached.ts'
import { renderServerFiles, type ServerFile } from '../render/server-files.ts'
import type { UpdateResult } from '../supervisor/process.ts'
import { layoutOptions, supervisorScript } from '../supervisor/rpc.ts'
import type { SyncPlan } from './plan.ts'
import type { StagedFiles } from './stage.ts'

// Runs activate.sh on the server: under the server lock, check, back up, swap in, let supervisor judge (reread),
// restore if it rejects; then, with the lock released, update only the groups that changed (one group lock each).
// It runs detached from the SSH session, so a dropped connection cannot stop it: the files end fully old or fully
// new, and the changed groups are updated, with or without the client.

export interface ActivationResult {
  update: UpdateResult
  output: string
  /** Adopted file → where its original is kept on the server (root's, 0600), so the migration can be undone. */
  kept: Map<string, string>
}

/** A group whose old processes are still stopping: shown while a sync waits for it (up to its stopwaitsecs). */
export interface StoppingProcess {
  process: string
  since: Date
  stopwaitsecs: string
}

/** Another sync changed this scope's files between our read and our activation; nothing was changed: plan again. */
export class StaleStateError extends RemoteError {
  constructor(server: string, output: string) {
    super(
      server,
      `another sync changed this site's files on the server while this one was planning; nothing was changed (${output.split('\n')[0]})`,
      output,
    )
    this.name = 'StaleStateError'
  }
}

const ACTIVATE_SCRIPT = packageFile('lib/sync/activate.sh')

export async function activatePlan(
  connection: Connection,
  plan: SyncPlan,
  staged: StagedFiles,
  options: { lockWaitSeconds: number; onStopping?: (process: StoppingProcess) => void },
): Promise<ActivationResult> {
  const kept = keptOriginals(plan)
  const args = activationArgs(plan, {
    stageDir: staged.remoteDir,
    stagedNames: staged.names,
    lockWaitSeconds: options.lockWaitSeconds,
    login: loginUser(connection),
    pythonSource: await supervisorScript(),
    kept,
    serverFiles: renderServerFiles(),
    audit: auditEntry(auditOf(connection), connection.server.name, 'sync', {
      files: plan.changes.map((change) => change.path),
      groups: { updated: plan.groups },
    }),
  })
  const script = await fs.readFile(ACTIVATE_SCRIPT, 'utf8')
  let result: CommandResult
  try {
    result = await runDetached(
      connection,
      ACTIVATION_RUNS,
      'activate',
      script,
      args,
      options.onStopping ? { onLine: stoppingLines(options.onStopping, runningStopWaits(plan)) } : {},
    )
  } catch (error) {
    if (error instanceof RemoteError) {
      error.message +=
        '; the server finishes or rolls back the activation on its own (it runs detached from this connection): check with supervisor-status, then run supervisor-sync again'
    }
    throw error
  }
  const server = connection.server.name
  const output = result.stdout.trim()
  const tail = output.split('\n').slice(1).join('\n')
  switch (result.exitCode) {
    case 0:
      return { update: parseApplyLines(output), output, kept }
    case 1: {
      const failed = output
        .split('\n')
        .filter((l) => /^(BUSY|REJECTED|FAILED) /.test(l))
        .map(describeApplyFailure)
      throw new RemoteError(
        server,
        `the new configuration is in place but updating supervisor failed: ${failed.join('; ') || output}; run supervisor-sync again`,
        output,
      )
    }
    case 65:
      throw new RemoteError(
        server,
        `supervisor rejected the configuration already on the server before our change; nothing was changed:\n${tail}`,
        output,
      )
    case 66:
      throw new RemoteError(
        server,
        `supervisor rejected the new configuration; the previous files were restored and running programs were not touched:\n${tail}`,
        output,
      )
    case 68:
      throw new RemoteError(
        server,
        `could not write ${
          output
            .split('\n')
            .find((l) => l.startsWith('WRITE-FAILED'))
            ?.slice(13) ?? 'a file'
        } (read-only or full disk?); the previous files were restored:\n${output}`,
        output,
      )
    case 69:
      throw new RemoteError(
        server,
        `supervisord stopped answering before our change; nothing was changed. Start it: npx zx tasks/supervisor-start.mjs --server ${server}`,
        output,
      )
    case 76:
      throw new StaleStateError(server, output)
    case DETACHED_LOST:
      throw new RemoteError(
        server,
        `the activation was killed on the server before it ended; check the server with supervisor-status, then run supervisor-sync again:\n${output}`,
        output,
      )
    case DETACH_FAILED:
      throw new RemoteError(
        server,
        `could not start the activation: ${ACTIVATION_RUNS} cannot be created (read-only or full disk?); nothing was changed`,
        output,
      )
    case 75:
      throw new RemoteError(
        server,
        `another sync holds this server's lock (waited ${options.lockWaitSeconds}s); nothing was changed. Try again when it is done.`,
        output,
      )
    default:
      throw new RemoteError(
        server,
        `activation failed (exit ${result.exitCode}); check the server with supervisor-status, then run supervisor-sync again:\n${output}\n${result.stderr}`.trim(),
        output,
      )
  }
}

export interface ActivationInput {
  /** The staging directory on the server, and each destination path's file name in it. */
  stageDir: string
  stagedNames: Map<string, string>
  lockWaitSeconds: number
  /** Who owns this run's staging directories (activation sweeps that user's abandoned ones). */
  login: string
  /** lib/supervisor/supervisor.py, run by the script for reread and apply. */
  pythonSource: string
  /** Adopted file → where its original is kept. */
  kept: Map<string, string>
  /** The server contract (lib/layout.ts); a test passes a copy. */
  contract?: ManagedFileSpec[]
  /** The client's part of this activation's audit line (lib/audit.ts); none: no line. */
  audit?: string
  /** Server-wide files (lib/layout.ts SERVER_FILES), written only where missing. */
  serverFiles?: ServerFile[]
}

/** activate.sh's arguments for a plan, in the order the script reads them: a pure function of the plan. */
export function activationArgs(plan: SyncPlan, input: ActivationInput): string[] {
  const args = [
    input.stageDir,
    String(input.lockWaitSeconds),
    SERVER_LOCK,
    STAGE_PREFIX,
    input.login,
    MARKER_TOKEN,
    CREATED_DIRECTORIES,
    input.pythonSource,
  ]
  for (const option of layoutOptions(plan.server)) args.push('pyopt', option)
  if (input.audit) args.push('audit', input.audit)
  const patterns = discoveryPatterns(plan.server.sitesPath, plan.layout, input.contract)
  for (const pattern of patterns) args.push('pattern', pattern)
  for (const [path, sha256] of plan.expected) args.push('expect', path, sha256 ?? '-')
  for (const dir of plan.directories) args.push('dir', dir.path, dir.owner, dir.group, dir.mode)
  const needed = new Map(plan.changes.flatMap((c) => c.after?.directories ?? []).map((dir) => [dir.path, dir]))
  for (const dir of needed.values()) args.push('ourdir', dir.path, dir.owner, dir.group, dir.mode)
  for (const change of plan.changes) {
    const copy = input.kept.get(change.path)
    if (copy) args.push('keep', change.path, copy, KEPT_ORIGINAL.owner, KEPT_ORIGINAL.group, KEPT_ORIGINAL.mode)
    if (!change.after) args.push('remove', change.path)
    else {
      const { owner, group, mode } = change.after
      args.push('put', input.stagedNames.get(change.path) as string, change.path, owner, group, mode)
    }
  }
  for (const file of input.serverFiles ?? [])
    args.push('serverfile', file.path, file.owner, file.group, file.mode, file.content)
  // Deepest first, so a directory emptied by pruning its last subdirectory goes too.
  const prune = [...new Set(plan.changes.flatMap((c) => c.pruneDirectories ?? []))].filter((dir) => !needed.has(dir))
  for (const dir of prune.sort((a, b) => b.split('/').length - a.split('/').length)) args.push('prune', dir)
  for (const log of plan.logs) args.push('log', log, PROGRAM_LOG.owner, PROGRAM_LOG.group, PROGRAM_LOG.mode)
  for (const group of plan.groups) args.push('group', group)
  return args
}

/** Where this activation keeps the original of each file it adopts: one new directory per sync. */
function keptOriginals(plan: SyncPlan): Map<string, string> {
  const adopted = plan.changes.filter((c) => c.kind === 'adopt')
  if (!adopted.length) return new Map()
  const dir = adoptionDir(new Date(), crypto.randomBytes(3).toString('hex'))
  return new Map(adopted.map((c) => [c.path, keptOriginalPath(dir, c.path)]))
}

/** `DONE <group> added|updated|removed|unchanged` lines of supervisor.py apply. */
export function parseApplyLines(output: string): UpdateResult {
  const result: UpdateResult = { added: [], updated: [], removed: [] }
  for (const line of output.split('\n')) {
    const match = /^DONE (\S+) (added|updated|removed)$/.exec(line.trim())
    if (match) result[match[2] as keyof UpdateResult].push(match[1] as string)
  }
  return result
}

function describeApplyFailure(line: string): string {
  const [kind, group, ...rest] = line.split(' ')
  if (kind === 'BUSY') return `${group}: another sync is updating it (waited ${rest[0]}s)`
  return `${group}: ${rest.join(' ')}`
}

/**
 * `STOPPING <group:process> <since epoch> <stopwaitsecs>` lines, as they arrive. supervisor reports the new conf's
 * stopwaitsecs; the process that is stopping runs under the old one, which the conf read before the sync says.
 */
function stoppingLines(
  onStopping: (process: StoppingProcess) => void,
  running: Map<string, string>,
): (line: string) => void {
  return (line) => {
    const match = /^STOPPING (\S+) (\d+) (\S+)$/.exec(line.trim())
    if (!match) return
    const process = match[1] as string
    onStopping({
      process,
      since: new Date(Number(match[2]) * 1000),
      stopwaitsecs: running.get(process.split(':')[0] as string) ?? (match[3] as string),
    })
  }
}

/** Group → the stopwaitsecs its running processes were started with (from the confs this sync replaces). */
export function runningStopWaits(plan: Pick<SyncPlan, 'changes'>): Map<string, string> {
  const waits = new Map<string, string>()
  for (const change of plan.changes) {
    const seconds = change.before && /^stopwaitsecs\s*=\s*(\d+)/m.exec(change.before.content)?.[1]
    // An adopted conf has no marker: its group is the one the new conf takes over.
    const group = change.before?.marker
      ? markerProgram(change.before.marker)
      : change.after?.program
        ? fullName(change.after.domain, change.after.program)
        : null
    if (seconds && group) waits.set(group, seconds)
  }
  return waits
}

/** Who owns this run's staging directories on the server (for `host: local`, the user running the task). */
function loginUser(connection: Connection): string {
  return connection.login.user
}
