import { createRequire } from 'node:module'
import { RemoteError } from '../errors.ts'
import {
  describeOwner,
  fullName,
  markerProgram,
  ownershipOf,
  parentDirectories,
  programLogPath,
  type ServerLayout,
} from '../layout.ts'
import { displayEnvironment, displayValue, environmentPairs, parseUnknownValue } from '../redact.ts'
import type { RenderedFile } from '../render/program-files.ts'
import { sameIgnoringUnknown } from '../secrets.ts'
import type { RemoteFile, Server } from '../types.ts'
import { isReservedEnvKey } from '../values.ts'
import type { DesiredDirectory, DesiredProgram, DesiredState } from './desired.ts'
import type { LiveFile, LiveState } from './read-state.ts'

// The difference between what a server holds and what the inventory says, as data: what to add, change, adopt,
// remove and refuse, and which supervisor groups must be updated. Pure, so --dry-run and tests see exactly what a
// sync would do. Ownership (lib/layout.ts): only files whose marker names this inventory are ours to change.

export interface FileChange {
  /** adopt: an unmarked file at a path we want, taken over with --adopt. */
  kind: 'add' | 'change' | 'adopt' | 'remove'
  path: string
  before?: LiveFile
  after?: RenderedFile
  /** For removals: why the file goes (its program left the inventory, or its site left this server). */
  reason?: string
  /** For removals: the contract's directories the file needed; activation removes those it created once empty. */
  pruneDirectories?: string[]
  /** An imported original's own supervisor group: updated away with it, and back by a rollback that restores it. */
  supervisorGroup?: string
}

/** A file at a path we want that is not ours: the server is refused, nothing there changes. */
export interface RefusedFile {
  path: string
  owner: string
}

export interface SyncPlan {
  server: Server
  /** The server's supervisord layout, as read. */
  layout: ServerLayout
  /** Program log files to keep private (created before supervisor first writes them). */
  logs: string[]
  changes: FileChange[]
  refused: RefusedFile[]
  directories: DesiredDirectory[]
  programs: DesiredProgram[]
  /** Groups `supervisorctl update` may touch: added, changed or removed programs of this scope. */
  groups: string[]
  removedPrograms: string[]
  missingScripts: string[]
  /** True when files differ or supervisor has not applied this scope's confs yet. */
  needsActivation: boolean
  /** What every file the server reported held when read (sha256, or null when absent): activation checks it. */
  expected: Map<string, string | null>
}

export function planSync(rendered: DesiredState, live: LiveState, options: { adopt?: boolean } = {}): SyncPlan {
  // Files go where the server's own supervisord config says: rendered for Debian's layout until it was read.
  const desired = rendered.forLayout(live.layout)
  assertConfDirHealthy(desired.server, live)
  const wanted = new Set(desired.files.map((f) => f.path))
  const changes: FileChange[] = []
  const refused: RefusedFile[] = []
  for (const file of desired.files) {
    const before = live.files.get(file.path)
    if (!before) {
      changes.push({ kind: 'add', path: file.path, after: file })
      continue
    }
    const ownership = ownershipOf(before.content, desired.inventoryId)
    if (ownership.kind === 'ours') {
      if (!sameFile(before, file)) changes.push({ kind: 'change', path: file.path, before, after: file })
    } else if (ownership.kind === 'unmarked' && options.adopt) {
      changes.push({ kind: 'adopt', path: file.path, before, after: file })
    } else {
      refused.push({ path: file.path, owner: describeOwner(ownership) })
    }
  }
  const originals = importedOriginals(desired, live, wanted, Boolean(options.adopt))
  changes.push(...originals.changes)
  refused.push(...originals.refused)
  const removedPrograms = new Set<string>()
  for (const file of live.files.values()) {
    const reason = leftoverReason(file, wanted, desired)
    if (!reason) continue
    const context = { sitesPath: desired.server.sitesPath, layout: live.layout }
    const prune = file.spec ? parentDirectories(file.spec, file.path, context).map((d) => d.path) : []
    const removal: FileChange = { kind: 'remove', path: file.path, before: file, reason }
    changes.push(prune.length ? { ...removal, pruneDirectories: prune } : removal)
    const program = file.marker && file.spec?.updatesGroup ? markerProgram(file.marker) : null
    if (program) removedPrograms.add(program)
  }
  const touched = changes.flatMap((c) =>
    c.after?.updatesGroup && c.after.program ? [fullName(c.after.domain, c.after.program)] : [],
  )
  const ours = [...desired.programs.map((p) => p.fullName), ...removedPrograms]
  const pending = ours.filter((g) => live.reread.pending.has(g))
  const groups = [...new Set([...touched, ...removedPrograms, ...pending, ...originals.groups])]
  return {
    server: desired.server,
    layout: live.layout,
    logs: desired.programs.map((p) => programLogPath(live.layout, p.fullName)),
    changes,
    refused,
    directories: desired.directories,
    programs: desired.programs,
    groups,
    removedPrograms: [...removedPrograms],
    missingScripts: live.missingScripts,
    needsActivation: changes.length > 0 || pending.length > 0,
    expected: new Map([
      ...[...live.files.values()].map((f) => [f.path, f.sha256] as const),
      ...desired.files.filter((f) => !live.files.has(f.path)).map((f) => [f.path, null] as const),
    ]),
  }
}

/**
 * A program supervisor-import brought in from another file (`imported_from`): with --adopt that original goes in the
 * same activation that writes ours (a copy kept, as for any adopted file), so supervisor never runs both. Refused
 * without --adopt, or when the file defines more than that one program.
 */
function importedOriginals(
  desired: DesiredState,
  live: LiveState,
  wanted: Set<string>,
  adopt: boolean,
): { changes: FileChange[]; refused: RefusedFile[]; groups: string[] } {
  const result = { changes: [] as FileChange[], refused: [] as RefusedFile[], groups: [] as string[] }
  for (const program of desired.programs) {
    const path = program.importedFrom
    const before = path && !wanted.has(path) ? live.files.get(path) : undefined
    if (!path || !before || ownershipOf(before.content, desired.inventoryId).kind !== 'unmarked') continue
    const sections = iniSections(before.content)
    const original = sections.length === 1 && sections[0]?.startsWith('program:') ? sections[0].slice(8) : null
    if (!original) {
      result.refused.push({
        path,
        owner: `the original of imported ${program.fullName}, which also defines ${sections.join(', ') || 'no program'}; split it by hand so the file holds only [program:...] of this program`,
      })
    } else if (!adopt) {
      result.refused.push({
        path,
        owner: `the original of imported ${program.fullName} (supervisor would run both); run with --adopt to remove it, keeping a copy`,
      })
    } else {
      result.changes.push({
        kind: 'adopt',
        path,
        before,
        reason: `imported original of ${program.fullName}, replaced by ours`,
        supervisorGroup: original,
      })
      result.groups.push(original)
    }
  }
  return result
}

/** The `[section]` names an INI file defines, in order (`program:mailer`, `group:pair`, ...). */
export function iniSections(content: string): string[] {
  return [...content.matchAll(/^\s*\[([^\]\n]*)\]/gm)].map((m) => (m[1] ?? '').trim())
}

/** Why a file the server holds, and the inventory no longer wants there, is ours to remove; null to keep it. */
export function leftoverReason(
  file: LiveFile,
  wanted: Set<string>,
  desired: Pick<DesiredState, 'inventoryId' | 'domains' | 'wholeServer'>,
): string | null {
  if (wanted.has(file.path) || !file.spec || !file.marker) return null
  if (ownershipOf(file.content, desired.inventoryId).kind !== 'ours') return null
  if (desired.domains.includes(file.marker.site))
    return `${file.marker.program ? `program ${file.marker.program}` : 'this file'} is no longer in the inventory for ${file.marker.site}`
  if (desired.wholeServer) return `site ${file.marker.site} is no longer placed on this server by the inventory`
  return null
}

/** The files a plan adds, changes or adopts: what stageFiles uploads. */
export function filesToUpload(plan: SyncPlan): RemoteFile[] {
  return plan.changes.flatMap((c) => (c.after ? [c.after] : []))
}

/** Refuses the server when a path we want holds a file that is not ours: nothing there is changed. */
export function assertNothingRefused(plan: SyncPlan): void {
  if (!plan.refused.length) return
  const list = plan.refused.map((r) => `${r.path} (owner: ${r.owner})`).join('; ')
  const adoptable = plan.refused.some((r) => r.owner.startsWith('no zx-supervisor marker'))
  throw new RemoteError(
    plan.server.name,
    `refused: ${list}; nothing was changed on this server.${adoptable ? ' To take over unmarked files (e.g. from DeployerPHP), run again with --adopt (try --dry-run --adopt first).' : ''} A file of another inventory is never taken over: rename the program or give the inventories distinct servers.`,
  )
}

// A value this run cannot know (its variable unset: only in plans that change nothing) is not a difference.
function sameFile(live: RemoteFile, wanted: RemoteFile): boolean {
  return (
    sameIgnoringUnknown(live.content, wanted.content) &&
    live.owner === wanted.owner &&
    live.group === wanted.group &&
    live.mode === wanted.mode
  )
}

/** Never make a broken conf.d worse, and say plainly when supervisord is down. */
function assertConfDirHealthy(server: Server, live: LiveState): void {
  if (!live.daemon.running) {
    throw new RemoteError(
      server.name,
      `supervisord is not running (${live.daemon.message ?? 'its socket does not answer'}); nothing was changed. Start it: npx zx tasks/supervisor-start.mjs --server ${server.name}`,
      live.daemon.message ?? '',
    )
  }
  if (live.reread.ok) return
  throw new RemoteError(
    server.name,
    `supervisor already rejects the configuration on this server, before any change of ours; nothing was changed. Fix or remove the file it names:\n${live.reread.message}`,
    live.reread.message,
  )
}

/** A unified diff of the plan, per file; environment values shown by the one rule of lib/redact.ts. */
export function formatPlanDiff(plan: SyncPlan): string {
  // Loaded here, not at import: only a run that shows a diff pays for the library.
  const { createTwoFilesPatch } = createRequire(import.meta.url)('diff') as typeof import('diff')
  return plan.changes
    .map((c) => {
      const isLiteral = literalKeys(c.after)
      return createTwoFilesPatch(
        c.before ? c.path : '/dev/null',
        c.after ? c.path : '/dev/null',
        displayEnvironment(c.before?.content ?? '', isLiteral),
        displayEnvironment(c.after?.content ?? '', isLiteral),
        metaLine(c.before, c.kind === 'adopt' ? ' (unmarked: adopted)' : ''),
        metaLine(c.after),
      )
    })
    .map((patch) => patch.replace(/^=+\n/, ''))
    .join('')
}

export interface EnvironmentChange {
  key: string
  /** As output shows it (lib/redact.ts); null where the key is absent. */
  before: string | null
  after: string | null
}

/**
 * The environment keys whose values differ between a file on the server and the one wanted, both sides shown by the
 * one rule: for --json and status drift. A value the run could not read is no difference.
 */
export function environmentChanges(
  before: RemoteFile | undefined,
  after: RenderedFile | undefined,
): EnvironmentChange[] {
  const isLiteral = literalKeys(after)
  const old = new Map(environmentPairs(before?.content ?? ''))
  const wanted = new Map(environmentPairs(after?.content ?? ''))
  const show = (key: string, value: string | undefined) =>
    value === undefined ? null : displayValue(key, value, isLiteral(key))
  return [...new Set([...old.keys(), ...wanted.keys()])]
    .filter((key) => old.get(key) !== wanted.get(key) && !parseUnknownValue(wanted.get(key) ?? ''))
    .map((key) => ({ key, before: show(key, old.get(key)), after: show(key, wanted.get(key)) }))
}

// Both sides of a change take the wanted file's word for which keys are literals (the server's file cannot say); a
// key it no longer writes, and any value of a file going away but the tool's own HOME, USER and DEPLOYER_*, is not
// known to be one.
function literalKeys(after: RenderedFile | undefined): (name: string) => boolean {
  if (!after) return isReservedEnvKey
  const literal = new Set(after.literalEnv ?? [])
  return (name) => literal.has(name)
}

function metaLine(file?: RemoteFile, note = ''): string {
  return file ? `${file.owner}:${file.group} ${file.mode}${note}` : ''
}
