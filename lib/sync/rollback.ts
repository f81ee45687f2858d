import crypto from 'node:crypto'
import { fullName, markerProgram, parentDirectories } from '../layout.ts'
import type { Connection } from '../remote/connection.ts'
import type { RenderedFile } from '../render/program-files.ts'
import { type ActivationResult, activatePlan } from './activate.ts'
import { type FileChange, filesToUpload, type SyncPlan } from './plan.ts'
import type { LiveFile } from './read-state.ts'
import { stageFiles } from './stage.ts'

// Undoing an applied sync: the reverse plan puts every file back as the sync read it (changed and adopted files get
// their old bytes, owner and mode; added files are removed; removed files come back) and updates the same groups.
// It is activated like any plan, all-or-nothing under the server lock. Its expectations are the server as the sync
// left it: if another sync changed these files since, activation stops (STALE) and nothing is rolled back.

export function planRollback(plan: SyncPlan): SyncPlan {
  const changes = plan.changes.map((change) => reverseChange(change, plan))
  const expected = new Map(plan.expected)
  for (const change of plan.changes) expected.set(change.path, change.after ? sha256(change.after.content) : null)
  return {
    ...plan,
    changes,
    refused: [],
    // Directories the sync created stay (empty site roots are harmless); logs keep the owner and mode they have.
    directories: [],
    logs: [],
    groups: groupsOf(plan.changes),
    removedPrograms: plan.changes.flatMap((c) =>
      c.kind === 'add' && c.after?.updatesGroup && c.after.program ? [fullName(c.after.domain, c.after.program)] : [],
    ),
    missingScripts: [],
    needsActivation: changes.length > 0,
    expected,
  }
}

/** Stages and activates the reverse of an applied plan; returns what supervisor's update did (null: nothing to undo). */
export async function revertPlan(
  connection: Connection,
  plan: SyncPlan,
  options: { lockWaitSeconds: number },
): Promise<ActivationResult | null> {
  const rollback = planRollback(plan)
  if (!rollback.needsActivation) return null
  const staged = await stageFiles(connection, filesToUpload(rollback))
  try {
    return await activatePlan(connection, rollback, staged, { lockWaitSeconds: options.lockWaitSeconds })
  } finally {
    await staged.release()
  }
}

function reverseChange(change: FileChange, plan: Pick<SyncPlan, 'server' | 'layout'>): FileChange {
  const reason = 'rollback'
  if (change.kind === 'add') {
    const added = change.after as RenderedFile
    const prune = (added.directories ?? []).map((d) => d.path)
    const removal: FileChange = { kind: 'remove', path: change.path, before: asLive(added), reason }
    return prune.length ? { ...removal, pruneDirectories: prune } : removal
  }
  const restored = restoredFile(change, plan)
  if (change.kind === 'remove') return { kind: 'add', path: change.path, after: restored }
  return {
    kind: 'change',
    path: change.path,
    ...(change.after ? { before: asLive(change.after) } : {}),
    after: restored,
  }
}

/** The file as the sync found it, in the shape activation writes (in the directories it had, if a sync pruned them). */
function restoredFile(change: FileChange, plan: Pick<SyncPlan, 'server' | 'layout'>): RenderedFile {
  const before = change.before as LiveFile
  const context = { sitesPath: plan.server?.sitesPath ?? '', layout: plan.layout }
  const directories = before.spec?.parents ? parentDirectories(before.spec, before.path, context, before.owner) : []
  const shape = change.after ?? {
    kind: before.spec?.kind ?? 'file',
    domain: before.marker?.site ?? '',
    program: before.marker?.program ?? null,
    updatesGroup: before.spec?.updatesGroup ?? false,
    readPath: before.path,
    template: '',
  }
  return {
    ...shape,
    path: before.path,
    content: before.content,
    owner: before.owner,
    group: before.group,
    mode: before.mode,
    ...(directories.length ? { directories } : {}),
  }
}

function asLive(file: RenderedFile): LiveFile {
  return {
    path: file.path,
    content: file.content,
    owner: file.owner,
    group: file.group,
    mode: file.mode,
    marker: null,
    spec: null,
    sha256: sha256(file.content),
  }
}

/**
 * The groups whose conf the sync wrote, added or removed: the ones the rollback must update again. An imported
 * original the sync removed names its own group, so putting the file back starts that program again.
 */
function groupsOf(changes: FileChange[]): string[] {
  const groups = changes.flatMap((c) => {
    if (c.supervisorGroup) return [c.supervisorGroup]
    if (c.after?.updatesGroup && c.after.program) return [fullName(c.after.domain, c.after.program)]
    const program = c.before?.spec?.updatesGroup && c.before.marker ? markerProgram(c.before.marker) : null
    return program ? [program] : []
  })
  return [...new Set(groups)]
}

function sha256(content: string): string {
  return crypto.createHash('sha256').update(content).digest('hex')
}
