// The bench's servers: sandbox hosts in a temp dir, a deployed app, one inventory per fleet size, and what the
// bench looks at inside a host (files, their mtimes, processes, sshd logins) — read from outside, never over SSH.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { dump, load } from 'js-yaml'
import { hostExec, sandboxDown, sandboxUp } from '../dist/sandbox/index.js'
import { parseStatus } from '../dist/sandbox/supervisorctl.js'

export const DOMAIN = 'bench.test'
export const PROGRAMS = 10
const SITE_ROOT = `/home/deployer/sites/${DOMAIN}`
const WORKER = '#!/bin/sh\nexec sleep 100000\n'
/** worker-01 … worker-10; each its own script (a site runs one program per script). */
const PROGRAM_NAMES = Array.from({ length: PROGRAMS }, (_, i) => `worker-${String(i + 1).padStart(2, '0')}`)

/**
 * @typedef {import('../dist/sandbox/index.js').SandboxHost} Host
 * @typedef {{ dir: string, sandboxDir: string, sshConfig: string, hosts: Host[], inventories: Map<number, string> }} Fleet
 */

/**
 * Brings up `count` sandbox hosts in a fresh temp dir, deploys the app on each and writes an inventory per size.
 * @param {{ count: number, sizes: number[], log: (line: string) => void, signal: AbortSignal }} options
 * @returns {Promise<Fleet>}
 */
export async function startFleet({ count, sizes, log, signal }) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-bench-'))
  const sandboxDir = path.join(dir, 'sandbox')
  const generated = path.join(dir, 'sandbox.yml')
  /** @type {Fleet} */
  const fleet = { dir, sandboxDir, sshConfig: path.join(sandboxDir, 'ssh_config'), hosts: [], inventories: new Map() }
  try {
    fleet.hosts = (await sandboxUp({ dir: sandboxDir, count, inventoryPath: generated, log, signal })).hosts
    await Promise.all(fleet.hosts.map(deployApp))
    const servers = /** @type {{ servers: Array<{ name: string }> }} */ (load(await fs.readFile(generated, 'utf8')))
      .servers
    for (const size of sizes) {
      const file = path.join(dir, `inventory-${size}.yml`)
      await fs.writeFile(file, inventoryText(servers.slice(0, size)))
      fleet.inventories.set(size, file)
    }
    return fleet
  } catch (error) {
    await stopFleet(fleet)
    throw error
  }
}

/** @param {Fleet} fleet */
export async function stopFleet(fleet) {
  await sandboxDown({ dir: fleet.sandboxDir })
  await fs.rm(fleet.dir, { recursive: true, force: true })
}

/** One site on every server of the fleet with PROGRAMS programs (what `supervisor-create` would have written). */
function inventoryText(/** @type {Array<{ name: string }>} */ servers) {
  const supervisors = PROGRAM_NAMES.map((program) => ({ program, script: `${program}.sh` }))
  const site = { domain: DOMAIN, server: servers.map((s) => s.name), branch: 'main', php_version: '8.3', supervisors }
  return dump({ servers, sites: [site] })
}

/** A release with the worker scripts and `current` pointing at it, as a deploy would leave it. @param {Host} host */
async function deployApp(host) {
  const scripts = path.join(host.root, SITE_ROOT, 'releases', 'r1', '.deployer', 'supervisors')
  await fs.mkdir(scripts, { recursive: true })
  for (const program of PROGRAM_NAMES) await fs.writeFile(path.join(scripts, `${program}.sh`), WORKER, { mode: 0o755 })
  await fs.symlink('releases/r1', path.join(host.root, SITE_ROOT, 'current'))
  await mustExec(host, ['chown', '-R', 'deployer:deployer', '/home/deployer/sites'])
}

/** A built app as `deploy --app-dir` takes it: the worker scripts in .deployer/supervisors. @param {Fleet} fleet */
export async function writeApp(fleet) {
  const app = path.join(fleet.dir, 'app')
  const scripts = path.join(app, '.deployer', 'supervisors')
  await fs.mkdir(scripts, { recursive: true })
  for (const program of PROGRAM_NAMES) await fs.writeFile(path.join(scripts, `${program}.sh`), WORKER, { mode: 0o755 })
  return app
}

/** Where the site's `current` link points on the host. @param {Host} host */
export function currentRelease(host) {
  return fs.readlink(path.join(host.root, SITE_ROOT, 'current'))
}

/** Back to an empty conf.d: the programs' files removed and supervisor told, so a sync starts from nothing. @param {Host[]} hosts */
export async function resetHosts(hosts) {
  const script = `rm -f /etc/supervisor/conf.d/*.conf /etc/logrotate.d/supervisor-* ${SITE_ROOT}/runner.sh && supervisorctl update >/dev/null`
  await Promise.all(
    hosts.map(async (host) => {
      await mustExec(host, ['sh', '-c', script])
      const left = await processes(host)
      if (left.length) throw new Error(`${host.name}: processes left after reset: ${left.join(', ')}`)
    }),
  )
}

/** `name pid` of every process supervisor knows on the host. @param {Host} host */
export async function processes(host) {
  const result = await hostExec(host, ['env', 'LC_ALL=C', 'supervisorctl', 'status'])
  return parseStatus(result.stdout).map((p) => `${p.name} ${p.pid ?? '-'}`)
}

/** Waits until every program runs (a pid to compare): supervisorctl shows none while a process is STARTING. @param {Host[]} hosts */
export async function waitUntilRunning(hosts, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (const host of hosts) {
    let running = await processes(host)
    while (running.length !== PROGRAMS || running.some((p) => p.endsWith(' -'))) {
      if (Date.now() > deadline)
        throw new Error(`${host.name}: programs not all running after ${timeoutMs / 1000} s: ${running.join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
      running = await processes(host)
    }
  }
}

/** The files a sync writes (and their directories), with mtimes in ns: a no-op must leave every one alone. @param {Host} host */
export async function fileTimes(host) {
  const dirs = ['etc/supervisor/conf.d', 'etc/logrotate.d', SITE_ROOT.slice(1)]
  /** @type {Record<string, string>} */
  const times = {}
  for (const dir of dirs) {
    const full = path.join(host.root, dir)
    times[`${dir}/`] = String((await fs.stat(full, { bigint: true })).mtimeNs)
    for (const name of (await fs.readdir(full)).sort()) {
      times[`${dir}/${name}`] = String((await fs.lstat(path.join(full, name), { bigint: true })).mtimeNs)
    }
  }
  return times
}

/** What a no-op is compared on: processes with pids, and file mtimes. @param {Host[]} hosts */
export async function snapshot(hosts) {
  return JSON.stringify(
    await Promise.all(
      hosts.map(async (h) => ({ host: h.name, processes: await processes(h), files: await fileTimes(h) })),
    ),
  )
}

/** "Accepted publickey" lines in each host's sshd log: one per SSH connection. @param {Host[]} hosts */
export async function loginCounts(hosts) {
  /** @type {Record<string, number>} */
  const counts = {}
  for (const host of hosts) {
    const text = await fs.readFile(path.join(host.root, 'var/log/sshd.log'), 'utf8').catch(() => '')
    counts[host.name] = text.split('\n').filter((line) => line.includes('Accepted publickey')).length
  }
  return counts
}

/** @param {Record<string, number>} before @param {Record<string, number>} after */
export function loginDelta(before, after) {
  return Object.fromEntries(Object.keys(after).map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]))
}

/**
 * Checks a sync did the whole job: every rendered file on the host byte for byte, one process per program.
 * @param {Host[]} hosts @param {(name: string) => import('zx-supervisor').RemoteFile[]} filesFor
 */
export async function verifySynced(hosts, filesFor) {
  for (const host of hosts) {
    for (const file of filesFor(host.name)) {
      const content = await fs.readFile(path.join(host.root, file.path), 'utf8').catch(() => undefined)
      if (content !== file.content) throw new Error(`${host.name}: ${file.path} is not what the renderer produced`)
    }
    const running = await processes(host)
    if (running.length !== PROGRAMS)
      throw new Error(
        `${host.name}: ${running.length} processes after sync, expected ${PROGRAMS}: ${running.join(', ')}`,
      )
  }
}

/** @param {Host} host @param {string[]} argv */
async function mustExec(host, argv) {
  const result = await hostExec(host, argv)
  if (result.exitCode !== 0)
    throw new Error(`${host.name}: ${argv.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim()}`)
}
