// Where our time goes: the fixed cost of starting a task (node, tsx, zx, the task's modules), one SSH login, and
// the same scenarios run in-process through the exported task objects (no start-up; not what a user types).

import { performance } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { createOutput } from '../lib/cli/output.ts'
import { supervisorStatus } from '../tasks/supervisor-status.mjs'
import { supervisorSync } from '../tasks/supervisor-sync.mjs'
import { resetHosts } from './fleet.mjs'
import { median, seconds, throwIfInterrupted, timed } from './measure.mjs'
import { PROJECT, taskArgv } from './ours.mjs'

/**
 * @typedef {{ label: string, ms: number }} Part
 * @param {{ fleet: import('./fleet.mjs').Fleet, runs: number, log: (line: string) => void }} context
 * @returns {Promise<Part[]>}
 */
export async function whereTimeGoes({ fleet, runs, log }) {
  const host = fleet.hosts[0]?.name ?? 'sandbox-1'
  const initPid = String(fleet.hosts[0]?.initPid)
  const inventory = fleet.inventories.get(3) ?? ''
  const hosts = fleet.hosts.slice(0, 3)
  /** @type {Array<[string, () => Promise<number>, (() => Promise<void>)?]>} */
  const parts = [
    ['node start (`node -e 0`)', spawned(process.execPath, ['-e', '0'])],
    [
      "task start: node + tsx + zx + the task's modules (`supervisor-sync --help`)",
      spawned(process.execPath, taskArgv('supervisor-sync', ['--help'])),
    ],
    [
      'the same through `npx zx tasks/supervisor-sync.mjs --help`',
      spawned('npx', ['zx', 'tasks/supervisor-sync.mjs', '--help']),
    ],
    ['one new SSH login (`ssh sandbox-1 true`)', spawned('ssh', ['-F', fleet.sshConfig, host, 'true'])],
    [
      'new SSH login + `sudo supervisorctl status`',
      spawned('ssh', ['-F', fleet.sshConfig, host, 'sudo', '-n', 'supervisorctl', 'status']),
    ],
    [
      'one `supervisorctl status` run on a server, no SSH (python start-up)',
      spawned('nsenter', ['--target', initPid, '--mount', '--uts', '--pid', '--wd=/', '--', 'supervisorctl', 'status']),
    ],
    [
      'in-process sync → 3 servers from empty (exported task, no start-up)',
      inProcess(supervisorSync, ['--inventory', inventory, '--all']),
      () => resetHosts(hosts),
    ],
    ['in-process no-op re-sync, 3 servers', inProcess(supervisorSync, ['--inventory', inventory, '--all'])],
    ['in-process status, 3 servers', inProcess(supervisorStatus, ['--inventory', inventory])],
  ]
  /** @type {Part[]} */
  const found = []
  for (const [label, run, before] of parts) {
    const samples = []
    for (let i = 0; i <= runs; i++) {
      await before?.()
      const ms = await run()
      if (i > 0) samples.push(ms)
    }
    found.push({ label, ms: median(samples) })
    log(`where time goes: ${label}: ${(median(samples) / 1000).toFixed(2)} s`)
  }
  return found
}

/**
 * Task start as a user sees it: `npx zx tasks/supervisor-status.mjs --help` against `npx zx` running a script that
 * only logs a line, both from the project root, alternated so a change in machine load hits both alike.
 * @param {{ runs: number, log: (line: string) => void }} context
 * @returns {Promise<{ task: Part, empty: Part }>}
 */
export async function taskStart({ runs, log }) {
  // Start-up varies by tens of ms from run to run: a ratio of two medians needs more samples than a scenario.
  const samples = Math.max(runs, TASK_START_RUNS)
  const task = {
    label: '`npx zx tasks/supervisor-status.mjs --help`',
    run: spawned('npx', ['zx', 'tasks/supervisor-status.mjs', '--help']),
    times: /** @type {number[]} */ ([]),
  }
  const empty = {
    label: '`npx zx bench/empty-task.mjs` (one console.log)',
    run: spawned('npx', ['zx', 'bench/empty-task.mjs']),
    times: /** @type {number[]} */ ([]),
  }
  for (let i = 0; i <= samples; i++) {
    for (const side of [task, empty]) {
      const ms = await side.run()
      if (i > 0) side.times.push(ms)
    }
  }
  const part = (/** @type {typeof task} */ side) => ({ label: side.label, ms: median(side.times) })
  const result = { task: part(task), empty: part(empty) }
  log(`task start: ${seconds(result.task.ms)} vs ${seconds(result.empty.ms)} for the empty script`)
  return result
}
const TASK_START_RUNS = 7

/** npx finds node-options (the tsx loader) in the project's .npmrc itself. @param {string} file @param {string[]} args */
function spawned(file, args) {
  return async () => {
    const result = await timed(file, args, { cwd: PROJECT })
    if (result.exitCode !== 0) throw new Error(`${result.command} failed (exit ${result.exitCode}): ${result.stderr}`)
    return result.ms
  }
}

/** Runs an exported task in this process, its output discarded. @param {import('../lib/cli/run-task.ts').Task} task @param {string[]} args */
function inProcess(task, args) {
  return async () => {
    throwIfInterrupted()
    const sink = new Writable({
      write(_chunk, _encoding, done) {
        done()
      },
    })
    const output = createOutput({ json: false, quiet: false, verbose: false }, { out: sink, err: sink })
    const started = performance.now()
    const code = await task.run(args, { output })
    const ms = performance.now() - started
    if (code !== 0 && code !== 3) throw new Error(`in-process ${task.meta.name} ${args.join(' ')} exited ${code}`)
    return ms
  }
}
