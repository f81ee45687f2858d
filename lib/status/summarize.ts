import type { ProcessStatus } from '../supervisorctl.ts'
import { daemonUnreachable } from '../supervisorctl.ts'
import { describeOwner, ownershipOf } from '../layout.ts'
import type { RenderedFile } from '../render/program-files.ts'
import type { DesiredState } from '../sync/desired.ts'
import type { LiveState } from '../sync/read-state.ts'
import { leftoverReason } from '../sync/plan.ts'

// What supervisor-status shows for one server: each inventory program with its processes and every way its files
// differ from what sync would write (drift), the site files' drift, our leftovers (files of programs or sites the
// inventory no longer places here), and the programs running there that the inventory does not know.

export interface ProgramStatus {
  domain: string
  program: string
  fullName: string
  expected: number
  processes: ProcessStatus[]
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
}

const UP = new Set(['RUNNING'])

export function summarizeStatus(desired: DesiredState, live: LiveState, options: { listUnknown: boolean }): ServerStatus {
  const processes = live.status?.processes ?? []
  const daemon = live.status && daemonUnreachable(live.status.output) ? 'down' : 'running'
  const known = new Set(desired.programs.map((p) => p.fullName))
  const programs = desired.programs.map((p): ProgramStatus => {
    const own = processes.filter((proc) => proc.group === p.fullName)
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
        ...(pending ? [`supervisor has not applied the conf on disk yet (reread: ${pending}); run supervisor-sync`] : []),
        ...(own.length > p.numprocs ? [`${own.length - p.numprocs} process(es) more than numprocs ${p.numprocs}: ${extraProcesses(own, p.numprocs).join(', ')}`] : []),
      ],
    }
  })
  const siteDrift = desired.files.filter((f) => f.program === null).flatMap((f) => fileDrift(f, live, desired.inventoryId))
  const wanted = new Set(desired.files.map((f) => f.path))
  const leftovers = [...live.files.values()].flatMap((file) => {
    const reason = leftoverReason(file, wanted, desired)
    return reason ? [{ path: file.path, reason }] : []
  })
  const unknownGroups = options.listUnknown ? [...new Set(processes.map((p) => p.group))].filter((g) => !known.has(g)) : []
  return {
    daemon,
    programs,
    siteDrift,
    leftovers,
    unknown: unknownGroups.map((group) => ({ group, processes: processes.filter((p) => p.group === group) })),
    healthy: daemon === 'running' && !siteDrift.length && !leftovers.length
      && programs.every((p) => p.running === p.expected && p.processes.length === p.expected && !p.drift.length),
  }
}

/** Every way one file on the server differs from what sync would write. */
function fileDrift(file: RenderedFile, live: LiveState, inventoryId: string): string[] {
  const current = live.files.get(file.path)
  if (!current) return [`${file.path} is missing (never synced?)`]
  const ownership = ownershipOf(current.content, inventoryId)
  if (ownership.kind !== 'ours') return [`${file.path} is not ours (owner: ${describeOwner(ownership)}); sync refuses it${ownership.kind === 'unmarked' ? ' unless --adopt' : ''}`]
  const drift: string[] = []
  if (current.content !== file.content) drift.push(`${file.path} differs from the inventory (edited by hand, or the inventory changed since the last sync)`)
  if (current.mode !== file.mode || current.owner !== file.owner || current.group !== file.group) {
    drift.push(`${file.path} has owner/mode ${current.owner}:${current.group} ${current.mode}, expected ${file.owner}:${file.group} ${file.mode}`)
  }
  return drift
}

// supervisor numbers processes from 0: with numprocs N, process names ending _NN with NN ≥ N are the extra ones.
function extraProcesses(processes: ProcessStatus[], numprocs: number): string[] {
  const numbered = processes.map((p) => ({ name: p.process, n: Number(/_(\d+)$/.exec(p.process)?.[1] ?? NaN) }))
  const extra = numbered.filter((p) => !(p.n < numprocs)).map((p) => p.name)
  return extra.length ? extra : processes.slice(numprocs).map((p) => p.process)
}
