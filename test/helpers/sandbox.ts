import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'uvu'
import { YAML } from 'zx'
import type { ProcessStatus } from '../../lib/supervisor/process.ts'
import {
  hostExec,
  type SandboxHost,
  type SandboxLayoutName,
  type SandboxState,
  sandboxDown,
  sandboxLayout,
  sandboxUp,
} from '../../sandbox/index.ts'
import { parseStatus } from '../../sandbox/supervisorctl.ts'

// Real sandbox servers for one test file: a fresh state dir, its own inventory, helpers to look inside a host.

export interface TestSandbox {
  state: SandboxState
  dir: string
  inventory: string
  host(name: string): SandboxHost
  down(): Promise<void>
}

/** `layout`: whose supervisor layout the hosts imitate (default Debian's; 'rhel' and 'alpine' get a private /etc). */
export async function startSandbox(
  count: number,
  { layout }: { layout?: SandboxLayoutName } = {},
): Promise<TestSandbox> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-test-'))
  const inventory = path.join(dir, 'inventory.yml')
  const state = await sandboxUp({ dir: path.join(dir, 'sandbox'), count, inventoryPath: inventory, layout })
  return {
    state,
    dir,
    inventory,
    host: (name) => {
      const host = state.hosts.find((h) => h.name === name)
      if (!host) throw new Error(`no sandbox host ${name}`)
      return host
    },
    async down() {
      await sandboxDown({ dir: path.join(dir, 'sandbox') })
      await fs.rm(dir, { recursive: true, force: true })
    },
  }
}

/** Lays out an app release the way a deploy would: <site root>/releases/r1 with current → releases/r1. */
export async function deployApp(host: SandboxHost, domain: string, scripts: Record<string, string>): Promise<void> {
  const site = path.join(host.root, 'home', 'deployer', 'sites', domain)
  const release = path.join(site, 'releases', 'r1')
  for (const [name, body] of Object.entries(scripts)) {
    const file = path.join(release, '.deployer', 'supervisors', name)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, body, { mode: 0o755 })
  }
  await fs.rm(path.join(site, 'current'), { force: true })
  await fs.symlink('releases/r1', path.join(site, 'current'))
  await hostExec(host, ['chown', '-R', 'deployer:deployer', `/home/deployer/sites`])
}

/** The app checkout the tasks read scripts from (--app-dir). */
export async function writeAppDir(dir: string, scripts: Record<string, string>): Promise<string> {
  const app = path.join(dir, 'app')
  for (const [name, body] of Object.entries(scripts)) {
    const file = path.join(app, '.deployer', 'supervisors', name)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, body, { mode: 0o755 })
  }
  return app
}

export async function processesOn(host: SandboxHost): Promise<ProcessStatus[]> {
  const result = await hostExec(host, [
    'env',
    'LC_ALL=C',
    'supervisorctl',
    '-c',
    sandboxLayout(host.layout).config,
    'status',
  ])
  return parseStatus(result.stdout)
}

/** Every file of a directory inside a host, with its bytes, for before/after comparisons. */
export async function snapshotDir(host: SandboxHost, dir: string): Promise<Record<string, string>> {
  const base = path.join(host.root, dir)
  const names = await fs.readdir(base).catch(() => [])
  const entries = await Promise.all(
    names.sort().map(async (n) => [n, await fs.readFile(path.join(base, n), 'utf8')] as const),
  )
  return Object.fromEntries(entries)
}

export const WORKER =
  '#!/bin/sh\necho "worker $SUPERVISOR_PROCESS_NAME up in $DEPLOYER_RELEASE_PATH"\nexec sleep 100000\n'

/** Appends a site block to the generated inventory (which ends with `sites: []`). */
export async function addSites(inventory: string, sitesYaml: string): Promise<void> {
  const text = await fs.readFile(inventory, 'utf8')
  await fs.writeFile(inventory, text.replace(/^sites: \[\]\s*$/m, `sites:\n${sitesYaml.replace(/^\n/, '')}`))
}

/** Deploy tests' site: d.test on `servers` with one quick worker (startsecs and stopwaitsecs 1 keep gates short). */
export async function addDeploySite(inventory: string, servers: string[]): Promise<void> {
  await addSites(
    inventory,
    `
  - domain: d.test
    server: [${servers.join(', ')}]
    supervisors:
      - program: worker
        script: worker.sh
        numprocs: 1
        startsecs: 1
        stopwaitsecs: 1
`,
  )
}

/** Edits the inventory through the YAML document (what a person would do in an editor), returning the old text. */
export async function editInventory(
  inventory: string,
  edit: (document: ReturnType<typeof YAML.parseDocument>) => void,
): Promise<string> {
  const text = await fs.readFile(inventory, 'utf8')
  const document = YAML.parseDocument(text)
  edit(document)
  await fs.writeFile(inventory, document.toString())
  return text
}

/** FILE (an absolute path on the server) as seen from this machine: inside the host's root. */
export function onHost(host: SandboxHost, file: string): string {
  return path.join(host.root, file)
}

export async function existsOn(host: SandboxHost, file: string): Promise<boolean> {
  return fs.access(onHost(host, file)).then(
    () => true,
    () => false,
  )
}

/** `name → state` of every process supervisor runs on a host. */
export async function processStates(host: SandboxHost): Promise<Record<string, string>> {
  return Object.fromEntries((await processesOn(host)).map((p) => [p.name, p.state]))
}

/**
 * A suite on one sandbox server: before its tests, `context.sandbox` and `context.host` (sandbox-1), then PREPARE;
 * after them, the server goes down.
 */
export function onOneServer<C extends { sandbox: TestSandbox; host: SandboxHost }>(
  tests: Test<C>,
  prepare: (context: C) => Promise<void> = async () => {},
): void {
  tests.before(async (context) => {
    context.sandbox = await startSandbox(1)
    context.host = context.sandbox.host('sandbox-1')
    await prepare(context)
  })
  tests.after(async ({ sandbox }) => {
    await sandbox?.down()
  })
}

/** deploy's flags for the deploy tests' site d.test (as addDeploySite makes it): APP uploaded as RELEASE, then EXTRA. */
export function deployFlags(sandbox: TestSandbox, app: string, release: string, ...extra: string[]): string[] {
  return ['--inventory', sandbox.inventory, '--domain', 'd.test', '--app-dir', app, '--release', release, ...extra]
}
