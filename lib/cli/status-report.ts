import { describeLastChange } from '../audit.ts'
import { failureOf } from '../errors.ts'
import type { ServerOutcome } from '../fleet.ts'
import type { ProcessWithRelease, ProgramStatus, ServerStatus } from '../status/summarize.ts'
import type { Output, RecapRow } from './output.ts'

// supervisor-status's table (one line per process), its recap and its --json document. A server that could not be
// checked is failed (exit 1) under the name of why; programs not fully running are down (exit 3), never "failed".

// supervisor states in which a process gave up or exited: the NOTE says why (spawnerr, the program's last log line).
const EXPLAINED = new Set(['FATAL', 'BACKOFF', 'EXITED'])

export function statusTable(outcomes: ServerOutcome<ServerStatus>[]): string[] {
  const rows: string[][] = [['SERVER', 'PROGRAM', 'PROCESS', 'STATE', 'PID', 'UPTIME', 'RELEASE', 'NOTE']]
  for (const outcome of outcomes) {
    const server = outcome.server.name
    if (!outcome.ok) {
      rows.push([server, '-', '-', failureOf(outcome.error), '', '', '', messageOf(outcome.error)])
      continue
    }
    if (outcome.value.daemon === 'down')
      rows.push([server, '-', '-', 'DAEMON DOWN', '', '', '', 'supervisord is not running'])
    for (const program of outcome.value.programs) {
      const note = [
        program.processes.length !== program.expected
          ? `${program.processes.length}/${program.expected} processes`
          : '',
        ...program.drift.map((d) => `DRIFT: ${d}`),
      ]
        .filter(Boolean)
        .join('; ')
      if (!program.processes.length) rows.push([server, program.fullName, '-', 'NOT LOADED', '', '', '', note])
      for (const proc of program.processes)
        rows.push([
          server,
          program.fullName,
          proc.process,
          proc.state,
          proc.pid ? String(proc.pid) : '',
          proc.uptime ?? '',
          proc.release ? `${proc.release}${proc.stale ? ' (STALE)' : ''}` : '',
          [whyDown(proc), note].filter(Boolean).join('; '),
        ])
    }
    for (const drift of outcome.value.siteDrift) rows.push([server, '(site file)', '-', 'DRIFT', '', '', '', drift])
    for (const leftover of outcome.value.leftovers)
      rows.push([
        server,
        '(leftover)',
        '-',
        'DRIFT',
        '',
        '',
        '',
        `${leftover.path}: ${leftover.reason}; a --server/--all sync removes it`,
      ])
    for (const unknown of outcome.value.unknown)
      for (const proc of unknown.processes)
        rows.push([
          server,
          unknown.group,
          proc.process,
          proc.state,
          proc.pid ? String(proc.pid) : '',
          proc.uptime ?? '',
          '',
          'not in the inventory',
        ])
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)))
  return rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]! + 2)))
      .join('')
      .trimEnd(),
  )
}

export function reportStatus(output: Output, outcomes: ServerOutcome<ServerStatus>[]): void {
  for (const line of statusTable(outcomes)) output.info(line)
  if (output.options.verbose) for (const line of lastChangeLines(outcomes)) output.info(line)
}

/** --verbose: who changed each reachable server last (the last line of its audit trail). */
export function lastChangeLines(outcomes: ServerOutcome<ServerStatus>[]): string[] {
  return outcomes.flatMap((o) =>
    o.ok ? [`${o.server.name}: last change ${describeLastChange(o.value.lastChange)}`] : [],
  )
}

export function statusRecap(outcomes: ServerOutcome<ServerStatus>[]): RecapRow[] {
  return outcomes.map((o) => ({ server: o.server.name, ...serverRecap(o) }))
}

/** The recap counts of one server: programs fully running (a server with nothing of ours is itself ok), programs down. */
function serverRecap(outcome: ServerOutcome<ServerStatus>): Omit<RecapRow, 'server'> & { down: number } {
  if (!outcome.ok) {
    const failure = failureOf(outcome.error)
    return { ok: 0, changed: 0, failed: 1, down: 0, ...(failure === 'FAILED' ? {} : { note: failure }) }
  }
  const { programs, daemon } = outcome.value
  const down = programs.filter((p) => !isUp(p)).length
  const ok = programs.length ? programs.length - down : Number(outcome.value.healthy)
  const notes = [daemon === 'down' ? 'supervisord down' : '', hasDrift(outcome.value) ? 'drift' : ''].filter(Boolean)
  return {
    ok,
    changed: 0,
    failed: 0,
    down: down || Number(daemon === 'down' && !programs.length),
    ...(notes.length ? { note: notes.join(', ') } : {}),
  }
}

/** One word for the server: OK, DOWN (a program not fully running, supervisord down), DRIFT, or why it failed. */
function serverState(outcome: ServerOutcome<ServerStatus>): string {
  if (!outcome.ok) return failureOf(outcome.error)
  if (serverRecap(outcome).down) return 'DOWN'
  return outcome.value.healthy ? 'OK' : 'DRIFT'
}

export function statusJson(outcomes: ServerOutcome<ServerStatus>[]) {
  return {
    ok: outcomes.every((o) => o.ok && o.value.healthy),
    servers: outcomes.map((o) => {
      const { note: _note, ...recap } = serverRecap(o)
      const common = { server: o.server.name, state: serverState(o), recap }
      if (o.ok) return { ...common, reachable: true, ...o.value }
      // A sudo that wants a password answered over SSH: the server was reached.
      return { ...common, reachable: failureOf(o.error) !== 'UNREACHABLE', error: messageOf(o.error) }
    }),
  }
}

function isUp(program: ProgramStatus): boolean {
  return program.running === program.expected && program.processes.length === program.expected
}

/** supervisor's reason a process is not running, and the last line its program logged. */
function whyDown(proc: ProcessWithRelease): string {
  if (!EXPLAINED.has(proc.state)) return ''
  return [proc.spawnerr, proc.lastLog ? `last log line: ${proc.lastLog}` : ''].filter(Boolean).join('; ')
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function hasDrift(status: ServerStatus): boolean {
  return status.programs.some((p) => p.drift.length) || status.siteDrift.length > 0 || status.leftovers.length > 0
}

/** 0 every server is as the inventory wants; 3 not (a process not running, drift, a leftover); 1 a server could not be reached (1 beats 3). */
export function statusExitCode(outcomes: ServerOutcome<ServerStatus>[]): number {
  if (outcomes.some((o) => !o.ok)) return 1
  return outcomes.every((o) => o.ok && o.value.healthy) ? 0 : 3
}
