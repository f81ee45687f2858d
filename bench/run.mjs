#!/usr/bin/env node
// npm run bench [-- --runs N]: the same supervisor work through zx-supervisor and through Ansible (ansible-core from
// Debian) on sandbox servers, and the SPEC §8 targets. Our side is the real task scripts spawned as a user runs them
// (`node --import tsx node_modules/zx/build/cli.js tasks/...`), so node/tsx start-up is in every figure.
// Needs root (sandbox servers; installs ansible-core when missing). Not a test: nothing here is part of npm test.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { closeMasters, ensureAnsible, prepareAnsible, ansibleCommand } from './ansible.mjs'
import { whereTimeGoes } from './breakdown.mjs'
import { startFleet, stopFleet } from './fleet.mjs'
import { interrupt } from './measure.mjs'
import { oursCommand, PROJECT } from './ours.mjs'
import { renderedFiles } from './rendered.mjs'
import { machineFacts, markdownReport, terminalReport } from './report.mjs'
import { createScenarios } from './scenarios.mjs'

const SIZES = [1, 3, 9]
const runs = runsFlag(process.argv.slice(2))
const log = (/** @type {string} */ line) => process.stderr.write(`bench: ${line}\n`)
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    log(`${signal}: stopping; tearing the sandbox servers down`)
    interrupt.abort()
  })
}

/** @type {import('./fleet.mjs').Fleet | undefined} */
let fleet
/** @type {import('./ansible.mjs').AnsibleSetup | undefined} */
let ansible
try {
  const ansibleVersion = await ensureAnsible(log)
  const facts = machineFacts(ansibleVersion, runs)
  fleet = await startFleet({ count: Math.max(...SIZES), sizes: SIZES, log, signal: interrupt.signal })
  const filesFor = await renderedFiles(fleet.inventories.get(9) ?? '')
  ansible = await prepareAnsible({ dir: fleet.dir, sshConfig: fleet.sshConfig, hosts: fleet.hosts.map((h) => h.name), filesFor })
  const bench = createScenarios({ fleet, ansible, filesFor, runs, log })

  /** Runs one scenario through Ansible (warm, then cold ControlMasters) and through ours. @param {string} label @param {(tool: import('./scenarios.mjs').Tool) => Promise<import('./measure.mjs').Measured>} scenario */
  const compare = async (label, scenario) => ({ label, ansible: await scenario('ansible'), ansibleCold: await scenario('ansible-cold'), ours: await scenario('ours') })
  const sync3 = await compare('sync 10 programs → 3 servers (empty conf.d)', (tool) => bench.syncFromEmpty(tool, 3))
  const noop = await compare('no-op re-sync, 3 servers', (tool) => bench.noop(tool, 3))
  const status = await compare('status, 3 servers', (tool) => bench.status(tool, 3))
  const sync1 = await compare('sync 10 programs → 1 server', (tool) => bench.syncFromEmpty(tool, 1))
  const sync9 = await compare('sync 10 programs → 9 servers', (tool) => bench.syncFromEmpty(tool, 9))
  const parts = await whereTimeGoes({ fleet, runs, log })

  const results = { rows: [sync3, noop, status, sync1, sync9], noop, sync1: sync1.ours, sync9: sync9.ours, parts, facts, commands: [
    `ours: \`${oursCommand('supervisor-sync', '--inventory INVENTORY --all')}\`, \`${oursCommand('supervisor-status', '--inventory INVENTORY')}\``,
    `Ansible: \`${ansibleCommand('sync.yml')}\`, \`${ansibleCommand('status.yml')}\` (forks 10, pipelining, no fact gathering; ControlMaster with ControlPersist 60s: "warm" reuses the masters of the previous run, "cold" closes them first)`,
  ] }
  process.stdout.write(terminalReport(results))
  await fs.writeFile(path.join(PROJECT, 'bench', 'results.md'), markdownReport(results))
  log('written: bench/results.md')
} catch (error) {
  log(interrupt.signal.aborted ? 'interrupted' : `failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = interrupt.signal.aborted ? 130 : 1
} finally {
  if (ansible && fleet) await closeMasters(ansible, fleet.hosts.map((h) => h.name))
  if (fleet) await stopFleet(fleet).then(() => log('sandbox servers stopped'), (error) => log(`teardown failed: ${error}; remove with: npx zx tasks/sandbox.mjs down --dir ${fleet?.sandboxDir}`))
}

/** `--runs N` (default 3): timed runs per figure, after one warm-up. @param {string[]} args */
function runsFlag(args) {
  if (args.includes('--help')) {
    process.stdout.write('usage: npm run bench [-- --runs N]   (root; sandbox servers; installs ansible-core when missing)\n')
    process.exit(0)
  }
  const index = args.indexOf('--runs')
  const value = index === -1 ? 3 : Number(args[index + 1])
  if (!Number.isInteger(value) || value < 1 || args.some((a, i) => a.startsWith('-') && a !== '--runs' && i !== index + 1)) {
    process.stderr.write('usage: npm run bench [-- --runs N]   (N ≥ 1, default 3)\n')
    process.exit(2)
  }
  return value
}
