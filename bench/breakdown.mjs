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
 * @typedef {{ label: string, ms: number, key?: PartKey, cpu?: number }} Part   cpu: CPU-s of its process tree (user+sys)
 * @typedef {{ ms: number, cpu?: number }} Sample
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
  // The start-up layers are differences of these rows: they are timed in rounds (one of each per round), so a change
  // in machine load hits every layer alike.
  /** @type {Array<[string, PartKey, () => Promise<Sample>]>} */
  const layers = [
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
      'our modules: import of zx-supervisor + zx-supervisor/cli (dist/bundle/) once zx is loaded (in-process)',
      'modules',
      reported(process.execPath, [path.join('bench', 'import-time.mjs')]),
    ],
  ]
  /** @type {Array<[string, PartKey | undefined, () => Promise<Sample>, (() => Promise<void>)?]>} */
  const parts = [
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
  /** @param {string} label @param {PartKey | undefined} key @param {Sample[]} samples */
  const add = (label, key, samples) => {
    const cpus = samples.flatMap((sample) => (sample.cpu === undefined ? [] : [sample.cpu]))
    const part = { label, ms: median(samples.map((sample) => sample.ms)), ...(key ? { key } : {}) }
    found.push(cpus.length ? { ...part, cpu: median(cpus) } : part)
    log(`where time goes: ${label}: ${seconds(part.ms)}${cpus.length ? `, ${median(cpus).toFixed(2)} CPU-s` : ''}`)
  }
  /** @type {Sample[][]} */
  const layerSamples = layers.map(() => [])
  for (let i = 0; i <= Math.max(runs, TASK_START_RUNS); i++) {
    for (const [index, [, , run]] of layers.entries()) {
      const sample = await run()
      if (i > 0) layerSamples[index]?.push(sample)
    }
  }
  for (const [index, [label, key]] of layers.entries()) add(label, key, layerSamples[index] ?? [])
  for (const [label, key, run, before] of parts) {
    /** @type {Sample[]} */
    const samples = []
    for (let i = 0; i <= runs; i++) {
      await before?.()
      const sample = await run()
      if (i > 0) samples.push(sample)
    }
    add(label, key, samples)
  }
  return found
}

/**
 * The start-up layers, each as the difference of two rows of whereTimeGoes: npx, node, zx, our modules, the task's
 * own start (flags, help text), then the in-process status work. Undefined when a row is missing.
 * @param {Part[]} parts
 * @returns {Array<{ label: string, ms: number, cpu?: number }> | undefined}
 */
export function startupLayers(parts) {
  /** @type {Partial<Record<PartKey, Part>>} */
  const by = Object.fromEntries(parts.flatMap((p) => (p.key ? [[p.key, p]] : [])))
  const { node, nodeZx, npxZx, help, modules, status } = by
  if (!node || !nodeZx || !npxZx || !help || !modules || !status) return undefined
  /** The CPU-s of a layer when both rows have it. @param {Part} a @param {Part} [b] */
  const cpu = (a, b) => (a.cpu === undefined || (b && b.cpu === undefined) ? {} : { cpu: (a.cpu ?? 0) - (b?.cpu ?? 0) })
  return [
    {
      label: 'npx (`npx zx` of the one-line script − `node …/zx/build/cli.js` of it)',
      ms: npxZx.ms - nodeZx.ms,
      ...cpu(npxZx, nodeZx),
    },
    { label: 'node (`node -e 0`)', ms: node.ms, ...cpu(node) },
    { label: 'zx (node + zx of the one-line script − `node -e 0`)', ms: nodeZx.ms - node.ms, ...cpu(nodeZx, node) },
    { label: 'our modules (zx-supervisor + zx-supervisor/cli, in-process)', ms: modules.ms },
    {
      label: "the task's own start (`supervisor-status --help` − node + zx − our modules: flags, help text)",
      ms: help.ms - nodeZx.ms - modules.ms,
    },
    {
      label: "our modules + the task's own start, as CPU (`supervisor-status --help` − the one-line script)",
      ms: help.ms - nodeZx.ms,
      ...cpu(help, nodeZx),
    },
    { label: 'then the status work itself: in-process status of 3 servers, warm', ms: status.ms },
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
    cpus: /** @type {number[]} */ ([]),
  }
  const emptyScript = {
    label: `\`npx zx ${empty}\` (one console.log; ${where})`,
    run: spawned('npx', ['zx', empty], cwd),
    times: /** @type {number[]} */ ([]),
    cpus: /** @type {number[]} */ ([]),
  }
  for (let i = 0; i <= samples; i++) {
    for (const side of [task, emptyScript]) {
      const { ms, cpu } = await side.run()
      if (i === 0) continue
      side.times.push(ms)
      side.cpus.push(cpu)
    }
  }
  const part = (/** @type {typeof task} */ side) => ({
    label: side.label,
    ms: median(side.times),
    cpu: median(side.cpus),
  })
  const result = { task: part(task), empty: part(emptyScript) }
  log(
    `task start (${where}): ${seconds(result.task.ms)} vs ${seconds(result.empty.ms)} for the empty script (CPU-s ${result.task.cpu.toFixed(2)} vs ${result.empty.cpu.toFixed(2)})`,
  )
  return result
}
const TASK_START_RUNS = 7

/** A command's wall time and the CPU time of its process tree (it must exit 0). @param {string} file @param {string[]} args @param {string} [cwd] */
function spawned(file, args, cwd = PROJECT) {
  return async () => {
    const result = await timed(file, args, { cwd })
    if (result.exitCode !== 0) throw new Error(`${result.command} failed (exit ${result.exitCode}): ${result.stderr}`)
    return { ms: result.ms, cpu: /** @type {number} */ (result.ownCpuSeconds) }
  }
}

/** The milliseconds a command measured itself and printed. @param {string} file @param {string[]} args */
function reported(file, args) {
  return async () => {
    const result = await timed(file, args, { cwd: PROJECT })
    const ms = Number(result.stdout.trim())
    if (result.exitCode !== 0 || !Number.isFinite(ms))
      throw new Error(`${result.command} failed (exit ${result.exitCode}): ${result.stderr}`)
    return { ms }
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
    return { ms }
  }
}
