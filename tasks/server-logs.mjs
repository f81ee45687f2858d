#!/usr/bin/env zx
// server-logs: the last lines of supervisord's log and of the programs' logs on one server, or --follow them.
import {
  availableServices,
  checkLines,
  DEFAULT_LINES,
  EXIT,
  findServer,
  findSiteOnServer,
  followLogs,
  InputError,
  layoutOf,
  loadInventory,
  MAX_LINES,
  placeLogSources,
  readLogs,
  resolveLogSources,
} from 'zx-supervisor'
import {
  defineTask,
  describeNotice,
  followedLine,
  logLineOutput,
  logsJson,
  promptChoice,
  reportLogs,
  runIfMain,
  wantsColour,
} from 'zx-supervisor/cli'

export const serverLogs = defineTask(
  {
    name: 'server-logs',
    summary: "the last lines of supervisord's and the programs' logs on a server, or follow them",
    usage: '--server NAME [--service LIST] [--site DOMAIN] [--lines N] [--follow]',
    flags: [
      { name: 'server', type: 'string', placeholder: 'NAME', description: 'the server (prompted on a terminal)' },
      {
        name: 'service',
        alias: 's',
        type: 'string',
        placeholder: 'LIST',
        description: 'comma-separated: supervisor, all-supervisors, supervisor:DOMAIN/PROGRAM (prompted on a terminal)',
      },
      {
        name: 'site',
        type: 'string',
        placeholder: 'DOMAIN',
        description: "only this site's programs (the site must be on --server)",
      },
      {
        name: 'lines',
        alias: 'n',
        type: 'string',
        placeholder: 'N',
        description: `lines per source, 1 to ${MAX_LINES}`,
        default: String(DEFAULT_LINES),
      },
      {
        name: 'follow',
        alias: 'f',
        type: 'boolean',
        description: 'keep printing new lines, each prefixed with its source, until Ctrl-C',
      },
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist'],
    examples: [
      'npx zx tasks/server-logs.mjs --server production --service all-supervisors',
      'npx zx tasks/server-logs.mjs --server production --service supervisor:example.com/queue-worker -n 200',
      'npx zx tasks/server-logs.mjs --server production --site example.com --service all-supervisors --follow',
      'npx zx tasks/server-logs.mjs --server production --service supervisor --json',
    ],
    notes: [
      "supervisor is supervisord's own log: the journal where systemd runs, else /var/log/supervisor/supervisord.log.",
      'A missing log file is a warning, not a failure. --quiet prints the lines without headings (like tail -q).',
      '--follow runs until Ctrl-C or SIGTERM, then stops the remote tail and exits 130, as every interrupted task does.',
    ],
  },
  async ({ flags, output, session, interactive }) => {
    const lines = checkLines(flags.lines)
    if (flags.follow && flags.json)
      throw new InputError([
        {
          field: '--json',
          value: true,
          allowed: 'not with --follow',
          hint: '--json prints one document when done; --follow never is',
        },
      ])
    const { inventory } = await loadInventory(flags.inventory)
    const server = await askServer(inventory, flags.server, interactive)
    const site = flags.site ? findSiteOnServer(inventory, server, flags.site) : undefined
    const wanted = resolveLogSources(
      inventory,
      server,
      await askServices(availableServices(inventory, server, site), flags.service, interactive),
      site,
    )
    const connection = await session.connect(server)
    const layout = await layoutOf(connection)
    const sources = placeLogSources(wanted, layout)

    if (flags.follow) {
      output.server(server.name, `following ${sources.map((s) => s.service).join(', ')} (Ctrl-C to stop)`)
      const lineOutput = logLineOutput(output)
      const colour = wantsColour(output)
      const end = await followUntilSignalled((signal) =>
        followLogs(connection, sources, {
          lines,
          signal,
          layout,
          onLine: (service, line) => lineOutput.info(followedLine(service, line, colour)),
          onNotice: (service, text) => output.warn(describeNotice(server.name, service, text)),
        }),
      )
      for (const f of end.failed) output.error(`${server.name}: ${f.command} ended with exit code ${f.exitCode}`)
      // A user's stop is reported as an interruption (130), as the task frame does for every task and a shell does
      // for `tail -f`: a script can tell "stopped on purpose" from "the stream broke" (1).
      return end.stopped ? EXIT.interrupted : end.failed.length ? EXIT.failed : EXIT.ok
    }

    const reads = await readLogs(connection, sources, lines, layout)
    reportLogs(output, server.name, reads)
    output.json(logsJson(server.name, lines, reads))
    return EXIT.ok
  },
)

/**
 * --server, or a choice of the inventory's servers on a terminal; without one, the missing flag is named.
 * @param {import('zx-supervisor').Inventory} inventory @param {string | undefined} name @param {boolean} interactive
 */
async function askServer(inventory, name, interactive) {
  if (name) return findServer(inventory, name)
  const names = inventory.servers.map((s) => s.name)
  if (interactive && names.length) return findServer(inventory, await promptChoice('Select server:', names))
  throw new InputError([
    {
      field: '--server',
      value: undefined,
      allowed: `a server from the inventory (${names.join(', ') || 'none yet'})`,
      hint: 'pass --server NAME',
    },
  ])
}

/**
 * --service, or one choice among what exists on the server (on a terminal).
 * @param {string[]} available @param {string | undefined} given @param {boolean} interactive @returns {Promise<string>}
 */
async function askServices(available, given, interactive) {
  if (given) return given
  if (interactive) return promptChoice('Which logs to view?', available)
  throw new InputError([
    {
      field: '--service',
      value: undefined,
      allowed: `one or more of ${available.join(', ')} (comma-separated)`,
      hint: 'pass --service all-supervisors',
    },
  ])
}

/**
 * Ctrl-C and SIGTERM stop the streams (their remote commands end with them) while the task frame closes the
 * connection; run in-process without the frame's handlers, the same signals end only the following.
 * @template T @param {(signal: AbortSignal) => Promise<T>} follow @returns {Promise<T>}
 */
async function followUntilSignalled(follow) {
  const controller = new AbortController()
  const stop = () => controller.abort()
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, stop)
  try {
    return await follow(controller.signal)
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM']) process.removeListener(signal, stop)
  }
}

await runIfMain(import.meta.url, serverLogs)
