#!/usr/bin/env zx
// supervisor-dashboard: every program on every server in one live page, served on 127.0.0.1 only, read over SSH.
import {
  buildView,
  describeUnknownValue,
  followProgramLog,
  gridShape,
  loadInventory,
  newToken,
  projectTemplatesDir,
  readLiveState,
  resolveStatusScope,
  runControl,
  startDashboardServer,
  summarizeStatus,
  watchFleet,
} from 'zx-supervisor'
import { defineTask, runIfMain } from 'zx-supervisor/cli'
import { supervisorRestart } from 'zx-supervisor/tasks/supervisor-restart'
import { supervisorStart } from 'zx-supervisor/tasks/supervisor-start'
import { supervisorStop } from 'zx-supervisor/tasks/supervisor-stop'

const CONTROL_TASKS = { start: supervisorStart, stop: supervisorStop, restart: supervisorRestart }

export const supervisorDashboard = defineTask(
  {
    name: 'supervisor-dashboard',
    summary: 'a live page of every program on every server (127.0.0.1 only, read-only unless --allow-control)',
    usage: '[--server NAME|GROUP] [--domain DOMAIN] [--port N] [--interval S] [--allow-control]',
    flags: [
      { name: 'server', type: 'string', placeholder: 'NAME|GROUP', description: 'watch these servers (default: all)' },
      { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: "one site's programs" },
      {
        name: 'port',
        type: 'integer',
        placeholder: 'N',
        description: 'the local port (default: any free one)',
        default: 0,
        min: 0,
        max: 65535,
      },
      {
        name: 'interval',
        type: 'integer',
        placeholder: 'S',
        description: 'seconds between reads of the servers',
        default: 5,
        min: 1,
        max: 300,
      },
      {
        name: 'allow-control',
        type: 'boolean',
        description: 'add start/stop/restart buttons (each asks first, runs the same task, is audited)',
      },
    ],
    common: ['inventory', 'verbose', 'timeout', 'parallel'],
    examples: [
      'npx zx tasks/supervisor-dashboard.mjs',
      'npx zx tasks/supervisor-dashboard.mjs --server production --interval 10',
      'npx zx tasks/supervisor-dashboard.mjs --domain example.com --allow-control --port 8765',
    ],
    notes: [
      'Open the printed URL (it holds the token). Nothing is opened or installed on any server. Ctrl-C stops it (exit 130).',
      'Through a jump host: ssh -L <port>:127.0.0.1:<port> <this machine>, then open the same URL with that port.',
    ],
  },
  async ({ flags, output, session, interrupted }) => {
    const { inventory } = await loadInventory(flags.inventory)
    const target = { domain: flags.domain, server: flags.server }
    const env = { env: process.env, templatesDir: projectTemplatesDir() }
    const { scope, desiredFor, unknown } = resolveStatusScope(inventory, target, env)
    for (const value of unknown) output.warn(`${describeUnknownValue(value)}; not compared`)
    const shape = gridShape(inventory, scope.servers, flags.domain)

    const dashboard = await startDashboardServer({
      port: flags.port,
      token: newToken(),
      allowControl: Boolean(flags['allow-control']),
      handlers: {
        followLog: (request, signal, onLine) =>
          followProgramLog(session, inventory, scope.servers, request, signal, onLine),
        control: async (request) => {
          const siteServers = shape.sites.find((s) => s.domain === request.domain)?.servers ?? []
          const outcome = await runControl(CONTROL_TASKS, request, { inventory: flags.inventory, siteServers })
          const what = `${request.action}${request.oneByOne ? ' one by one' : ''} ${request.domain} ${request.program}`
          output.info(`${what} on ${request.servers.join(', ')} (from the page): exit ${outcome.exitCode}`)
          return outcome
        },
      },
    })
    output.info(`dashboard of ${scope.servers.length} server(s): ${dashboard.url}`)
    output.info(`read-${flags['allow-control'] ? 'write' : 'only'}; every ${flags.interval} s; Ctrl-C to stop`)

    await watchFleet({
      servers: scope.servers,
      session,
      read: async (server, connection) =>
        summarizeStatus(desiredFor(server), await readLiveState(connection, desiredFor(server), { withStatus: true }), {
          listUnknown: !flags.domain,
        }),
      intervalSeconds: flags.interval,
      parallel: flags.parallel,
      signal: interrupted,
      onRound: (outcomes, at) =>
        dashboard.publish(buildView(shape, outcomes, { at, allowControl: Boolean(flags['allow-control']) })),
    })
    await dashboard.close()
  },
)

await runIfMain(import.meta.url, supervisorDashboard)
