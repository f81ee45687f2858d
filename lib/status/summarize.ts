import type { LastChange } from '../audit.ts'
import { describeOwner, ownershipOf } from '../layout.ts'
import type { RenderedFile } from '../render/program-files.ts'
import { sameIgnoringUnknown } from '../secrets.ts'
import type { ProcessStatus } from '../supervisor/process.ts'
import type { DesiredProgram, DesiredState } from '../sync/desired.ts'
import { environmentChanges, iniSections, leftoverReason } from '../sync/plan.ts'
import type { LiveFile, LiveState } from '../sync/read-state.ts'

// What supervisor-status shows for one server: each inventory program with its processes and every way its files
// differ from what sync would write (drift), the site files' drift, our leftovers (files of programs or sites the
// inventory no longer places here), and the programs running there that the inventory does not know.

/** A process, with the release it really runs and whether that is the one `current` points to. */
export interface ProcessWithRelease extends ProcessStatus {
  /** The release directory name the process runs (from its environment or working directory), when known. */
  release: string | null
  /** It runs another release than `current` points to: it needs a restart to pick up the deploy. */
  stale: boolean
}

export interface ProgramStatus {
  domain: string
  program: string
  fullName: string
  expected: number
  processes: ProcessWithRelease[]
  running: number
  /** Every way the program's live files or processes differ from the inventory; empty when they match. */
  drift: string[]
}

export interface ServerStatus {
  daemon: 'running' | 'down'
  programs: ProgramStatus[]
  /** Drift of per-site files (runner.sh, ...). */
  siteDrift: string[]
  /** Files of ours that a sync covering this server would remove. */
  leftovers: { path: string; reason: string }[]
  unknown: { group: string; processes: ProcessStatus[] }[]
  /** Every expected process is RUNNING and nothing differs from the inventory. */
  healthy: boolean
  /** The last line of the server's audit trail: who changed it last, when, and how that ended (null: none). */
  lastChange?: LastChange | null
}

const UP = new Set(['RUNNING'])

export function summarizeStatus(
  rendered: DesiredState,
  live: LiveState,
  options: { listUnknown: boolean },
): ServerStatus {
  const desired = rendered.forLayout(live.layout)
  const processes = live.processes ?? []
  const daemon = live.daemon.running ? 'running' : 'down'
  const known = new Set(desired.programs.map((p) => p.fullName))
  const wanted = new Set(desired.files.map((f) => f.path))
  const programs = desired.programs.map((p): ProgramStatus => {
    const current = live.currents.get(p.currentPath) ?? null
    const own = processes.filter((proc) => proc.group === p.fullName).map((proc) => withRelease(proc, current))
    const stale = own.filter((proc) => proc.stale)
    const files = desired.files.filter((f) => f.domain === p.domain && f.program === p.program)
    const pending = live.reread.pending.get(p.fullName)
    return {
      domain: p.domain,
      program: p.program,
      fullName: p.fullName,
      expected: p.numprocs,
      processes: own,
      running: own.filter((proc) => UP.has(proc.state)).length,
      drift: [
        ...files.flatMap((f) => fileDrift(f, live, desired.inventoryId)),
        ...importedOriginalDrift(p, live, wanted, desired.inventoryId),
        ...(pending
          ? [`supervisor has not applied the conf on disk yet (reread: ${pending}); run supervisor-sync`]
          : []),
        ...(own.length > p.numprocs
          ? [
              `${own.length - p.numprocs} process(es) more than numprocs ${p.numprocs}: ${extraProcesses(own, p.numprocs).join(', ')}`,
            ]
          : []),
        ...(stale.length
          ? [
              `${stale.map((proc) => `${proc.process} runs release ${proc.release}`).join(', ')}, not the current ${basename(current)}: restart to pick up the deploy (supervisor-restart --domain ${p.domain} --program ${p.program})`,
            ]
          : []),
      ],
    }
  })
  const siteDrift = desired.files
    .filter((f) => f.program === null)
    .flatMap((f) => fileDrift(f, live, desired.inventoryId))
  const leftovers = [...live.files.values()].flatMap((file) => {
    const reason = leftoverReason(file, wanted, desired)
    return reason ? [{ path: file.path, reason }] : []
  })
  const unknownGroups = options.listUnknown
    ? [...new Set(processes.map((p) => p.group))].filter((g) => !known.has(g))
    : []
  return {
    daemon,
    programs,
    siteDrift,
    leftovers,
    unknown: unknownGroups.map((group) => ({ group, processes: processes.filter((p) => p.group === group) })),
    healthy:
      daemon === 'running' &&
      !siteDrift.length &&
      !leftovers.length &&
      programs.every((p) => p.running === p.expected && p.processes.length === p.expected && !p.drift.length),
    ...(live.lastChange !== undefined ? { lastChange: live.lastChange } : {}),
  }
}

/** The release a running process was started from: DEPLOYER_RELEASE_PATH in its environment, else its directory. */
function withRelease(process: ProcessStatus, current: string | null): ProcessWithRelease {
  const runs = process.releasePath ?? process.cwd
  if (!runs || process.state !== 'RUNNING') return { ...process, release: runs ? basename(runs) : null, stale: false }
  return { ...process, release: basename(runs), stale: current !== null && !sameRelease(runs, current) }
}

// The process's path is the release directory itself, or a folder inside it (a worker that changed directory).
function sameRelease(runs: string, current: string): boolean {
  return runs === current || runs.startsWith(`${current}/`)
}

function basename(path: string | null): string {
  return path ? (path.replace(/\/+$/, '').split('/').pop() ?? path) : '(none)'
}

/** Every way one file on the server differs from what sync would write. */
function fileDrift(file: RenderedFile, live: LiveState, inventoryId: string): string[] {
  const current = live.files.get(file.path)
  if (!current) return [`${file.path} is missing (never synced?)`]
  const ownership = ownershipOf(current.content, inventoryId)
  if (ownership.kind !== 'ours')
    return [
      `${file.path} is not ours (owner: ${describeOwner(ownership)}); sync refuses it${ownership.kind === 'unmarked' ? ' unless --adopt' : ''}`,
    ]
  const drift: string[] = []
  // A value the run could not read ("unknown (VAR unset)") is left out: not knowing it is not drift.
  if (!sameIgnoringUnknown(current.content, file.content))
    drift.push(
      `${file.path} differs from the inventory (edited by hand, or the inventory changed since the last sync)${environmentDrift(current, file)}`,
    )
  if (current.mode !== file.mode || current.owner !== file.owner || current.group !== file.group) {
    drift.push(
      `${file.path} has owner/mode ${current.owner}:${current.group} ${current.mode}, expected ${file.owner}:${file.group} ${file.mode}`,
    )
  }
  return drift
}

/**
 * An imported program whose original (imported_from, not the conf sync writes) is still on the server, unmarked and
 * defining a program: supervisor runs that beside ours (or instead, until the first sync), so it is drift until an
 * --adopt sync removes it.
 */
function importedOriginalDrift(
  program: DesiredProgram,
  live: LiveState,
  wanted: Set<string>,
  inventoryId: string,
): string[] {
  const path = program.importedFrom
  const original = path && !wanted.has(path) ? live.files.get(path) : undefined
  if (!original || ownershipOf(original.content, inventoryId).kind !== 'unmarked') return []
  const groups = iniSections(original.content).flatMap((s) => (s.startsWith('program:') ? [s.slice(8)] : []))
  if (!groups.length) return []
  return [
    `imported original ${path} still defines ${groups.join(', ')}: supervisor runs both; run supervisor-sync --domain ${program.domain} --adopt`,
  ]
}

// Which variables differ, server → inventory, values shown by the one rule of lib/redact.ts.
function environmentDrift(current: LiveFile, file: RenderedFile): string {
  const changes = environmentChanges(current, file)
  return changes.length
    ? `; environment (server → inventory): ${changes.map((c) => `${c.key} ${c.before ?? '(unset)'} → ${c.after ?? '(unset)'}`).join(', ')}`
    : ''
}

// supervisor numbers processes from 0: with numprocs N, process names ending _NN with NN ≥ N are the extra ones.
function extraProcesses(processes: ProcessStatus[], numprocs: number): string[] {
  const numbered = processes.map((p) => ({ name: p.process, n: Number(/_(\d+)$/.exec(p.process)?.[1] ?? NaN) }))
  const extra = numbered.filter((p) => !(p.n < numprocs)).map((p) => p.name)
  return extra.length ? extra : processes.slice(numprocs).map((p) => p.process)
}
