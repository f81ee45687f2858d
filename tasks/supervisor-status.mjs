#!/usr/bin/env zx
// supervisor-status: programs and processes per server, and whether the live conf matches the inventory (drift).
import {
  describeUnknownValue,
  forEachServer,
  loadInventory,
  projectTemplatesDir,
  readLiveState,
  resolveStatusScope,
  summarizeStatus,
} from 'zx-supervisor'
import {
  defineTask,
  reportStatus,
  runIfMain,
  startFleetProgress,
  statusExitCode,
  statusJson,
  statusRecap,
} from 'zx-supervisor/cli'

export const supervisorStatus = defineTask(
  {
    name: 'supervisor-status',
    summary: 'programs and processes per server, with drift from the inventory',
    usage: '[--domain DOMAIN | --server NAME|GROUP] [--json]',
    flags: [
      { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: "one site's programs" },
      {
        name: 'server',
        type: 'string',
        placeholder: 'NAME|GROUP',
        description: 'one server or group (default: every server)',
      },
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist', 'parallel'],
    exitCodes: [0, 1, 2, 3, 130],
    examples: [
      'npx zx tasks/supervisor-status.mjs',
      'npx zx tasks/supervisor-status.mjs --server production --json',
      'npx zx tasks/supervisor-status.mjs --domain example.com --inventory inventory/sandbox.yml',
    ],
  },
  async ({ flags, output, session }) => {
    const { inventory } = await loadInventory(flags.inventory)
    const target = { domain: flags.domain, server: flags.server }
    const env = { env: process.env, templatesDir: projectTemplatesDir() }
    const { scope, desiredFor, unknown } = resolveStatusScope(inventory, target, env)
    for (const value of unknown) output.warn(`${describeUnknownValue(value)}; not compared`)

    const progress = startFleetProgress(output, scope.servers.length)
    const outcomes = await forEachServer(
      scope.servers,
      session,
      async (server, connection) => {
        const live = await readLiveState(connection, desiredFor(server), { withStatus: true })
        return summarizeStatus(desiredFor(server), live, { listUnknown: !flags.domain })
      },
      flags.parallel,
      progress.onEvent,
    )
    progress.end()

    reportStatus(output, outcomes)
    output.recap(statusRecap(outcomes))
    output.json(statusJson(outcomes))
    return statusExitCode(outcomes)
  },
)

await runIfMain(import.meta.url, supervisorStatus)
