import type { ProcessStatus } from '../supervisorctl.ts'
import { daemonUnreachable } from '../supervisorctl.ts'
import type { DesiredState } from '../sync/desired.ts'
import type { LiveState } from '../sync/read-state.ts'

// What supervisor-status shows for one server: each inventory program with its processes and drift, and the
// programs running there that the inventory does not know.

export interface ProgramStatus {
  domain: string
  program: string
  fullName: string
  expected: number
  processes: ProcessStatus[]
  running: number
  /** Why the live configuration differs from what sync would write, or null when it matches. */
  drift: string | null
}

export interface ServerStatus {
  daemon: 'running' | 'down'
  programs: ProgramStatus[]
  unknown: { group: string; processes: ProcessStatus[] }[]
  /** Every expected process is RUNNING. */
  healthy: boolean
}

const UP = new Set(['RUNNING'])

export function summarizeStatus(desired: DesiredState, live: LiveState, options: { listUnknown: boolean }): ServerStatus {
  const processes = live.status?.processes ?? []
  const daemon = live.status && daemonUnreachable(live.status.output) ? 'down' : 'running'
  const known = new Set(desired.programs.map((p) => p.fullName))
  const programs = desired.programs.map((p): ProgramStatus => {
    const own = processes.filter((proc) => proc.group === p.fullName)
    return {
      domain: p.domain,
      program: p.program,
      fullName: p.fullName,
      expected: p.numprocs,
      processes: own,
      running: own.filter((proc) => UP.has(proc.state)).length,
      drift: driftOf(p.fullName, desired, live),
    }
  })
  const unknownGroups = options.listUnknown ? [...new Set(processes.map((p) => p.group))].filter((g) => !known.has(g)) : []
  return {
    daemon,
    programs,
    unknown: unknownGroups.map((group) => ({ group, processes: processes.filter((p) => p.group === group) })),
    healthy: daemon === 'running' && programs.every((p) => p.running === p.expected && p.processes.length === p.expected),
  }
}

function driftOf(fullName: string, desired: DesiredState, live: LiveState): string | null {
  for (const file of desired.files.filter((f) => f.path.endsWith(`/${fullName}.conf`) || f.path.endsWith(`/supervisor-${fullName}.conf`))) {
    const current = live.files.get(file.path)
    if (!current) return `${file.path} is missing (never synced?)`
    if (current.content !== file.content) return `${file.path} differs from the inventory (edited by hand, or the inventory changed since the last sync)`
    if (current.mode !== file.mode || current.owner !== file.owner) return `${file.path} has owner/mode ${current.owner} ${current.mode}, expected ${file.owner} ${file.mode}`
  }
  const pending = live.reread.pending.get(fullName)
  if (pending) return `supervisor has not applied the conf on disk yet (reread: ${pending}); run supervisor-sync`
  return null
}
