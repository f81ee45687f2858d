// The three kinds of work the bench times, the same for both tools: sync from an empty conf.d, a no-op re-sync,
// status. Each run is checked (untimed) for having done the work, and the sshd logins it made are counted.
import { loginCounts, loginDelta, resetHosts, snapshot, verifySynced, waitUntilRunning } from './fleet.mjs'
import { expectRun, measure, parseRecap } from './measure.mjs'
import { oursStatus, oursSync } from './ours.mjs'
import { ansibleStatus, ansibleSync, closeMasters } from './ansible.mjs'

/**
 * @typedef {import('./fleet.mjs').Fleet} Fleet
 * @typedef {import('./fleet.mjs').Host} Host
 * @typedef {import('./measure.mjs').Timed} Timed
 * @typedef {'ours' | 'ansible' | 'ansible-cold'} Tool   ansible: ControlMasters kept between runs (ControlPersist); cold: closed first
 * @typedef {{ sync: (n: number) => Promise<Timed>, status: (n: number) => Promise<Timed> }} Commands
 */

/**
 * @param {{ fleet: Fleet, ansible: import('./ansible.mjs').AnsibleSetup, filesFor: (host: string) => import('../lib/types.ts').RemoteFile[],
 *   runs: number, log: (line: string) => void }} context
 */
export function createScenarios({ fleet, ansible, filesFor, runs, log }) {
  /** @type {Commands} */
  const viaAnsible = { sync: (n) => ansibleSync(ansible, names(fleet, n)), status: (n) => ansibleStatus(ansible, names(fleet, n)) }
  /** @type {Record<Tool, Commands>} */
  const commands = {
    ours: { sync: (n) => oursSync(inventoryOf(fleet, n)), status: (n) => oursStatus(inventoryOf(fleet, n)) },
    ansible: viaAnsible,
    'ansible-cold': viaAnsible,
  }
  const hostsOf = (/** @type {number} */ n) => fleet.hosts.slice(0, n)

  /**
   * Runs `command` with the login count taken around it (and, for cold Ansible, its ControlMasters closed first);
   * `check` sees the result and the servers afterwards. Cold runs follow warm ones, so they need no warm-up.
   * @param {Tool} tool @param {Host[]} hosts @param {() => Promise<void>} prepare @param {() => Promise<Timed>} command
   */
  const counted = (tool, hosts, prepare, command) => {
    let before = /** @type {Record<string, number>} */ ({})
    return {
      warmUp: tool !== 'ansible-cold',
      before: async () => {
        await prepare()
        if (tool === 'ansible-cold') await closeMasters(ansible, hosts.map((h) => h.name))
        before = await loginCounts(hosts)
      },
      run: command,
      logins: async () => loginDelta(before, await loginCounts(hosts)),
    }
  }

  return {
    /** 10 programs onto n servers whose conf.d is empty: every file written, every program started. */
    async syncFromEmpty(/** @type {Tool} */ tool, /** @type {number} */ n) {
      const hosts = hostsOf(n)
      const step = counted(tool, hosts, () => resetHosts(hosts), () => commands[tool].sync(n))
      return measure({ runs, log, label: `${tool} sync → ${n} server(s)`, ...step, check: async (result) => {
        expectRun(result.exitCode === 0, `${tool} sync failed`, result)
        const recap = parseRecap(result.stdout)
        expectRun(hosts.every((h) => (recap.get(h.name)?.changed ?? 0) > 0), `${tool} sync: not every server reported a change`, result)
        await verifySynced(hosts, filesFor)
        const logins = await step.logins()
        return { recap, logins, note: loginNote(logins) }
      } })
    },

    /** The same sync again with nothing to do: must report no change, write nothing (mtimes) and restart nothing (pids). */
    async noop(/** @type {Tool} */ tool, /** @type {number} */ n) {
      const hosts = hostsOf(n)
      await resetHosts(hosts)
      const first = await commands[tool].sync(n)
      expectRun(first.exitCode === 0, `${tool} sync (before the no-op runs) failed`, first)
      await waitUntilRunning(hosts)
      let state = ''
      const step = counted(tool, hosts, async () => { state = await snapshot(hosts) }, () => commands[tool].sync(n))
      return measure({ runs, log, label: `${tool} no-op re-sync, ${n} server(s)`, ...step, check: async (result) => {
        expectRun(result.exitCode === 0, `${tool} no-op sync failed`, result)
        const recap = parseRecap(result.stdout)
        const reportedNoChange = hosts.every((h) => recap.get(h.name)?.changed === 0)
        const untouched = (await snapshot(hosts)) === state
        const logins = await step.logins()
        return { recap, logins, reportedNoChange, untouched,
          note: `${loginNote(logins)}; ${reportedNoChange ? 'changed=0' : 'REPORTED A CHANGE'}; ${untouched ? 'pids and mtimes unchanged' : 'FILES OR PIDS CHANGED'}` }
      } })
    },

    /** Status of n servers whose programs run (exit 0; 3 would mean a process is not running, also an answer). */
    async status(/** @type {Tool} */ tool, /** @type {number} */ n) {
      const hosts = hostsOf(n)
      await waitUntilRunning(hosts)
      const step = counted(tool, hosts, async () => {}, () => commands[tool].status(n))
      return measure({ runs, log, label: `${tool} status, ${n} server(s)`, ...step, check: async (result) => {
        expectRun(result.exitCode === 0 || result.exitCode === 3, `${tool} status failed`, result)
        const logins = await step.logins()
        return { recap: parseRecap(result.stdout), logins, note: `exit ${result.exitCode}; ${loginNote(logins)}` }
      } })
    },
  }
}

/** @param {Fleet} fleet @param {number} n */
function inventoryOf(fleet, n) {
  const file = fleet.inventories.get(n)
  if (!file) throw new Error(`no inventory for ${n} servers`)
  return file
}

/** @param {Fleet} fleet @param {number} n */
function names(fleet, n) {
  return fleet.hosts.slice(0, n).map((h) => h.name)
}

/** `logins/server 1` or `logins/server 0-1`. @param {Record<string, number>} logins */
function loginNote(logins) {
  const counts = Object.values(logins)
  const low = Math.min(...counts)
  const high = Math.max(...counts)
  return `SSH logins per server ${low === high ? low : `${low}-${high}`}`
}
