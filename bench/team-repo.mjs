// The team-repo rows of the bench: a repository made the way a team makes one (the packed tarball installed with
// zx, then `npx zx-supervisor init`), where `npx zx tasks/...` runs the package from node_modules/, as in real use.
// Its status of 3 servers (the sandbox's, in init's inventory) is timed against Ansible warm, in turn.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { dump, load } from 'js-yaml'
import { ansibleStatus } from './ansible.mjs'
import { expectRun, median, plainEnv, seconds, throwIfInterrupted, timed } from './measure.mjs'
import { PROJECT } from './ours.mjs'

/**
 * @typedef {import('./measure.mjs').Timed} Timed
 * @typedef {{ dir: string, repo: string, tarball: string }} TeamRepo
 * @typedef {{ ours: { median: number, samples: number[] }, ansible: { median: number, samples: number[] } }} TeamStatus
 */

export const TEAM_ZX = 'zx@8.8.5'
export const TEAM_EMPTY = 'empty.mjs'
const TEAM_INVENTORY = path.join('inventory', 'inventory.yml')
const TEAM_STATUS_TASK = path.join('tasks', 'supervisor-status.mjs')

/**
 * `npm pack` here (prepack builds), then in a temp dir: `npm init -y`, `npm install <tarball> zx@8.8.5` and
 * `npx zx-supervisor init` (the installed package's own bin). Its inventory is init's example until
 * `useSandboxInventory` puts the bench's servers in it: nothing may run against the example's addresses.
 * @param {(line: string) => void} log @returns {Promise<TeamRepo>}
 */
export async function createTeamRepo(log) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-team-'))
  const repo = path.join(dir, 'repo')
  try {
    const run = (/** @type {string} */ file, /** @type {string[]} */ args, /** @type {string} */ cwd) =>
      execa(file, args, { cwd, env: teamEnv(), extendEnv: false, stdin: 'ignore' })
    log(
      `team repo: npm pack (runs the build), npm init -y, npm install of the tarball and ${TEAM_ZX}, then npx zx-supervisor init in ${repo}`,
    )
    await run('npm', ['pack', '--pack-destination', dir], PROJECT)
    const tarball = (await fs.readdir(dir)).find((name) => name.endsWith('.tgz'))
    if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`)
    await fs.mkdir(repo)
    await run('npm', ['init', '-y'], repo)
    await run('npm', ['install', '--no-audit', '--no-fund', path.join(dir, tarball), TEAM_ZX], repo)
    const init = await run('npx', ['--no-install', 'zx-supervisor', 'init'], repo)
    for (const file of [TEAM_INVENTORY, TEAM_STATUS_TASK]) {
      if (!init.stdout.includes(`created ${file}`))
        throw new Error(`npx zx-supervisor init did not create ${file}:\n${init.stdout}`)
    }
    await fs.writeFile(path.join(repo, TEAM_EMPTY), "console.log('empty')\n")
    return { dir, repo, tarball: path.join(dir, tarball) }
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true })
    throw error
  }
}

/**
 * The team's inventory (init's inventory/inventory.yml, the default every task reads) with the bench's sandbox
 * servers and its site in place of the example's: init's other keys stay. Its id is the one of the inventory that
 * synced those servers (the bench's, which sets none: "default"), so the team's status owns the files it finds there.
 * Refuses to leave a single example server (203.0.113.x, example.net) in it.
 * @param {TeamRepo} team @param {string} sandboxInventory an inventory of the bench's fleet (bench/fleet.mjs)
 */
export async function useSandboxInventory(team, sandboxInventory) {
  const file = path.join(team.repo, TEAM_INVENTORY)
  const made = /** @type {Record<string, unknown>} */ (load(await fs.readFile(file, 'utf8')))
  const sandbox = /** @type {{ id?: string, servers: unknown[], sites: unknown[] }} */ (
    load(await fs.readFile(sandboxInventory, 'utf8'))
  )
  const text = dump({ ...made, id: sandbox.id ?? 'default', servers: sandbox.servers, sites: sandbox.sites })
  if (/203\.0\.113\.|example\.(net|com)/.test(text)) throw new Error(`${file} still names an example server or site`)
  await fs.writeFile(
    file,
    `# Written by npx zx-supervisor init, then the bench's sandbox servers and site put in place of the example's.\n${text}`,
  )
}

/** npm and npx as a user's shell runs them, without a ZXS_INVENTORY or ZXS_CONTROL_PERSIST of the bench's shell. */
function teamEnv() {
  const { ZXS_CONTROL_PERSIST: _persist, ZXS_INVENTORY: _inventory, ...env } = plainEnv()
  return env
}

/** @param {TeamRepo} team */
export async function removeTeamRepo(team) {
  await fs.rm(team.dir, { recursive: true, force: true })
}

/** `npx zx tasks/supervisor-status.mjs` in the team repo: its default inventory, warm (masters kept 60 s). @param {TeamRepo} team */
export function teamStatus(team) {
  return timed('npx', ['zx', TEAM_STATUS_TASK], { cwd: team.repo, env: teamEnv() })
}

/**
 * The team repo's status of the servers (its inventory given the sandbox's first) against Ansible's, warm, in turn
 * (ours, Ansible, ours, …) after one warm-up of each, so a change in machine load hits both alike. Each run must exit 0.
 * @param {{ team: TeamRepo, inventory: string, ansible: import('./ansible.mjs').AnsibleSetup, hosts: string[],
 *   runs: number, log: (line: string) => void }} context
 * @returns {Promise<TeamStatus>}
 */
export async function teamStatusAgainstAnsible({ team, inventory, ansible, hosts, runs, log }) {
  /** @type {number[]} */
  const ours = []
  /** @type {number[]} */
  const theirs = []
  await useSandboxInventory(team, inventory)
  for (let i = 0; i <= runs; i++) {
    throwIfInterrupted()
    const mine = await teamStatus(team)
    expectRun(mine.exitCode === 0, 'team repo: npx zx tasks/supervisor-status.mjs failed', mine)
    const other = await ansibleStatus(ansible, hosts)
    expectRun(other.exitCode === 0, 'Ansible status failed', other)
    const name = i === 0 ? 'warm-up' : `run ${i}/${runs}`
    log(`team repo status vs Ansible warm: ${name} ${seconds(mine.ms)} vs ${seconds(other.ms)}`)
    if (i === 0) continue
    ours.push(mine.ms)
    theirs.push(other.ms)
  }
  return { ours: { median: median(ours), samples: ours }, ansible: { median: median(theirs), samples: theirs } }
}
