// The team-repo rows of the bench: a repository made the way a team makes one (the packed tarball installed with
// zx, the task scripts written as `npx zx-supervisor init` writes them), where `npx zx tasks/...` runs the package
// from node_modules/, as in real use. Its status of 3 servers is timed against Ansible warm, in turn.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
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

/** `npm pack` here (prepare builds), then in a temp dir: `npm init -y`, `npm install <tarball> zx@8.8.5`, init. @param {(line: string) => void} log @returns {Promise<TeamRepo>} */
export async function createTeamRepo(log) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-team-'))
  const repo = path.join(dir, 'repo')
  const npm = (/** @type {string[]} */ args, /** @type {string} */ cwd) =>
    execa('npm', args, { cwd, env: plainEnv(), extendEnv: false, stdin: 'ignore' })
  log(`team repo: npm pack (runs the build), then npm init -y and npm install of the tarball and ${TEAM_ZX} in ${repo}`)
  await npm(['pack', '--pack-destination', dir], PROJECT)
  const tarball = (await fs.readdir(dir)).find((name) => name.endsWith('.tgz'))
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`)
  await fs.mkdir(repo)
  await npm(['init', '-y'], repo)
  await npm(['install', '--no-audit', '--no-fund', path.join(dir, tarball), TEAM_ZX], repo)
  await initTeamRepo(repo)
  await fs.writeFile(path.join(repo, TEAM_EMPTY), "console.log('empty')\n")
  return { dir, repo, tarball: path.join(dir, tarball) }
}

/**
 * What `npx zx-supervisor init` does for the rows timed here. Until that command is on this branch, the status task
 * is written by hand with exactly the content init writes; then this becomes:
 * `await execa('npx', ['zx-supervisor', 'init'], { cwd: repo, env: plainEnv(), extendEnv: false, stdin: 'ignore' })`.
 * @param {string} repo
 */
async function initTeamRepo(repo) {
  await fs.mkdir(path.join(repo, 'tasks'), { recursive: true })
  await fs.writeFile(
    path.join(repo, 'tasks', 'supervisor-status.mjs'),
    `#!/usr/bin/env zx
// supervisor-status: programs and processes per server, and whether the live conf matches the inventory (drift).
import { runIfMain } from 'zx-supervisor/cli'
import { supervisorStatus } from 'zx-supervisor/tasks/supervisor-status'

await runIfMain(import.meta.url, supervisorStatus)
`,
  )
}

/** @param {TeamRepo} team */
export async function removeTeamRepo(team) {
  await fs.rm(team.dir, { recursive: true, force: true })
}

/** `npx zx tasks/supervisor-status.mjs --inventory INVENTORY` in the team repo, warm (masters kept 60 s). @param {TeamRepo} team @param {string} inventory */
export function teamStatus(team, inventory) {
  const { ZXS_CONTROL_PERSIST: _persist, ...env } = plainEnv()
  return timed('npx', ['zx', path.join('tasks', 'supervisor-status.mjs'), '--inventory', inventory], {
    cwd: team.repo,
    env,
  })
}

/**
 * The team repo's status of the servers against Ansible's, warm, in turn (ours, Ansible, ours, …) after one warm-up of
 * each, so a change in machine load hits both alike. Each run must exit 0.
 * @param {{ team: TeamRepo, inventory: string, ansible: import('./ansible.mjs').AnsibleSetup, hosts: string[],
 *   runs: number, log: (line: string) => void }} context
 * @returns {Promise<TeamStatus>}
 */
export async function teamStatusAgainstAnsible({ team, inventory, ansible, hosts, runs, log }) {
  /** @type {number[]} */
  const ours = []
  /** @type {number[]} */
  const theirs = []
  for (let i = 0; i <= runs; i++) {
    throwIfInterrupted()
    const mine = await teamStatus(team, inventory)
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
