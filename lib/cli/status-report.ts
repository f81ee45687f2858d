import type { Output, RecapRow } from './output.ts'
import type { ServerOutcome } from '../fleet.ts'
import type { ServerStatus } from '../status/summarize.ts'

// supervisor-status's table (one line per process) and its --json document.

export function statusTable(outcomes: ServerOutcome<ServerStatus>[]): string[] {
  const rows: string[][] = [['SERVER', 'PROGRAM', 'PROCESS', 'STATE', 'PID', 'UPTIME', 'RELEASE', 'NOTE']]
  for (const outcome of outcomes) {
    const server = outcome.server.name
    if (!outcome.ok) {
      rows.push([server, '-', '-', 'UNREACHABLE', '', '', '', outcome.error instanceof Error ? outcome.error.message : String(outcome.error)])
      continue
    }
    if (outcome.value.daemon === 'down') rows.push([server, '-', '-', 'DAEMON DOWN', '', '', '', 'supervisord is not running'])
    for (const program of outcome.value.programs) {
      const note = [program.processes.length !== program.expected ? `${program.processes.length}/${program.expected} processes` : '', ...program.drift.map((d) => `DRIFT: ${d}`)].filter(Boolean).join('; ')
      if (!program.processes.length) rows.push([server, program.fullName, '-', 'NOT LOADED', '', '', '', note])
      for (const proc of program.processes) rows.push([server, program.fullName, proc.process, proc.state, proc.pid ? String(proc.pid) : '', proc.uptime ?? '', proc.release ? `${proc.release}${proc.stale ? ' (STALE)' : ''}` : '', note])
    }
    for (const drift of outcome.value.siteDrift) rows.push([server, '(site file)', '-', 'DRIFT', '', '', '', drift])
    for (const leftover of outcome.value.leftovers) rows.push([server, '(leftover)', '-', 'DRIFT', '', '', '', `${leftover.path}: ${leftover.reason}; a --server/--all sync removes it`])
    for (const unknown of outcome.value.unknown) for (const proc of unknown.processes) rows.push([server, unknown.group, proc.process, proc.state, proc.pid ? String(proc.pid) : '', proc.uptime ?? '', '', 'not in the inventory'])
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)))
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]! + 2))).join('').trimEnd())
}

export function reportStatus(output: Output, outcomes: ServerOutcome<ServerStatus>[]): void {
  for (const line of statusTable(outcomes)) output.info(line)
}

export function statusRecap(outcomes: ServerOutcome<ServerStatus>[]): RecapRow[] {
  return outcomes.map((o) =>
    o.ok
      ? { server: o.server.name, ok: o.value.programs.filter((p) => p.running === p.expected).length, changed: 0, failed: o.value.programs.filter((p) => p.running !== p.expected).length, ...(hasDrift(o.value) ? { note: 'drift' } : {}) }
      : { server: o.server.name, ok: 0, changed: 0, failed: 1, note: 'unreachable' },
  )
}

export function statusJson(outcomes: ServerOutcome<ServerStatus>[]) {
  return {
    ok: outcomes.every((o) => o.ok && o.value.healthy),
    servers: outcomes.map((o) => (o.ok ? { server: o.server.name, reachable: true, ...o.value } : { server: o.server.name, reachable: false, error: o.error instanceof Error ? o.error.message : String(o.error) })),
  }
}

function hasDrift(status: ServerStatus): boolean {
  return status.programs.some((p) => p.drift.length) || status.siteDrift.length > 0 || status.leftovers.length > 0
}

/** 0 every server is as the inventory wants; 3 not (a process not running, drift, a leftover); 1 a server could not be reached (1 beats 3). */
export function statusExitCode(outcomes: ServerOutcome<ServerStatus>[]): number {
  if (outcomes.some((o) => !o.ok)) return 1
  return outcomes.every((o) => o.ok && o.value.healthy) ? 0 : 3
}
