// The bench's verdict: a table per scenario (ours, Ansible warm and cold, ratios), the SPEC §8 targets marked
// met / NOT met, where our time goes, and the machine it ran on; as terminal text and as bench/results.md.
import os from 'node:os'
import { percent, seconds } from './measure.mjs'

/**
 * @typedef {import('./measure.mjs').Measured} Measured
 * @typedef {{ label: string, ours: Measured, ansible: Measured, ansibleCold: Measured }} Row
 * @typedef {{ target: string, value: string, met: boolean }} Target
 * @typedef {{ rows: Row[], noop: Row, sync1: Measured, sync9: Measured, parts: import('./breakdown.mjs').Part[],
 *   facts: Record<string, string>, commands: string[] }} Results
 */

const SPEEDUP = 5
const SCALING = 1.5

/** Ansible's time over ours: how many times faster we are. @param {Measured} ansible @param {Measured} ours */
const ratio = (ansible, ours) => ansible.median / ours.median
const times = (/** @type {number} */ n) => `${n.toFixed(1)}×`

/** @param {Results} results @returns {Target[]} */
export function targets(results) {
  const lowest = (/** @type {(row: Row) => number} */ of) => results.rows.reduce((a, b) => (of(b) < of(a) ? b : a))
  const warm = (/** @type {Row} */ row) => ratio(row.ansible, row.ours)
  const cold = (/** @type {Row} */ row) => ratio(row.ansibleCold, row.ours)
  const slowest = lowest(warm)
  const slowestCold = lowest(cold)
  const ourFacts = results.rows.flatMap((row) => row.ours.facts)
  const logins = ourFacts.flatMap((fact) => Object.values(fact.logins ?? {}))
  const noopFacts = results.noop.ours.facts
  const scaling = results.sync9.median / results.sync1.median
  return [
    { target: `≥ ${SPEEDUP}× faster than Ansible on each scenario`,
      value: `lowest ${times(warm(slowest))} (${slowest.label}) against Ansible with warm ControlMasters; ${times(cold(slowestCold))} (${slowestCold.label}) against cold`,
      met: warm(slowest) >= SPEEDUP },
    { target: 'one SSH connection per server per run', value: `${Math.min(...logins)}–${Math.max(...logins)} per server in each of ${ourFacts.length} runs`, met: logins.every((n) => n === 1) },
    { target: 'a no-op sync writes nothing and restarts nothing',
      value: `${noopFacts.every((f) => f.reportedNoChange) ? 'changed=0' : 'REPORTED A CHANGE'}; pids and mtimes ${noopFacts.every((f) => f.untouched) ? 'unchanged' : 'CHANGED'} (${noopFacts.length} runs)`,
      met: noopFacts.every((f) => f.reportedNoChange && f.untouched) },
    { target: `9 servers ≤ ${SCALING}× the time of 1`,
      value: `${seconds(results.sync9.median)} / ${seconds(results.sync1.median)} = ${scaling.toFixed(2)}× (CPUs busy: ${percent(results.sync1.cpuShare)} with 1 server, ${percent(results.sync9.cpuShare)} with 9)`,
      met: scaling <= SCALING },
  ]
}

/** @param {Row} row */
function cells(row) {
  return [row.label, seconds(row.ours.median), seconds(row.ansible.median), times(ratio(row.ansible, row.ours)),
    seconds(row.ansibleCold.median), times(ratio(row.ansibleCold, row.ours)), loginRange(row.ours), percent(row.ours.cpuShare)]
}
const HEADER = ['scenario (median)', 'ours', 'Ansible warm', 'ratio', 'Ansible cold', 'ratio', 'our SSH logins/server', 'CPUs busy (ours)']

/** CPU seconds per run: the whole machine (client + sandbox servers) and the command's own process tree. @param {Row} row */
function cpuCells(row) {
  const cpu = (/** @type {Measured} */ m) => `${m.machineCpuSeconds.toFixed(2)} / ${m.ownCpuSeconds.toFixed(2)}`
  return [row.label, cpu(row.ours), cpu(row.ansible)]
}
const CPU_HEADER = ['CPU-s per run (median): machine / own process tree', 'ours', 'Ansible warm']

/** What one more server costs, from the 1- and 9-server syncs. @param {Results} results */
function perServer(results) {
  const { sync1, sync9 } = results
  const machine = (sync9.machineCpuSeconds - sync1.machineCpuSeconds) / 8
  const own = (sync9.ownCpuSeconds - sync1.ownCpuSeconds) / 8
  return `each server beyond the first adds ${machine.toFixed(2)} CPU-s on this machine, ${own.toFixed(2)} of them in our process tree ` +
    `(node, ssh, rsync) and ${(machine - own).toFixed(2)} outside it: mostly the sandbox server (sshd, sudo, supervisorctl, ` +
    `supervisord), also our daemonized ssh master and whatever else ran — the servers share this machine's ${os.availableParallelism()} CPUs`
}

/** @param {Results} results */
export function terminalReport(results) {
  const lines = [
    '',
    ...columns([HEADER, ...results.rows.map(cells)]),
    '',
    ...columns(targets(results).map((t) => [t.met ? 'met    ' : 'NOT met', t.target, t.value])),
    '',
    'where our time goes (median):',
    ...columns(results.parts.map((p) => [`  ${p.label}`, seconds(p.ms)])),
    '',
    ...columns([CPU_HEADER, ...results.rows.map(cpuCells)]),
    perServer(results),
    '',
    `${results.facts.date}, ${results.facts.machine}`,
  ]
  return `${lines.join('\n')}\n`
}

/** @param {Results} results */
export function markdownReport(results) {
  const row = (/** @type {string[]} */ list) => `| ${list.join(' | ')} |`
  return [
    '# Benchmark: zx-supervisor vs Ansible (SPEC §8)',
    '',
    `Run: \`npm run bench\` — ${results.facts.date}. ${results.facts.machine}.`,
    '',
    `Each figure is the median of ${results.facts.runs} timed runs (after one warm-up), wall clock around the spawned`,
    'command, start-up included. The sandbox servers run on the same CPUs as both tools. Ansible gets identical bytes',
    '(the files our renderer produced: 10 program confs, 10 logrotate files, runner.sh per server) through the copy',
    'module with owner and mode, and a handler `supervisorctl update`; "warm" reuses the ControlMasters of its previous',
    'run (ControlPersist 60s, its default behaviour and best case), "cold" closes them before each run, as ours always',
    'starts. Each run is checked: every file in place byte for byte and 10 processes per server after a sync;',
    'changed=0 with pids and mtimes unchanged after a no-op; status exit 0.',
    '',
    row(HEADER),
    row(['---', ...HEADER.slice(1).map(() => '---:')]),
    ...results.rows.map((r) => row(cells(r))),
    '',
    row(['target', 'result', 'verdict']),
    row(['---', '---', '---']),
    ...targets(results).map((t) => row([t.target, t.value, t.met ? 'met' : '**NOT met**'])),
    '',
    '## Where our time goes (median)',
    '',
    row(['what', 'time']),
    row(['---', '---:']),
    ...results.parts.map((p) => row([p.label, seconds(p.ms)])),
    '',
    row(CPU_HEADER),
    row(['---', '---:', '---:']),
    ...results.rows.map((r) => row(cpuCells(r))),
    '',
    `From the 1- and 9-server syncs: ${perServer(results)}.`,
    '',
    '## Commands timed',
    '',
    ...results.commands.map((c) => `- ${c}`),
    '',
  ].join('\n')
}

/** The date and what the machine is, for the record. @param {string} ansibleVersion @param {number} runs */
export function machineFacts(ansibleVersion, runs) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    runs: String(runs),
    machine: `${os.availableParallelism()} CPUs (nproc; ${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, ` +
      `node ${process.version}, ${ansibleVersion}, load average at start ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`,
  }
}

/** @param {Measured} measured */
function loginRange(measured) {
  const counts = measured.facts.flatMap((f) => Object.values(f.logins ?? {}))
  const low = Math.min(...counts)
  const high = Math.max(...counts)
  return low === high ? String(low) : `${low}–${high}`
}

/** Left-aligned columns. @param {string[][]} rows */
function columns(rows) {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
}
