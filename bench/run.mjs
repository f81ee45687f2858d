#!/usr/bin/env node
// npm run bench [-- --runs N] [-- --fleet | --status-only]: the same supervisor work through zx-supervisor and
// through Ansible (ansible-core from Debian) on sandbox servers, and the SPEC §8 targets. Our side is the real task
// scripts spawned as a user runs them (`node node_modules/zx/build/cli.js tasks/...`, what `npx zx tasks/...` runs
// minus npx), so node and zx start-up are in every figure; a team repo made from the packed tarball by the real
// `npx zx-supervisor init` adds its `npx zx` rows.
// --fleet adds 48 servers (no-op sync, status, rolling deploy; against the baseline commit), once each.
// --status-only: issue 16's rows alone (task start, status of 3 servers here and in the team repo, the start-up
// breakdown), on 3 servers; the sync rows (several minutes of Ansible each on a loaded machine) are left out.
// Needs root (sandbox servers; installs ansible-core when missing). Not a test: nothing here is part of npm test.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { ansibleCommand, closeMasters, ensureAnsible, prepareAnsible } from './ansible.mjs'
import { taskStart, whereTimeGoes } from './breakdown.mjs'
import { startFleet, stopFleet } from './fleet.mjs'
import { FLEET_SIZE, largeFleetRows } from './large-fleet.mjs'
import { interrupt } from './measure.mjs'
import { oursCommand, PROJECT } from './ours.mjs'
import { renderedFiles } from './rendered.mjs'
import { loadAverage, machineFacts, markdownReport, terminalReport } from './report.mjs'
import { createScenarios, inventoryOf, names } from './scenarios.mjs'
import { createTeamRepo, removeTeamRepo, TEAM_EMPTY, teamStatusAgainstAnsible } from './team-repo.mjs'

const USAGE =
  'usage: npm run bench [-- [--runs N] [--fleet | --status-only]]   (root; sandbox servers; installs ansible-core when missing)\n'
const { runs, withFleet, statusOnly } = parseFlags(process.argv.slice(2))
const SIZES = statusOnly ? [3] : [1, 3, 9]
const log = (/** @type {string} */ line) => process.stderr.write(`bench: ${line}\n`)
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    log(`${signal}: stopping; tearing the sandbox servers down`)
    interrupt.abort()
  })
}

/** @type {Array<{ fleet: import('./fleet.mjs').Fleet, ansible?: import('./ansible.mjs').AnsibleSetup }>} */
const running = []
/** @type {import('./team-repo.mjs').TeamRepo | undefined} */
let team
try {
  const ansibleVersion = await ensureAnsible(log)
  const facts = machineFacts(ansibleVersion, runs)
  // A team's repo, from the packed tarball (npm install needs the registry): without it, its rows are marked not run.
  /** @type {string | undefined} */
  let teamNote
  try {
    team = await createTeamRepo(log)
  } catch (error) {
    teamNote = `the team repo could not be made: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`
    log(teamNote)
  }
  // First, while no sandbox server runs: start-up is what these rows compare.
  const start = await taskStart({ runs, log })
  const teamStart = team
    ? await taskStart({ runs, log, cwd: team.repo, empty: TEAM_EMPTY, where: 'a team repo' })
    : undefined

  const { fleet, ansible, filesFor } = await bringUp(Math.max(...SIZES), SIZES)
  const bench = createScenarios({ fleet, ansible, filesFor, runs, log })
  /** One scenario through each tool, in turn: each cold run follows a warm one, so it needs no warm-up. @param {string} label @param {number} servers @param {(tool: import('./scenarios.mjs').Tool) => Promise<import('./measure.mjs').Measured>} scenario */
  const compare = async (label, servers, scenario) => ({
    label,
    servers,
    ansible: await scenario('ansible'),
    ansibleCold: await scenario('ansible-cold'),
    ours: await scenario('ours'),
    oursCold: await scenario('ours-cold'),
  })
  // --status-only: one untimed sync of ours, so the status rows find every program running.
  const sync3 = statusOnly
    ? await bench.syncOnce(3)
    : await compare('sync 10 programs → 3 servers (empty conf.d)', 3, (tool) => bench.syncFromEmpty(tool, 3))
  const noop = statusOnly ? undefined : await compare('no-op re-sync, 3 servers', 3, (tool) => bench.noop(tool, 3))
  const status = await compare('status, 3 servers (all running)', 3, (tool) => bench.status(tool, 3))
  const teamStatus = team
    ? await teamStatusAgainstAnsible({
        team,
        inventory: inventoryOf(fleet, 3),
        ansible,
        hosts: names(fleet, 3),
        runs,
        log,
      })
    : undefined
  const drift = await compare('status, 3 servers, one conf edited by hand (ours: drift, exit 3)', 3, (tool) =>
    bench.statusWithDrift(tool, 3),
  )
  const sync1 = statusOnly
    ? undefined
    : await compare('sync 10 programs → 1 server', 1, (tool) => bench.syncFromEmpty(tool, 1))
  const sync9 = statusOnly
    ? undefined
    : await compare('sync 10 programs → 9 servers', 9, (tool) => bench.syncFromEmpty(tool, 9))
  const parts = await whereTimeGoes({ fleet, runs, log })
  await tearDown()

  let large
  if (withFleet) {
    const big = await bringUp(FLEET_SIZE, [FLEET_SIZE])
    large = await largeFleetRows({ fleet: big.fleet, ansible: big.ansible, log })
    await tearDown()
  }

  const results = {
    rows: sync3 && noop && sync1 && sync9 ? [sync3, noop, status, drift, sync1, sync9] : [status, drift],
    ...(sync3 && noop && sync1 && sync9 ? { syncs: { sync1, sync3, sync9, noop } } : {}),
    status,
    drift,
    start,
    parts,
    team: teamStart && teamStatus ? { start: teamStart, status: teamStatus } : { notRun: teamNote ?? 'not run' },
    ...(large ? { fleet: large } : {}),
    facts: { ...facts, machine: `${facts.machine}, at the end ${loadAverage()}` },
    commands: [
      `ours: \`${oursCommand('supervisor-sync', '--inventory INVENTORY --all')}\`, \`${oursCommand('supervisor-status', '--inventory INVENTORY')}\`; cold: the same with \`--no-persist\``,
      `Ansible: \`${ansibleCommand('sync.yml')}\`, \`${ansibleCommand('status.yml')}\` (forks 10, pipelining, no fact gathering; ControlMaster with ControlPersist 60s: "warm" reuses the masters of the previous run, "cold" closes them first)`,

      'team repo: `npm pack` here, then in a temp dir `npm init -y`, `npm install <tarball> zx@8.8.5` and `npx zx-supervisor init`; its inventory/inventory.yml then gets the sandbox servers and site in place of the example ones; timed there: `npx zx tasks/supervisor-status.mjs` (its default inventory, warm, in turn with Ansible warm), and `npx zx tasks/supervisor-status.mjs --help` against `npx zx empty.mjs` (one console.log)',
    ],
  }
  process.stdout.write(terminalReport(results))
  await fs.writeFile(path.join(PROJECT, 'bench', 'results.md'), markdownReport(results))
  log('written: bench/results.md')
} catch (error) {
  log(interrupt.signal.aborted ? 'interrupted' : `failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = interrupt.signal.aborted ? 130 : 1
} finally {
  await tearDown()
  if (team) await removeTeamRepo(team)
}

/** Sandbox servers with the app deployed, an inventory per size, and Ansible's files for them. @param {number} count @param {number[]} sizes */
async function bringUp(count, sizes) {
  const fleet = await startFleet({ count, sizes, log, signal: interrupt.signal })
  const entry = { fleet, ansible: /** @type {import('./ansible.mjs').AnsibleSetup | undefined} */ (undefined) }
  running.push(entry)
  const filesFor = await renderedFiles(fleet.inventories.get(count) ?? '')
  const ansible = await prepareAnsible({
    dir: fleet.dir,
    sshConfig: fleet.sshConfig,
    hosts: fleet.hosts.map((h) => h.name),
    filesFor,
  })
  entry.ansible = ansible
  return { fleet, ansible, filesFor }
}

/** Stops every sandbox fleet still up (our warm SSH masters end with their servers). */
async function tearDown() {
  for (const { fleet, ansible } of running.splice(0)) {
    if (ansible)
      await closeMasters(
        ansible,
        fleet.hosts.map((h) => h.name),
      )
    await stopFleet(fleet).then(
      () => log('sandbox servers stopped'),
      (error) => log(`teardown failed: ${error}; remove with: npx zx tasks/sandbox.mjs down --dir ${fleet.sandboxDir}`),
    )
  }
}

/** `--runs N` (default 3): timed runs per figure, after one warm-up; `--fleet`: add the 48-server rows. @param {string[]} args */
function parseFlags(args) {
  if (args.includes('--help')) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const index = args.indexOf('--runs')
  const valueAt = index === -1 ? -1 : index + 1
  const value = index === -1 ? 3 : Number(args[valueAt])
  const flags = ['--runs', '--fleet', '--status-only']
  const unknown = args.some((arg, i) => i !== valueAt && !flags.includes(arg))
  const both = args.includes('--fleet') && args.includes('--status-only')
  if (!Number.isInteger(value) || value < 1 || unknown || both) {
    process.stderr.write(`${USAGE}N ≥ 1, default 3; --fleet and --status-only exclude each other\n`)
    process.exit(2)
  }
  return { runs: value, withFleet: args.includes('--fleet'), statusOnly: args.includes('--status-only') }
}
