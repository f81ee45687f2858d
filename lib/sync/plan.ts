import { createTwoFilesPatch } from 'diff'
import type { RemoteFile, Server } from '../types.ts'
import { RemoteError } from '../errors.ts'
import { daemonUnreachable } from '../supervisorctl.ts'
import { fingerprintEnvironment } from '../redact.ts'
import type { DesiredDirectory, DesiredProgram, DesiredState } from './desired.ts'
import type { LiveFile, LiveState } from './read-state.ts'

// The difference between what a server holds and what the inventory says, as data: what to add, change, remove,
// and which supervisor groups must be updated. Pure, so --dry-run and tests see exactly what a sync would do.

export interface FileChange {
  kind: 'add' | 'change' | 'remove'
  path: string
  before?: LiveFile
  after?: RemoteFile
}

export interface SyncPlan {
  server: Server
  changes: FileChange[]
  directories: DesiredDirectory[]
  programs: DesiredProgram[]
  /** Groups `supervisorctl update` may touch: added, changed or removed programs of this scope. */
  groups: string[]
  removedPrograms: string[]
  missingScripts: string[]
  /** True when files differ or supervisor has not applied this scope's confs yet. */
  needsActivation: boolean
  /** The sites of this scope, and what every path of the scope held when read (sha256, or null when absent). */
  domains: string[]
  expected: Map<string, string | null>
}

export function planSync(desired: DesiredState, live: LiveState): SyncPlan {
  assertConfDirHealthy(desired.server, live)
  const wanted = new Set(desired.files.map((f) => f.path))
  const changes: FileChange[] = []
  for (const file of desired.files) {
    const before = live.files.get(file.path)
    if (!before) changes.push({ kind: 'add', path: file.path, after: file })
    else if (!sameFile(before, file)) changes.push({ kind: 'change', path: file.path, before, after: file })
  }
  const removedPrograms = new Set<string>()
  for (const file of live.files.values()) {
    if (wanted.has(file.path) || !file.managed || !desired.domains.includes(file.managed.domain)) continue
    changes.push({ kind: 'remove', path: file.path, before: file })
    removedPrograms.add(`${file.managed.domain}-${file.managed.program}`)
  }
  const touched = new Set(changes.flatMap((c) => (c.after ?? c.before)?.path.startsWith('/etc/supervisor/') ? [groupOfConf(c)] : []))
  const ours = [...desired.programs.map((p) => p.fullName), ...removedPrograms]
  const pending = ours.filter((g) => live.reread.pending.has(g))
  const groups = [...new Set([...touched, ...pending])].filter((g): g is string => Boolean(g))
  return {
    server: desired.server,
    changes,
    directories: desired.directories,
    programs: desired.programs,
    groups,
    removedPrograms: [...removedPrograms],
    missingScripts: live.missingScripts,
    needsActivation: changes.length > 0 || pending.length > 0,
    domains: desired.domains,
    expected: new Map([...[...live.files.values()].map((f) => [f.path, f.sha256] as const), ...desired.files.filter((f) => !live.files.has(f.path)).map((f) => [f.path, null] as const)]),
  }
}

/** The files a plan adds or changes: what stageFiles uploads. */
export function filesToUpload(plan: SyncPlan): RemoteFile[] {
  return plan.changes.flatMap((c) => (c.after ? [c.after] : []))
}

function groupOfConf(change: FileChange): string | undefined {
  const marker = change.after ? /^[;#] zx-supervisor site=(\S+) program=(\S+)/.exec(change.after.content) : null
  if (marker) return `${marker[1]}-${marker[2]}`
  return change.before?.managed ? `${change.before.managed.domain}-${change.before.managed.program}` : undefined
}

function sameFile(live: RemoteFile, wanted: RemoteFile): boolean {
  return live.content === wanted.content && live.owner === wanted.owner && live.group === wanted.group && live.mode === wanted.mode
}

/** Never make a broken conf.d worse, and say plainly when supervisord is down. */
function assertConfDirHealthy(server: Server, live: LiveState): void {
  if (live.reread.exitCode === 0) return
  if (daemonUnreachable(live.reread.output)) {
    throw new RemoteError(server.name, `supervisord is not running (supervisorctl cannot reach its socket); nothing was changed. Start it: npx zx tasks/supervisor-start.mjs --server ${server.name}`, live.reread.output)
  }
  throw new RemoteError(server.name, `supervisor already rejects the configuration on this server, before any change of ours; nothing was changed. Fix or remove the file it names:\n${live.reread.output}`, live.reread.output)
}

/** A unified diff of the plan, per file; environment values appear only as fingerprints. */
export function formatPlanDiff(plan: SyncPlan): string {
  return plan.changes
    .map((c) => createTwoFilesPatch(c.before ? c.path : '/dev/null', c.after ? c.path : '/dev/null', fingerprintEnvironment(c.before?.content ?? ''), fingerprintEnvironment(c.after?.content ?? ''), metaLine(c.before), metaLine(c.after)))
    .map((patch) => patch.replace(/^=+\n/, ''))
    .join('')
}

function metaLine(file?: RemoteFile): string {
  return file ? `${file.owner}:${file.group} ${file.mode}` : ''
}
