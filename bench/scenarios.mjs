// The kinds of work the bench times, the same for both tools: sync from an empty conf.d, a no-op re-sync, status
// (and ours once more with a hand-edited conf, which it must report as drift). Each run is checked (untimed) for
// having done the work, and the sshd logins it made are counted.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { ansibleStatus, ansibleSync, closeMasters } from './ansible.mjs'
import { DOMAIN, loginCounts, loginDelta, resetHosts, snapshot, verifySynced, waitUntilRunning } from './fleet.mjs'
import { expectRun, measure, parseRecap } from './measure.mjs'
import { oursCold, oursWarm } from './ours.mjs'

/**
 * @typedef {import('./fleet.mjs').Fleet} Fleet
 * @typedef {import('./fleet.mjs').Host} Host
 * @typedef {import('./measure.mjs').Timed} Timed
 * @typedef {'ours' | 'ours-cold' | 'ansible' | 'ansible-cold'} Tool
 *   warm: SSH masters kept between runs (ours by default, Ansible by ControlPersist); cold: every run logs in anew
 * @typedef {{ sync: (n: number) => Promise<Timed>, status: (n: number) => Promise<Timed> }} Commands
 */

/**
 * @param {{ fleet: Fleet, ansible: import('./ansible.mjs').AnsibleSetup, filesFor: (host: string) => import('zx-supervisor').RemoteFile[],
 *   runs: number, log: (line: string) => void }} context
 */
export function createScenarios({ fleet, ansible, filesFor, runs, log }) {
  /** @type {Commands} */
  const viaAnsible = {
    sync: (n) => ansibleSync(ansible, names(fleet, n)),
    status: (n) => ansibleStatus(ansible, names(fleet, n)),
  }
  /** @type {Record<Tool, Commands>} */
  const commands = {
    ours: { sync: (n) => oursWarm.sync(inventoryOf(fleet, n)), status: (n) => oursWarm.status(inventoryOf(fleet, n)) },
    'ours-cold': {
      sync: (n) => oursCold.sync(inventoryOf(fleet, n)),
      status: (n) => oursCold.status(inventoryOf(fleet, n)),
    },
    ansible: viaAnsible,
    'ansible-cold': viaAnsible,
  }
  const hostsOf = (/** @type {number} */ n) => fleet.hosts.slice(0, n)

  /**
   * Runs `command` with the login count taken around it (and, for cold Ansible, its ControlMasters closed first);
   * `check` sees the result and the servers afterwards.
   * @param {Tool} tool @param {Host[]} hosts @param {() => Promise<void>} prepare @param {() => Promise<Timed>} command
   */
  const counted = (tool, hosts, prepare, command) => {
    let before = /** @type {Record<string, number>} */ ({})
    return {
      warmUp: !tool.endsWith('-cold'),
      before: async () => {
        await prepare()
        if (tool === 'ansible-cold')
          await closeMasters(
            ansible,
            hosts.map((h) => h.name),
          )
        before = await loginCounts(hosts)
      },
      run: command,
      logins: async () => loginDelta(before, await loginCounts(hosts)),
    }
  }

  /** @param {Tool} tool @param {Host[]} hosts @param {string} label @param {{ exit: number, says?: string }} expected */
  const statusOf = (tool, hosts, label, expected) => {
    const step = counted(
      tool,
      hosts,
      async () => {},
      () => commands[tool].status(hosts.length),
    )
    return measure({
      runs,
      log,
      label,
      ...step,
      check: async (result) => {
        expectRun(result.exitCode === expected.exit, `${tool} status: expected exit ${expected.exit}`, result)
        expectRun(
          !expected.says || result.stdout.includes(expected.says),
          `${tool} status: expected ${expected.says} in its output`,
          result,
        )
        const logins = await step.logins()
        return { recap: parseRecap(result.stdout), logins, note: `exit ${result.exitCode}; ${loginNote(logins)}` }
      },
    })
  }

  return {
    /** 10 programs onto n servers whose conf.d is empty: every file written, every program started. */
    async syncFromEmpty(/** @type {Tool} */ tool, /** @type {number} */ n) {
      const hosts = hostsOf(n)
      const step = counted(
        tool,
        hosts,
        () => resetHosts(hosts),
        () => commands[tool].sync(n),
      )
      return measure({
        runs,
        log,
        label: `${tool} sync → ${n} server(s)`,
        ...step,
        check: async (result) => {
          expectRun(result.exitCode === 0, `${tool} sync failed`, result)
          const recap = parseRecap(result.stdout)
          expectRun(
            hosts.every((h) => (recap.get(h.name)?.changed ?? 0) > 0),
            `${tool} sync: not every server reported a change`,
            result,
          )
          await verifySynced(hosts, filesFor)
          const logins = await step.logins()
          return { recap, logins, note: loginNote(logins) }
        },
      })
    },

    /** One sync of ours (warm) from an empty conf.d, untimed and checked, for runs that time no sync. @param {number} n @returns {Promise<undefined>} */
    async syncOnce(n) {
      const hosts = hostsOf(n)
      await resetHosts(hosts)
      const result = await commands.ours.sync(n)
      expectRun(result.exitCode === 0, 'ours sync (before the status rows) failed', result)
      await verifySynced(hosts, filesFor)
      await waitUntilRunning(hosts)
      log(`sync → ${n} servers (untimed, --status-only): ${(result.ms / 1000).toFixed(2)} s`)
      return undefined
    },

    /** The same sync again with nothing to do: must report no change, write nothing (mtimes) and restart nothing (pids). */
    async noop(/** @type {Tool} */ tool, /** @type {number} */ n) {
      const hosts = hostsOf(n)
      await resetHosts(hosts)
      const first = await commands[tool].sync(n)
      expectRun(first.exitCode === 0, `${tool} sync (before the no-op runs) failed`, first)
      await waitUntilRunning(hosts)
      let state = ''
      const step = counted(
        tool,
        hosts,
        async () => {
          state = await snapshot(hosts)
        },
        () => commands[tool].sync(n),
      )
      return measure({
        runs,
        log,
        label: `${tool} no-op re-sync, ${n} server(s)`,
        ...step,
        check: async (result) => {
          expectRun(result.exitCode === 0, `${tool} no-op sync failed`, result)
          const recap = parseRecap(result.stdout)
          const reportedNoChange = hosts.every((h) => recap.get(h.name)?.changed === 0)
          const untouched = (await snapshot(hosts)) === state
          const logins = await step.logins()
          return {
            recap,
            logins,
            reportedNoChange,
            untouched,
            note: `${loginNote(logins)}; ${reportedNoChange ? 'changed=0' : 'REPORTED A CHANGE'}; ${untouched ? 'pids and mtimes unchanged' : 'FILES OR PIDS CHANGED'}`,
          }
        },
      })
    },

    /** Status of n servers as the last sync left them, every program running: both tools answer exit 0. */
    async status(/** @type {Tool} */ tool, /** @type {number} */ n) {
      const hosts = hostsOf(n)
      await waitUntilRunning(hosts)
      return statusOf(tool, hosts, `${tool} status, ${n} server(s)`, { exit: 0 })
    },

    /**
     * Status of n servers with one program conf on the first server edited by hand: ours reports the drift (exit 3);
     * Ansible runs the same `supervisorctl status` as before and cannot see it (exit 0). The conf is put back after.
     */
    async statusWithDrift(/** @type {Tool} */ tool, /** @type {number} */ n) {
      const hosts = hostsOf(n)
      await waitUntilRunning(hosts)
      const [first] = hosts
      if (!first) throw new Error('no server for the drift scenario')
      const conf = path.join(first.root, 'etc/supervisor/conf.d', `${DRIFTED_PROGRAM}.conf`)
      const original = await fs.readFile(conf, 'utf8')
      await fs.writeFile(conf, `${original}; edited by hand on the server\n`)
      try {
        const expected = tool.startsWith('ours') ? { exit: 3, says: 'DRIFT' } : { exit: 0 }
        return await statusOf(tool, hosts, `${tool} status with drift, ${n} server(s)`, expected)
      } finally {
        await fs.writeFile(conf, original)
      }
    },
  }
}

/** The program whose conf the drift scenario edits: `<domain>-<program>`, as the renderer names it. */
const DRIFTED_PROGRAM = `${DOMAIN}-worker-01`

/** @param {Fleet} fleet @param {number} n */
export function inventoryOf(fleet, n) {
  const file = fleet.inventories.get(n)
  if (!file) throw new Error(`no inventory for ${n} servers`)
  return file
}

/** @param {Fleet} fleet @param {number} n */
export function names(fleet, n) {
  return fleet.hosts.slice(0, n).map((h) => h.name)
}

/** `SSH logins per server 1` or `… 0-1`. @param {Record<string, number>} logins */
export function loginNote(logins) {
  const counts = Object.values(logins)
  const low = Math.min(...counts)
  const high = Math.max(...counts)
  return `SSH logins per server ${low === high ? low : `${low}-${high}`}`
}
