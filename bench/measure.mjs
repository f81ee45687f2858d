// Timing for the bench: wall clock of one spawned command, and a scenario as warm-up + N timed runs (median).
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { execa } from 'execa'

/**
 * @typedef {{ ms: number, cpu: number, machineCpuSeconds: number, ownCpuSeconds: number, exitCode: number, stdout: string,
 *   stderr: string, command: string }} Timed   cpu: share of all CPUs busy; own: the command's process tree
 * @typedef {{ recap: Map<string, { ok: number, changed: number, failed: number }>, logins?: Record<string, number>, note?: string,
 *   reportedNoChange?: boolean, untouched?: boolean }} RunFacts
 * @typedef {{ median: number, samples: number[], cpuShare: number, machineCpuSeconds: number, ownCpuSeconds: number,
 *   facts: RunFacts[] }} Measured
 */

/** Aborted on Ctrl-C / SIGTERM: a running command gets SIGTERM, no new one starts. */
export const interrupt = new AbortController()

/**
 * The environment a user's shell would give: no colours, no inherited NODE_OPTIONS (a loader of the shell running the bench).
 * @param {Record<string, string>} [extra] @returns {Record<string, string | undefined>}
 */
export function plainEnv(extra = {}) {
  const { NODE_OPTIONS: _node, FORCE_COLOR: _color, ...rest } = process.env
  return { ...rest, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ...extra }
}

/**
 * Runs a command to its end and returns how long it took, measured around the whole process (start-up included),
 * the share of the machine's CPUs that were busy meanwhile (the sandbox servers run on the same CPUs), and the CPU
 * time of the command's own process tree (what a client machine would spend; ssh masters that daemonize are not in it).
 * @param {string} file @param {string[]} args @param {{ cwd?: string, env?: Record<string, string | undefined> }} [options]
 * @returns {Promise<Timed>}
 */
export async function timed(file, args, options = {}) {
  throwIfInterrupted()
  const cpuBefore = cpuTimes()
  const ownBefore = reapedChildrenCpu()
  const started = performance.now()
  const result = await execa(file, args, {
    cwd: options.cwd,
    env: options.env ?? plainEnv(),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    cancelSignal: interrupt.signal,
  })
  const ms = performance.now() - started
  const cpuAfter = cpuTimes()
  const ownCpuSeconds = reapedChildrenCpu() - ownBefore
  throwIfInterrupted()
  const cpu = (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total)
  const machineCpuSeconds = (cpuAfter.busy - cpuBefore.busy) / TICKS
  return {
    ms,
    cpu,
    machineCpuSeconds,
    ownCpuSeconds,
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    command: [file, ...args].join(' '),
  }
}

/** Clock ticks per second of /proc (USER_HZ, 100 on Linux). */
const TICKS = 100

/** CPU seconds of this process's reaped children and their reaped descendants (cutime + cstime of /proc/self/stat). */
function reapedChildrenCpu() {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) / TICKS
}

/** The machine's CPU time so far (all CPUs, in clock ticks), from the first line of /proc/stat. */
function cpuTimes() {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  return { total, busy: total - (fields[3] ?? 0) - (fields[4] ?? 0) }
}

export function throwIfInterrupted() {
  if (interrupt.signal.aborted) throw new Error('interrupted')
}

/**
 * One scenario: `before` (untimed: reset the servers, note their state), the command, then `check` (untimed:
 * verify the work was done, count logins). Run 0 is a warm-up and is not counted, unless `warmUp` is false.
 * @param {{ runs: number, label: string, log: (line: string) => void, warmUp?: boolean, before?: () => Promise<void>,
 *   run: () => Promise<Timed>, check: (result: Timed) => Promise<RunFacts> }} scenario
 * @returns {Promise<Measured>}
 */
export async function measure({ runs, label, log, warmUp = true, before, run, check }) {
  /** @type {number[]} */
  const samples = []
  /** @type {Timed[]} */
  const timings = []
  /** @type {RunFacts[]} */
  const facts = []
  for (let i = warmUp ? 0 : 1; i <= runs; i++) {
    await before?.()
    const result = await run()
    const fact = await check(result)
    const name = i === 0 ? 'warm-up' : `run ${i}/${runs}`
    log(
      `${label}: ${name} ${seconds(result.ms)}, CPUs ${percent(result.cpu)} busy${fact.note ? ` (${fact.note})` : ''}`,
    )
    if (i === 0) continue
    samples.push(result.ms)
    timings.push(result)
    facts.push(fact)
  }
  const of = (/** @type {(t: Timed) => number} */ pick) => median(timings.map(pick))
  return {
    median: median(samples),
    samples,
    cpuShare: of((t) => t.cpu),
    machineCpuSeconds: of((t) => t.machineCpuSeconds),
    ownCpuSeconds: of((t) => t.ownCpuSeconds),
    facts,
  }
}

/** @param {number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2
}

/** @param {number} ms */
export function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`
}

/** @param {number} share */
export function percent(share) {
  return `${Math.round(share * 100)}%`
}

/**
 * The recap both tools print: ours `sandbox-1  ok=10 changed=21 failed=0`, Ansible's `sandbox-1 : ok=2 changed=2 ...`.
 * @param {string} stdout
 */
export function parseRecap(stdout) {
  const rows = new Map()
  for (const match of stdout.matchAll(
    /^(\S+)\s+:?\s*ok=(\d+)\s+changed=(\d+)\s+(?:unreachable=\d+\s+)?failed=(\d+)/gm,
  )) {
    rows.set(match[1], { ok: Number(match[2]), changed: Number(match[3]), failed: Number(match[4]) })
  }
  return rows
}

/**
 * Throws with the command's output when a run did not do what the scenario needs (the bench never times a failure).
 * @param {boolean} condition @param {string} what @param {Timed} result
 */
export function expectRun(condition, what, result) {
  if (condition) return
  throw new Error(`${what}\n$ ${result.command}\nexit ${result.exitCode}\n${result.stdout}\n${result.stderr}`.trimEnd())
}
