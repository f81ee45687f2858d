#!/usr/bin/env zx
// Local throwaway servers for the demo and the integration tests: up, down, status. Run with --help.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgv } from 'zx'
// The sandbox is this repository's own, built per file (not in the package's bundle): its errors are these classes.
import { EXIT, InterruptedError, ZxsError } from '../dist/lib/errors.js'
import {
  DEFAULT_LAYOUT,
  SANDBOX_LAYOUTS,
  SANDBOX_PACKAGES,
  sandboxDown,
  sandboxStatus,
  sandboxUp,
} from '../dist/sandbox/index.js'

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DEFAULT_DIR = path.join(PROJECT, '.sandbox')
const DEFAULT_INVENTORY = path.join(PROJECT, 'inventory', 'sandbox.yml')
const FLAGS = { string: ['servers', 'dir', 'inventory', 'address', 'layout'], boolean: ['force', 'json', 'help'] }

const USAGE = `Usage: npx zx tasks/sandbox.mjs <up|down|status> [flags]

Real local throwaway servers: each host has its own sshd on 127.0.0.N:22 and its own supervisord,
in private mount, UTS and PID namespaces. Needs root and these Debian packages (up installs the
missing ones with apt-get): ${SANDBOX_PACKAGES.join(' ')}

Commands:
  up       start N hosts named sandbox-1 … sandbox-N (tears down hosts DIR already holds), write
           DIR/state.json, DIR/known_hosts, DIR/ssh_config and the inventory; exit 0 once every
           host answered an SSH login. An inventory that differs from what up last wrote there
           (supervisor-create edited it, or it is another file) is not replaced: exit 2, unless --force
  down     stop every host of DIR and all they started, remove DIR, and remove the inventory if it is
           still as up wrote it (an edited one is kept); no DIR: exit 0
  status   per host: address, layout, and whether its init, sshd and supervisord run (exit 3 if one
           does not)

Flags:
  --servers N        up: how many hosts, 1 to 64 (default 1)
  --dir DIR          the sandbox's state directory (default ${shown(DEFAULT_DIR)})
  --inventory PATH   up: the inventory to write (default ${shown(DEFAULT_INVENTORY)})
  --address A        up: first host address, in 127.0.0.0/8 (default: the first free from 127.0.0.2)
  --layout L         up: whose supervisor layout the hosts imitate: ${SANDBOX_LAYOUTS.join(', ')} (default ${DEFAULT_LAYOUT}).
                     debian: /etc/supervisor/supervisord.conf, conf.d/*.conf, /run/supervisor.sock;
                     rhel: /etc/supervisord.conf, supervisord.d/*.ini, /run/supervisor/supervisor.sock;
                     alpine: /etc/supervisord.conf, /etc/supervisor.d/*.ini, /run/supervisord.sock.
                     rhel and alpine hosts get a private /etc (an overlay over this machine's, which
                     stays untouched) without Debian's /etc/supervisor and init script
  --force            up: replace the inventory even if it was edited since up wrote it
  --json             up: print state.json on stdout; status: print the status as JSON
  --help             show this text

Example:
  sudo npx zx tasks/sandbox.mjs up --servers 3
  sudo npx zx tasks/sandbox.mjs up --servers 2 --layout rhel --dir .sandbox-rhel --inventory inventory/sandbox-rhel.yml
  npx zx tasks/supervisor-sync.mjs --inventory inventory/sandbox.yml
  ssh -F .sandbox/ssh_config sandbox-1 sudo supervisorctl status
  sudo npx zx tasks/sandbox.mjs down
`

/**
 * @typedef {{ _: string[], servers?: string, dir?: string, inventory?: string, address?: string, layout?: string, force?: boolean, json?: boolean, help?: boolean }} Flags
 */

/**
 * Runs one sandbox command with script arguments (`['up', '--servers', '3']`); returns the exit code.
 * @param {string[]} args
 * @returns {Promise<number>}
 */
export async function sandbox(args) {
  const flags = /** @type {Flags} */ (parseArgv(args, FLAGS))
  const [command, ...extra] = flags._.map(String)
  if (flags.help) return say(USAGE, EXIT.ok)
  const unknown = Object.keys(flags).filter((key) => key !== '_' && ![...FLAGS.string, ...FLAGS.boolean].includes(key))
  if (!['up', 'down', 'status'].includes(command ?? '') || extra.length || unknown.length) {
    const what = unknown.length
      ? `unknown flag --${unknown[0]}`
      : extra.length
        ? `unexpected argument ${extra[0]}`
        : 'give a command: up, down or status'
    return say(`${what}. Usage: npx zx tasks/sandbox.mjs <up|down|status> [flags]  (more: --help)\n`, EXIT.badInput)
  }
  const dir = path.resolve(flags.dir ?? DEFAULT_DIR)
  try {
    if (command === 'up') return await up(flags, dir)
    if (command === 'down') {
      await sandboxDown({ dir, log })
      return EXIT.ok
    }
    return await status(flags, dir)
  } catch (error) {
    return report(error)
  }
}

/** @param {Flags} flags @param {string} dir */
async function up(flags, dir) {
  const count = flags.servers === undefined ? 1 : Number(flags.servers)
  const inventoryPath = path.resolve(flags.inventory ?? DEFAULT_INVENTORY)
  const abort = new AbortController()
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and forwarded by npx).
  const interrupt = (/** @type {NodeJS.Signals} */ signal) => abort.abort(new InterruptedError(signal))
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, interrupt)
  try {
    const layout = /** @type {import('../dist/sandbox/index.js').SandboxLayoutName | undefined} */ (flags.layout)
    const state = await sandboxUp({
      dir,
      count,
      inventoryPath,
      replaceInventory: flags.force,
      firstAddress: flags.address,
      layout,
      log,
      signal: abort.signal,
    })
    log(`inventory written; use it with: --inventory ${shown(inventoryPath)}`)
    log(`log in with: ssh -F ${shown(path.join(dir, 'ssh_config'))} sandbox-1`)
    if (flags.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`)
    return EXIT.ok
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(signal, interrupt)
  }
}

/** @param {Flags} flags @param {string} dir */
async function status(flags, dir) {
  const result = await sandboxStatus(dir)
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  else if (!result.exists) log(`no sandbox in ${dir}`)
  else {
    const yesNo = (/** @type {boolean} */ value) => (value ? 'yes' : 'NO')
    process.stdout.write(`${['NAME', 'ADDRESS', 'RUNNING', 'INIT', 'SSHD', 'SUPERVISORD', 'LAYOUT'].join('\t')}\n`)
    for (const host of result.hosts) {
      process.stdout.write(
        `${[host.name, `${host.address}:${host.port}`, yesNo(host.running), yesNo(host.init), yesNo(host.sshd), yesNo(host.supervisord), host.layout].join('\t')}\n`,
      )
    }
  }
  return result.exists && result.hosts.every((host) => host.running) ? EXIT.ok : EXIT.notRunning
}

/** A path as short as it can be said from here. @param {string} file */
function shown(file) {
  const relative = path.relative(process.cwd(), file)
  return relative.startsWith('..') ? file : relative
}

/** @param {string} line */
function log(line) {
  process.stderr.write(`sandbox: ${line}\n`)
}

/** @param {string} text @param {number} code */
function say(text, code) {
  ;(code === EXIT.ok ? process.stdout : process.stderr).write(text)
  return code
}

/** @param {unknown} error */
function report(error) {
  if (!(error instanceof ZxsError)) throw error
  process.stderr.write(`ERROR (${error.name}): ${error.message}\n`)
  if ('details' in error && error.details) process.stderr.write(`${error.details}\n`)
  return error.exitCode
}

/** The arguments after this script's path when it is the script being run (`npx zx tasks/sandbox.mjs …`). */
function scriptArgs() {
  const self = fileURLToPath(import.meta.url)
  const at = process.argv.findIndex((arg, i) => i > 0 && path.resolve(arg) === self)
  return at === -1 ? undefined : process.argv.slice(at + 1)
}

const args = scriptArgs()
if (args) process.exitCode = await sandbox(args)
