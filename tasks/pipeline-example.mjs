#!/usr/bin/env zx
// pipeline-example: your own pipeline, built only from lib/index.ts. It is tasks/deploy.mjs forked the way a team
// would: the programs' configuration is synced BEFORE `current` switches (deploy switches first), and two steps of
// its own are added: a health command on each server after the restart, and a line appended to a local deploy log.
import fs from 'node:fs/promises'
import path from 'node:path'
import {
  checkCommandLine,
  controlPrograms,
  defineTask,
  findSite,
  forEachServer,
  fullName,
  loadInventory,
  RELEASE_FLAGS,
  RemoteError,
  releaseFromFlag,
  requireAppDir,
  requireValid,
  runIfMain,
  serversOfSite,
  siteDesiredStates,
  siteRoot,
  siteUser,
  switchCurrent,
  syncServer,
  uploadRelease,
  waitUntilRunning,
} from 'zx-supervisor'

export const pipelineExample = defineTask(
  {
    name: 'pipeline-example',
    summary: 'a deploy pipeline of your own: upload, sync, switch, restart, health check, wait, log',
    usage: '--domain DOMAIN --app-dir PATH [--release NAME] [--health-cmd CMD] [--deploy-log FILE]',
    flags: [
      ...RELEASE_FLAGS,
      {
        name: 'health-cmd',
        type: 'string',
        placeholder: 'CMD',
        default: 'test -d .deployer/supervisors',
        description: 'run on each server in the new release after the restart; must exit 0',
      },
      {
        name: 'deploy-log',
        type: 'string',
        placeholder: 'FILE',
        default: 'deploy.log',
        description: 'local file that gets one line per deployed server',
      },
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist'],
    examples: [
      'npx zx tasks/pipeline-example.mjs --domain example.com --app-dir ./build --health-cmd "php artisan about"',
    ],
  },
  async ({ flags, output, session }) => {
    const { inventory } = await loadInventory(flags.inventory)
    const site = findSite(inventory, flags.domain)
    const appDir = requireAppDir(flags['app-dir'])
    const healthCmd = requireValid(checkCommandLine, flags['health-cmd'], '--health-cmd', { fromFlag: true })
    const release = releaseFromFlag(flags.release)
    const groups = site.supervisors.map((p) => fullName(site.domain, p.program))
    const servers = serversOfSite(inventory, site)
    const desiredFor = siteDesiredStates(inventory, site, process.env)

    const outcomes = await forEachServer(
      servers,
      session,
      async (server, connection, applied) => {
        const root = siteRoot(server, site)
        const owner = siteUser(server, site)
        const { sitesPath } = server
        const uploaded = await uploadRelease(connection, { localDir: appDir, root, release, owner, sitesPath })
        applied('upload', uploaded)
        applied('sync', await syncServer(connection, desiredFor(server), { lockWaitSeconds: 60 }))
        applied('switch', await switchCurrent(connection, { root, release }))
        applied('restart', await controlPrograms(connection, 'restart', groups))
        await healthCheck(connection, uploaded.path, healthCmd)
        const processes = await waitUntilRunning(connection, groups, { timeoutSeconds: 60 })
        await appendDeployLog(
          flags['deploy-log'],
          `${new Date().toISOString()} ${site.domain} ${release} ${server.name} ${processes.length} running`,
        )
        output.server(server.name, `release ${release} healthy; ${processes.length} process(es) running`)
        return { release, processes: processes.length }
      },
      1,
    )

    for (const o of outcomes)
      if (!o.ok)
        output.error(
          `${o.server.name}: ${o.applied.length ? `applied ${o.applied.map((a) => a.step).join(', ')}, then ` : ''}failed: ${o.error instanceof Error ? o.error.message : String(o.error)}`,
        )
    output.recap(
      outcomes.map((o) => ({
        server: o.server.name,
        ok: o.ok ? 1 : 0,
        changed: o.applied.length ? 1 : 0,
        failed: o.ok ? 0 : 1,
      })),
    )
    output.json({
      ok: outcomes.every((o) => o.ok),
      release,
      servers: outcomes.map((o) => ({ server: o.server.name, ok: o.ok, steps: o.applied.map((a) => a.step) })),
    })
    return outcomes.every((o) => o.ok) ? 0 : 1
  },
)

/**
 * Our own step: the health command, run on the server in the new release directory; exit 0 or the server fails.
 * @param {import('zx-supervisor').Connection} connection @param {string} releasePath @param {string} command
 */
async function healthCheck(connection, releasePath, command) {
  const result = await connection.run(['sh', '-c', 'cd -- "$1" && exec sh -c "$2"', 'health', releasePath, command])
  if (result.exitCode !== 0)
    throw new RemoteError(
      connection.server.name,
      `health command failed (exit ${result.exitCode}): ${command}\n${result.stderr.trim()}`,
    )
}

/** Our own step: one line per deployed server in a local log. @param {string} file @param {string} line */
async function appendDeployLog(file, line) {
  await fs.appendFile(path.resolve(file), `${line}\n`)
}

await runIfMain(import.meta.url, pipelineExample)
