// Where our time goes: the fixed cost of starting a task, layer by layer (node, zx, npx, our modules, the task's flag
// parsing), one SSH login, and the same scenarios run in-process through the exported task objects (no start-up; not
// what a user types).

import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { createOutput } from 'zx-supervisor/cli'
import { supervisorStatus } from '../tasks/supervisor-status.mjs'
import { supervisorSync } from '../tasks/supervisor-sync.mjs'
import { resetHosts } from './fleet.mjs'
import { median, seconds, throwIfInterrupted, timed } from './measure.mjs'
import { PROJECT } from './ours.mjs'

/**
 * @typedef {'node' | 'nodeZx' | 'npxZx' | 'help' | 'npxHelp' | 'modules' | 'status'} PartKey
 * @typedef {{ label: string, ms: number, key?: PartKey }} Part
 */

const ZX_CLI = path.join('node_modules', 'zx', 'build', 'cli.js')
const EMPTY = path.join('bench', 'empty-task.mjs')
const STATUS_TASK = path.join('tasks', 'supervisor-status.mjs')

/**
 * @param {{ fleet: import('./fleet.mjs').Fleet, runs: number, log: (line: string) => void }} context
 * @returns {Promise<Part[]>}
 */
export async function whereTimeGoes({ fleet, runs, log }) {
  const host = fleet.hosts[0]?.name ?? 'sandbox-1'
  const initPid = String(fleet.hosts[0]?.initPid)
  const inventory = fleet.inventories.get(3) ?? ''
  const hosts = fleet.hosts.slice(0, 3)
  /** @type {Array<[string, PartKey | undefined, () => Promise<number>, (() => Promise<void>)?]>} */
  const parts = [
    ['node start (`node -e 0`)', 'node', spawned(process.execPath, ['-e', '0'])],
    [
      'node + zx: `node node_modules/zx/build/cli.js bench/empty-task.mjs` (a one-line script)',
      'nodeZx',
      spawned(process.execPath, [ZX_CLI, EMPTY]),
    ],
    ['the same through `npx zx bench/empty-task.mjs`', 'npxZx', spawned('npx', ['zx', EMPTY])],
    [
      "node + zx + our modules + the task's flags: `node node_modules/zx/build/cli.js tasks/supervisor-status.mjs --help`",
      'help',
      spawned(process.execPath, [ZX_CLI, STATUS_TASK, '--help']),
    ],
    [
      'the same through `npx zx tasks/supervisor-status.mjs --help`',
      'npxHelp',
      spawned('npx', ['zx', STATUS_TASK, '--help']),
    ],
    [
      'our modules: import of dist/lib/index.js + dist/lib/cli/index.js once zx is loaded (in-process)',
      'modules',
      reported(process.execPath, [path.join('bench', 'import-time.mjs')]),
    ],
    ['one new SSH login (`ssh sandbox-1 true`)', undefined, spawned('ssh', ['-F', fleet.sshConfig, host, 'true'])],
    [
      'new SSH login + `sudo supervisorctl status`',
      undefined,
      spawned('ssh', ['-F', fleet.sshConfig, host, 'sudo', '-n', 'supervisorctl', 'status']),
    ],
    [
      'one `supervisorctl status` run on a server, no SSH (python start-up)',
      undefined,
      spawned('nsenter', ['--target', initPid, '--mount', '--uts', '--pid', '--wd=/', '--', 'supervisorctl', 'status']),
    ],
    [
      'in-process sync → 3 servers from empty (exported task, no start-up)',
      undefined,
      inProcess(supervisorSync, ['--inventory', inventory, '--all']),
      () => resetHosts(hosts),
    ],
    ['in-process no-op re-sync, 3 servers', undefined, inProcess(supervisorSync, ['--inventory', inventory, '--all'])],
    ['in-process status, 3 servers (warm)', 'status', inProcess(supervisorStatus, ['--inventory', inventory])],
  ]
  /** @type {Part[]} */
  const found = []
  for (const [label, key, run, before] of parts) {
    const samples = []
    for (let i = 0; i <= runs; i++) {
      await before?.()
      const ms = await run()
      if (i > 0) samples.push(ms)
    }
    found.push({ label, ms: median(samples), ...(key ? { key } : {}) })
    log(`where time goes: ${label}: ${seconds(median(samples))}`)
  }
  return found
}

/**
 * The start-up layers, each as the difference of two rows of whereTimeGoes: npx, node, zx, our modules, the task's
 * own start (flags, help text), then the in-process status work. Undefined when a row is missing.
 * @param {Part[]} parts
 * @returns {Array<{ label: string, ms: number }> | undefined}
 */
export function startupLayers(parts) {
  /** @type {Partial<Record<PartKey, number>>} */
  const ms = Object.fromEntries(parts.flatMap((p) => (p.key ? [[p.key, p.ms]] : [])))
  const { node, nodeZx, npxZx, help, modules, status } = ms
  if (
    node === undefined ||
    nodeZx === undefined ||
    npxZx === undefined ||
    help === undefined ||
    modules === undefined ||
    status === undefined
  )
    return undefined
  return [
    { label: 'npx (`npx zx` of the one-line script − `node …/zx/build/cli.js` of it)', ms: npxZx - nodeZx },
    { label: 'node (`node -e 0`)', ms: node },
    { label: 'zx (node + zx of the one-line script − `node -e 0`)', ms: nodeZx - node },
    { label: 'our modules (dist/lib/index.js + dist/lib/cli/index.js, in-process)', ms: modules },
    {
      label: "the task's own start (`supervisor-status --help` − node + zx − our modules: flags, help text)",
      ms: help - nodeZx - modules,
    },
    { label: 'then the status work itself: in-process status of 3 servers, warm', ms: status },
  ]
}

/**
 * Task start as a user sees it: `npx zx tasks/supervisor-status.mjs --help` against `npx zx` running a script that
 * only logs a line, both from the same directory (this project, or a team's repo), alternated so a change in machine
 * load hits both alike.
 * @param {{ runs: number, log: (line: string) => void, cwd?: string, empty?: string, where?: string }} context
 * @returns {Promise<{ task: Part, empty: Part }>}
 */
export async function taskStart({ runs, log, cwd = PROJECT, empty = EMPTY, where = 'this project' }) {
  // Start-up varies by tens of ms from run to run: a ratio of two medians needs more samples than a scenario.
  const samples = Math.max(runs, TASK_START_RUNS)
  const task = {
    label: `\`npx zx tasks/supervisor-status.mjs --help\` (${where})`,
    run: spawned('npx', ['zx', STATUS_TASK, '--help'], cwd),
    times: /** @type {number[]} */ ([]),
  }
  const emptyScript = {
    label: `\`npx zx ${empty}\` (one console.log; ${where})`,
    run: spawned('npx', ['zx', empty], cwd),
    times: /** @type {number[]} */ ([]),
  }
  for (let i = 0; i <= samples; i++) {
    for (const side of [task, emptyScript]) {
      const ms = await side.run()
      if (i > 0) side.times.push(ms)
    }
  }
  const part = (/** @type {typeof task} */ side) => ({ label: side.label, ms: median(side.times) })
  const result = { task: part(task), empty: part(emptyScript) }
  log(`task start (${where}): ${seconds(result.task.ms)} vs ${seconds(result.empty.ms)} for the empty script`)
  return result
}
const TASK_START_RUNS = 7

/** A command's wall time (it must exit 0). @param {string} file @param {string[]} args @param {string} [cwd] */
function spawned(file, args, cwd = PROJECT) {
  return async () => {
    const result = await timed(file, args, { cwd })
    if (result.exitCode !== 0) throw new Error(`${result.command} failed (exit ${result.exitCode}): ${result.stderr}`)
    return result.ms
  }
}

/** The milliseconds a command measured itself and printed. @param {string} file @param {string[]} args */
function reported(file, args) {
  return async () => {
    const result = await timed(file, args, { cwd: PROJECT })
    const ms = Number(result.stdout.trim())
    if (result.exitCode !== 0 || !Number.isFinite(ms))
      throw new Error(`${result.command} failed (exit ${result.exitCode}): ${result.stderr}`)
    return ms
  }
}

/** Runs an exported task in this process, its output discarded. @param {import('zx-supervisor').Task} task @param {string[]} args */
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
