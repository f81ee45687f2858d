// This project's side of the bench: the real task scripts, spawned as a user runs them (a fresh node each time),
// from this checkout or from the baseline's (an older commit checked out elsewhere, its own node_modules).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { plainEnv, timed } from './measure.mjs'

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * @typedef {import('./measure.mjs').Timed} Timed
 * @typedef {{ sync: (inventory: string) => Promise<Timed>, status: (inventory: string) => Promise<Timed>,
 *   deploy: (inventory: string, args: string[]) => Promise<Timed> }} TaskRunner
 */

/**
 * `node <project>/node_modules/zx/build/cli.js tasks/<task>.mjs ...`: what `npx zx tasks/<task>.mjs` runs, minus npx.
 * The tasks import the package by its name, which resolves to the project's build (dist/); nothing loads TypeScript.
 * `nodeArgs` go before the script (the baseline's tasks import lib/*.ts and need `--import tsx`).
 */
export function taskArgv(
  /** @type {string} */ task,
  /** @type {string[]} */ args,
  project = PROJECT,
  /** @type {string[]} */ nodeArgs = [],
) {
  return [
    ...nodeArgs,
    path.join(project, 'node_modules', 'zx', 'build', 'cli.js'),
    path.join('tasks', `${task}.mjs`),
    ...args,
  ]
}

/**
 * The task scripts of `project`. Warm (the default): SSH masters outlive a run by 60 s and the next run joins them;
 * cold: `--no-persist`, so every run logs in anew. The baseline knows neither, so it gets no flag (always cold).
 * @param {{ project?: string, persistFlag?: '--no-persist', nodeArgs?: string[] }} [options]
 * @returns {TaskRunner}
 */
export function taskRunner({ project = PROJECT, persistFlag, nodeArgs = [] } = {}) {
  // A ZXS_CONTROL_PERSIST of the shell running the bench must not decide what "warm" means here.
  const { ZXS_CONTROL_PERSIST: _persist, ...env } = plainEnv()
  const flags = persistFlag ? [persistFlag] : []
  const run = (/** @type {string} */ task, /** @type {string[]} */ args) =>
    timed(process.execPath, taskArgv(task, [...args, ...flags], project, nodeArgs), { cwd: project, env })
  return {
    sync: (inventory) => run('supervisor-sync', ['--inventory', inventory, '--all']),
    status: (inventory) => run('supervisor-status', ['--inventory', inventory]),
    deploy: (inventory, args) => run('deploy', ['--inventory', inventory, ...args]),
  }
}

export const oursWarm = taskRunner()
export const oursCold = taskRunner({ persistFlag: '--no-persist' })

/** The command as a person would type it, for the report. */
export function oursCommand(/** @type {string} */ task, /** @type {string} */ flags) {
  return `node node_modules/zx/build/cli.js tasks/${task}.mjs ${flags}`
}
