// This project's side of the bench: the real task scripts, spawned as a user runs them (a fresh node each time).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { timed } from './measure.mjs'

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ZX_CLI = path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js')

/** `node --import tsx node_modules/zx/build/cli.js tasks/<task>.mjs ...`: what `npx zx tasks/<task>.mjs` runs. */
export function taskArgv(/** @type {string} */ task, /** @type {string[]} */ args) {
  return ['--import', 'tsx', ZX_CLI, path.join('tasks', `${task}.mjs`), ...args]
}

/** @param {string} inventory */
export function oursSync(inventory) {
  return timed(process.execPath, taskArgv('supervisor-sync', ['--inventory', inventory, '--all']), { cwd: PROJECT })
}

/** @param {string} inventory */
export function oursStatus(inventory) {
  return timed(process.execPath, taskArgv('supervisor-status', ['--inventory', inventory]), { cwd: PROJECT })
}

/** The command as a person would type it, for the report. */
export function oursCommand(/** @type {string} */ task, /** @type {string} */ flags) {
  return `node --import tsx node_modules/zx/build/cli.js tasks/${task}.mjs ${flags}`
}
