// `npm run bench -- --fleet`: 48 servers, each row timed once. No-op sync and status through ours (warm and cold),
// Ansible (warm and cold) and the baseline commit's task scripts; a rolling deploy with --batch 25% against --batch 1.
//
// The baseline shares the fleet and the inventory (it has no `id:` key, which the new code reads as "default"), but
// not the programs' state: its markers carry no `inventory=`, so each tool would rewrite the other's files. So every
// tool's no-op and status run on a state that tool itself synced: ours first, Ansible on ours' state (identical
// bytes, owners and modes: its copy module has nothing to change, which the check confirms), the baseline last
// after its own sync from an empty conf.d.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { ansibleStatus, ansibleSync, closeMasters } from './ansible.mjs'
import {
  currentRelease,
  DOMAIN,
  loginCounts,
  loginDelta,
  resetHosts,
  snapshot,
  waitUntilRunning,
  writeApp,
} from './fleet.mjs'
import { expectRun, measure, parseRecap } from './measure.mjs'
import { oursCold, oursWarm, PROJECT, taskArgv, taskRunner } from './ours.mjs'
import { inventoryOf, loginNote, names } from './scenarios.mjs'

export const FLEET_SIZE = 48
export const BASELINE_COMMIT = '8732106'
/** Where the baseline is checked out: `git worktree add --detach /tmp/zxs-baseline 8732106 && (cd /tmp/zxs-baseline && npm ci)`. */
export const BASELINE_DIR = process.env.ZXS_BENCH_BASELINE ?? '/tmp/zxs-baseline'

/**
 * @typedef {import('./measure.mjs').Measured} Measured
 * @typedef {import('./measure.mjs').Timed} Timed
 * @typedef {import('./fleet.mjs').Host} Host
 * @typedef {{ ours: Measured, oursCold: Measured, ansible: Measured, ansibleCold: Measured, baseline?: Measured }} FleetRow
 * @typedef {{ batchOne: Measured, batchQuarter: Measured } | { notRun: string }} DeployRow
 * @typedef {{ size: number, noop: FleetRow, status: FleetRow, deploy: DeployRow, baselineNote?: string }} FleetResults
 */

/**
 * @param {{ fleet: import('./fleet.mjs').Fleet, ansible: import('./ansible.mjs').AnsibleSetup, log: (line: string) => void, size?: number }} context
 * @returns {Promise<FleetResults>}
 */
export async function largeFleetRows({ fleet, ansible, log, size = FLEET_SIZE }) {
  const hosts = fleet.hosts.slice(0, size)
  const inventory = inventoryOf(fleet, size)
  const hostNames = names(fleet, size)
  const baseline = await findBaseline()

  /** One timed run: `before` untimed, logins counted around the command, `check` returns the note. @param {string} label @param {() => Promise<Timed>} command @param {(result: Timed) => Promise<Partial<import('./measure.mjs').RunFacts>>} check @param {() => Promise<void>} [before] */
  const once = async (label, command, check, before) => {
    let loginsBefore = /** @type {Record<string, number>} */ ({})
    return measure({
      runs: 1,
      warmUp: false,
      label: `${label}, ${size} servers`,
      log,
      run: command,
      before: async () => {
        await before?.()
        loginsBefore = await loginCounts(hosts)
      },
      check: async (result) => {
        const facts = await check(result)
        const logins = loginDelta(loginsBefore, await loginCounts(hosts))
        return {
          recap: parseRecap(result.stdout),
          ...facts,
          logins,
          note: [loginNote(logins), facts.note].filter(Boolean).join('; '),
        }
      },
    })
  }
  /** A no-op sync: exit 0, every server changed=0, pids and mtimes as before. @param {string} label @param {() => Promise<Timed>} command @param {() => Promise<void>} [before] */
  const noop = (label, command, before) => {
    let state = ''
    return once(
      label,
      command,
      async (result) => {
        expectRun(result.exitCode === 0, `${label} failed`, result)
        const recap = parseRecap(result.stdout)
        const reportedNoChange = hosts.every((h) => recap.get(h.name)?.changed === 0)
        const untouched = (await snapshot(hosts)) === state
        expectRun(
          reportedNoChange && untouched,
          `${label}: ${reportedNoChange ? '' : 'reported a change; '}${untouched ? '' : 'files or pids changed'}`,
          result,
        )
        return { reportedNoChange, untouched, note: 'changed=0, pids and mtimes unchanged' }
      },
      async () => {
        await before?.()
        state = await snapshot(hosts)
      },
    )
  }
  /** @param {string} label @param {() => Promise<Timed>} command @param {() => Promise<void>} [before] */
  const status = (label, command, before) =>
    once(
      label,
      command,
      async (result) => {
        expectRun(result.exitCode === 0, `${label}: expected exit 0`, result)
        return { note: 'exit 0' }
      },
      before,
    )
  const closeAnsibleMasters = () => closeMasters(ansible, hostNames)

  log(`${size} servers: ours syncs them first (untimed; it also opens the SSH masters the warm runs join)`)
  await resetHosts(hosts)
  await syncOnce(oursWarm.sync(inventory), 'ours sync')
  await waitUntilRunning(hosts)
  /** @type {Partial<FleetRow>} */
  const noopRow = {}
  /** @type {Partial<FleetRow>} */
  const statusRow = {}
  noopRow.ours = await noop('ours no-op re-sync (warm)', () => oursWarm.sync(inventory))
  statusRow.ours = await status('ours status (warm)', () => oursWarm.status(inventory))
  noopRow.oursCold = await noop('ours no-op re-sync (cold, --no-persist)', () => oursCold.sync(inventory))
  statusRow.oursCold = await status('ours status (cold, --no-persist)', () => oursCold.status(inventory))
  // Cold first: its ControlMasters are what the warm runs after it join.
  statusRow.ansibleCold = await status(
    'Ansible status (cold)',
    () => ansibleStatus(ansible, hostNames),
    closeAnsibleMasters,
  )
  statusRow.ansible = await status('Ansible status (warm)', () => ansibleStatus(ansible, hostNames))
  noopRow.ansible = await noop('Ansible no-op re-sync (warm)', () => ansibleSync(ansible, hostNames))
  noopRow.ansibleCold = await noop(
    'Ansible no-op re-sync (cold)',
    () => ansibleSync(ansible, hostNames),
    closeAnsibleMasters,
  )

  // A failure below costs its own row only: the rows above took many minutes and stand on their own.
  const deploy = await rollingDeploy({ hosts, inventory, app: await writeApp(fleet), once, log }).catch((error) => ({
    notRun: failure(error, log),
  }))

  let baselineNote = 'notRun' in baseline ? baseline.notRun : undefined
  if ('runner' in baseline) {
    log(`${size} servers: the baseline (${BASELINE_COMMIT}, ${BASELINE_DIR}) syncs them from an empty conf.d (untimed)`)
    try {
      await resetHosts(hosts)
      await syncOnce(baseline.runner.sync(inventory), 'baseline sync')
      await waitUntilRunning(hosts)
      noopRow.baseline = await noop(`baseline ${BASELINE_COMMIT} no-op re-sync`, () => baseline.runner.sync(inventory))
      statusRow.baseline = await status(`baseline ${BASELINE_COMMIT} status`, () => baseline.runner.status(inventory))
    } catch (error) {
      baselineNote = failure(error, log)
    }
  }
  if (baselineNote) log(`baseline rows not run: ${baselineNote}`)
  return {
    size,
    noop: /** @type {FleetRow} */ (noopRow),
    status: /** @type {FleetRow} */ (statusRow),
    deploy,
    ...(baselineNote ? { baselineNote } : {}),
  }
}

/**
 * Rolling deploy of a new release to every server, `--batch 1` (one server at a time) against `--batch 25%`; skipped
 * while deploy has no --batch flag. Both deploy the same app, so each does the same work: upload, switch, restart, wait.
 * @param {{ hosts: Host[], inventory: string, app: string, log: (line: string) => void,
 *   once: (label: string, command: () => Promise<Timed>, check: (result: Timed) => Promise<Partial<import('./measure.mjs').RunFacts>>) => Promise<Measured> }} context
 * @returns {Promise<DeployRow>}
 */
async function rollingDeploy({ hosts, inventory, app, once, log }) {
  const help = await execa(process.execPath, taskArgv('deploy', ['--help']), {
    cwd: PROJECT,
    reject: false,
    stdin: 'ignore',
  })
  if (!/--batch\b/.test(help.stdout)) {
    const notRun = '`tasks/deploy.mjs --help` lists no --batch flag yet'
    log(`rolling deploy rows not run: ${notRun}`)
    return { notRun }
  }
  /** @param {string} batch @param {string} release */
  const deploy = (batch, release) =>
    once(
      `ours deploy --batch ${batch}`,
      () => oursWarm.deploy(inventory, ['--domain', DOMAIN, '--app-dir', app, '--release', release, '--batch', batch]),
      async (result) => {
        expectRun(result.exitCode === 0, `deploy --batch ${batch} failed`, result)
        const elsewhere = []
        for (const host of hosts) if ((await currentRelease(host)) !== `releases/${release}`) elsewhere.push(host.name)
        expectRun(
          elsewhere.length === 0,
          `deploy --batch ${batch}: current is not releases/${release} on ${elsewhere.join(', ')}`,
          result,
        )
        await waitUntilRunning(hosts)
        return { note: `release ${release} live, programs running` }
      },
    )
  return { batchOne: await deploy('1', 'bench-batch-1'), batchQuarter: await deploy('25%', 'bench-batch-25') }
}

/** What failed: all of it to the log, the first line (the check's message) for the report. @param {unknown} error @param {(line: string) => void} log */
function failure(error, log) {
  const message = error instanceof Error ? error.message : String(error)
  log(`failed: ${message}`)
  return `failed: ${message.split('\n')[0]}`
}

/** An untimed sync that sets the state the timed runs start from. @param {Promise<Timed>} running @param {string} what */
async function syncOnce(running, what) {
  const result = await running
  expectRun(result.exitCode === 0, `${what} (before the timed runs) failed`, result)
}

/**
 * The baseline's task scripts, when BASELINE_DIR holds commit BASELINE_COMMIT with its node_modules installed.
 * @returns {Promise<{ runner: import('./ours.mjs').TaskRunner } | { notRun: string }>}
 */
async function findBaseline() {
  const setup = `git worktree add --detach ${BASELINE_DIR} ${BASELINE_COMMIT} && (cd ${BASELINE_DIR} && npm ci)`
  if (
    !existsSync(path.join(BASELINE_DIR, 'node_modules', 'zx')) ||
    !existsSync(path.join(BASELINE_DIR, 'tasks', 'supervisor-sync.mjs'))
  ) {
    return { notRun: `no baseline checkout with node_modules at ${BASELINE_DIR}; to compare, run: ${setup}` }
  }
  const head = await execa('git', ['-C', BASELINE_DIR, 'rev-parse', 'HEAD'], { reject: false, stdin: 'ignore' })
  if (!String(head.stdout).startsWith(BASELINE_COMMIT)) {
    return {
      notRun: `${BASELINE_DIR} is at ${String(head.stdout).slice(0, 7) || 'no git commit'}, not ${BASELINE_COMMIT}; to compare, remove it and run: ${setup}`,
    }
  }
  // Its tasks import lib/*.ts: it ran with the tsx loader its .npmrc gave npx (node-options=--import=tsx).
  return { runner: taskRunner({ project: BASELINE_DIR, nodeArgs: ['--import', 'tsx'] }) }
}
