import { failureOf } from '../errors.ts'
import type { ServerOutcome } from '../fleet.ts'
import type { ServerStatus } from '../status/summarize.ts'
import type { Inventory, Server } from '../types.ts'

// What the dashboard page draws, built from the same per-server status supervisor-status prints: a grid of sites ×
// servers whose cells hold each program's processes, badges for drift, leftovers and stale releases, and a summary.
// Pure: the page never sees a Server, a connection or an environment value (drift notes come redacted from status).

export type CellState = 'RUNNING' | 'STARTING' | 'BACKOFF' | 'STOPPED' | 'FATAL' | 'EXITED' | 'NOT LOADED' | 'OTHER'

export interface ViewProcess {
  name: string
  state: string
  pid: number | null
  uptime: string
  release: string | null
  stale: boolean
  /** supervisor's reason and the last log line, for a process that gave up or exited. */
  note: string
}

export interface ViewProgram {
  program: string
  fullName: string
  expected: number
  running: number
  processes: ViewProcess[]
  drift: string[]
  stale: boolean
  /** Anything that is not every expected process RUNNING with no drift. */
  problem: boolean
}

export interface ViewCell {
  domain: string
  server: string
  programs: ViewProgram[]
  /** The cell's worst state, for its colour and icon. */
  state: CellState | 'UNREACHABLE' | 'DAEMON DOWN'
  problem: boolean
}

export interface ViewServer {
  name: string
  groups: string[]
  reached: boolean
  /** Why the server could not be read (unreachable, sudo needs a password, ...). */
  error: string | null
  daemon: 'running' | 'down' | 'unknown'
  leftovers: { path: string; reason: string }[]
  siteDrift: string[]
  unknown: { group: string; states: string[] }[]
}

export interface DashboardView {
  /** ISO time of the refresh this view comes from. */
  at: string
  sites: { domain: string; servers: string[] }[]
  servers: ViewServer[]
  cells: ViewCell[]
  summary: { servers: number; reached: number; running: number; wanted: number; problems: number }
  allowControl: boolean
}

/** Sites and the servers each one is placed on, in inventory order (the grid's rows and columns). */
export interface GridShape {
  sites: { domain: string; servers: string[] }[]
}

/** The grid for these servers: every site placed on one of them (only `domain`'s with --domain), in inventory order. */
export function gridShape(inventory: Inventory, servers: Server[], domain?: string): GridShape {
  const watched = new Set(servers.map((s) => s.name))
  return {
    sites: inventory.sites
      .filter((site) => !domain || site.domain === domain)
      .map((site) => ({ domain: site.domain, servers: site.servers.filter((name) => watched.has(name)) }))
      .filter((site) => site.servers.length > 0),
  }
}

// Worst first: the cell shows the first of these any of its programs has.
const SEVERITY: ViewCell['state'][] = [
  'UNREACHABLE',
  'DAEMON DOWN',
  'FATAL',
  'BACKOFF',
  'EXITED',
  'NOT LOADED',
  'STOPPED',
  'OTHER',
  'STARTING',
  'RUNNING',
]
const EXPLAINED = new Set(['FATAL', 'BACKOFF', 'EXITED'])

export function buildView(
  shape: GridShape,
  outcomes: ServerOutcome<ServerStatus>[],
  options: { at: Date; allowControl: boolean },
): DashboardView {
  const byServer = new Map(outcomes.map((o) => [o.server.name, o]))
  const servers = outcomes.map((o) => viewServer(o))
  const cells = shape.sites.flatMap((site) =>
    site.servers.flatMap((name) => {
      const outcome = byServer.get(name)
      return outcome ? [viewCell(site.domain, outcome)] : []
    }),
  )
  const programs = cells.flatMap((c) => c.programs)
  return {
    at: options.at.toISOString(),
    sites: shape.sites.map((s) => ({ domain: s.domain, servers: s.servers.filter((n) => byServer.has(n)) })),
    servers,
    cells,
    summary: {
      servers: servers.length,
      reached: servers.filter((s) => s.reached).length,
      running: programs.reduce((n, p) => n + p.running, 0),
      wanted: cells.reduce((n, c) => n + (c.state === 'UNREACHABLE' ? 0 : sum(c.programs.map((p) => p.expected))), 0),
      problems:
        cells.filter((c) => c.problem).length +
        servers.filter((s) => s.reached && (s.leftovers.length > 0 || s.siteDrift.length > 0)).length,
    },
    allowControl: options.allowControl,
  }
}

function viewServer(outcome: ServerOutcome<ServerStatus>): ViewServer {
  const base = { name: outcome.server.name, groups: serverGroups(outcome.server) }
  if (!outcome.ok)
    return {
      ...base,
      reached: false,
      error: `${failureOf(outcome.error)}: ${messageOf(outcome.error)}`,
      daemon: 'unknown',
      leftovers: [],
      siteDrift: [],
      unknown: [],
    }
  const status = outcome.value
  return {
    ...base,
    reached: true,
    error: null,
    daemon: status.daemon,
    leftovers: status.leftovers,
    siteDrift: status.siteDrift,
    unknown: status.unknown.map((u) => ({ group: u.group, states: u.processes.map((p) => p.state) })),
  }
}

function viewCell(domain: string, outcome: ServerOutcome<ServerStatus>): ViewCell {
  const server = outcome.server.name
  if (!outcome.ok) return { domain, server, programs: [], state: 'UNREACHABLE', problem: true }
  const programs = outcome.value.programs
    .filter((p) => p.domain === domain)
    .map((p): ViewProgram => {
      const processes = p.processes.map(
        (proc): ViewProcess => ({
          name: proc.process,
          state: proc.state,
          pid: proc.pid ?? null,
          uptime: proc.uptime ?? '',
          release: proc.release,
          stale: proc.stale,
          note: EXPLAINED.has(proc.state)
            ? [proc.spawnerr, proc.lastLog ? `last log line: ${proc.lastLog}` : ''].filter(Boolean).join('; ')
            : '',
        }),
      )
      const problem =
        p.running !== p.expected ||
        processes.length !== p.expected ||
        p.drift.length > 0 ||
        processes.some((x) => x.stale)
      return {
        program: p.program,
        fullName: p.fullName,
        expected: p.expected,
        running: p.running,
        processes,
        drift: p.drift,
        stale: processes.some((x) => x.stale),
        problem,
      }
    })
  const daemonDown = outcome.value.daemon === 'down'
  return {
    domain,
    server,
    programs,
    state: daemonDown ? 'DAEMON DOWN' : worstState(programs),
    problem: daemonDown || programs.some((p) => p.problem),
  }
}

function worstState(programs: ViewProgram[]): ViewCell['state'] {
  const states = new Set<ViewCell['state']>()
  for (const p of programs) {
    if (!p.processes.length) states.add('NOT LOADED')
    for (const proc of p.processes) states.add(cellState(proc.state))
  }
  return SEVERITY.find((s) => states.has(s)) ?? 'RUNNING'
}

function cellState(state: string): CellState {
  return (['RUNNING', 'STARTING', 'BACKOFF', 'STOPPED', 'FATAL', 'EXITED'] as const).find((s) => s === state) ?? 'OTHER'
}

function serverGroups(server: Server): string[] {
  return [...server.groups]
}

function sum(values: number[]): number {
  return values.reduce((n, v) => n + v, 0)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
