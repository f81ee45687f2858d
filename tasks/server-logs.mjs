#!/usr/bin/env zx
// server-logs: the last lines of supervisord's and the programs' logs on one server or many, or --follow them all in
// one stream; --grep filters on the servers, so unmatched lines never cross the network.
import {
  availableServicesOn,
  checkFollowedServers,
  checkLines,
  checkLogFilter,
  chooseSiteFlag,
  DEFAULT_LINES,
  EXIT,
  findServer,
  followServers,
  forEachServer,
  InputError,
  layoutOf,
  loadInventory,
  MAX_LINES,
  placeLogSources,
  readLogs,
  resolveLogServers,
  resolveLogTargets,
} from 'zx-supervisor'
import {
  defineTask,
  describeLostServer,
  describeNotice,
  linePrefixer,
  logLineOutput,
  logsDocument,
  prefixedLine,
  promptChoice,
  reportServerLogs,
  runIfMain,
  wantsColour,
} from 'zx-supervisor/cli'

export const serverLogs = defineTask(
  {
    name: 'server-logs',
    summary: "the last lines of supervisord's and the programs' logs on servers, or follow them all in one stream",
    usage:
      '--server NAME|GROUP|LIST | --site DOMAIN [--service LIST] [--lines N] [--grep PATTERN [--regex]] [--follow]',
    flags: [
      {
        name: 'server',
        type: 'string',
        placeholder: 'NAME|GROUP|LIST',
        description: 'a server, a group, or a comma-separated list of them (prompted on a terminal)',
      },
      {
        name: 'service',
        alias: 's',
        type: 'string',
        placeholder: 'LIST',
        description:
          'comma-separated: supervisor, audit (who changed what), all-supervisors, supervisor:DOMAIN/PROGRAM (with --site: all-supervisors; else prompted on a terminal)',
      },
      {
        name: 'site',
        type: 'string',
        placeholder: 'DOMAIN',
        description: "a site's programs, on every server of the site (with --server: on those of them)",
      },
      {
        name: 'domain',
        type: 'string',
        placeholder: 'DOMAIN',
        description: 'the same as --site (the name the other tasks give a site)',
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
        name: 'grep',
        type: 'string',
        placeholder: 'PATTERN',
        description: 'only the lines that contain PATTERN, filtered on the servers (grep -F)',
      },
      {
        name: 'regex',
        type: 'boolean',
        description: '--grep is a POSIX extended regular expression (grep -E), checked before connecting',
      },
      {
        name: 'follow',
        alias: 'f',
        type: 'boolean',
        description: 'keep printing new lines of every server, each prefixed with its server and source, until Ctrl-C',
      },
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist', 'parallel'],
    examples: [
      'npx zx tasks/server-logs.mjs --server production --service all-supervisors',
      'npx zx tasks/server-logs.mjs --site example.com --follow',
      'npx zx tasks/server-logs.mjs --server web --service supervisor:example.com/queue-worker -n 200',
      "npx zx tasks/server-logs.mjs --site example.com --grep 'Job failed' -n 20",
      "npx zx tasks/server-logs.mjs --server web-1,web-2 --service all-supervisors --grep 'SIG(TERM|KILL)' --regex -f",
      'npx zx tasks/server-logs.mjs --site example.com --json',
    ],
    notes: [
      "supervisor is supervisord's own log: the journal where systemd runs, else /var/log/supervisor/supervisord.log.",
      'Servers are read in inventory order, each source under a heading. A missing log file is a warning, not a failure; a server that cannot be read is an error (exit 1) and the others are still shown. --quiet prints the lines without headings (like tail -q).',
      '--grep: the last N matching lines (with --follow: the matches among the last N lines, then every new match). --regex takes only what POSIX defines for grep -E.',
      '--follow follows every server at once (--parallel does not apply), up to 256; a server lost on the way is reported once and the others go on. Ctrl-C or SIGTERM stops every remote tail and exits 130.',
    ],
  },
  async ({ flags, given, output, session, interactive }) => {
    const lines = checkLines(flags.lines)
    const filter = checkLogFilter(flags.grep, flags.regex)
    if (flags.follow) refuseWithFollow(flags, given)
    const { inventory } = await loadInventory(flags.inventory)
    const { servers, site } = await askServers(
      inventory,
      flags.server,
      chooseSiteFlag({ site: flags.site, domain: flags.domain }),
      interactive,
    )
    const services = await askServices(availableServicesOn(inventory, servers, site), flags.service, site, interactive)
    const targets = resolveLogTargets(inventory, servers, services, site)

    if (flags.follow) {
      checkFollowedServers(targets)
      const colour = wantsColour(output)
      const prefixOf = linePrefixer(
        targets.map((t) => ({ server: t.server.name, services: t.sources.map((s) => s.service) })),
        colour,
      )
      const lineOutput = logLineOutput(output)
      let lostCount = 0
      const end = await followUntilSignalled((signal) =>
        followServers(session, targets, {
          lines,
          ...(filter ? { filter } : {}),
          signal,
          onFollowing: (server, followed) => output.server(server, `following ${followed.join(', ')} (Ctrl-C to stop)`),
          onLine: (server, service, line) => lineOutput.info(prefixedLine(prefixOf(server, service), line, colour)),
          onNotice: (server, service, text) => output.warn(describeNotice(server, service, text)),
          onLost: (server, error, wasFollowing) =>
            output.error(describeLostServer(server, error, wasFollowing, ++lostCount < targets.length)),
        }),
      )
      for (const f of end.failed) output.error(`${f.server}: ${f.command} ended with exit code ${f.exitCode}`)
      // A user's stop is an interruption (130), as for every task and for `tail -f`; a follow that ended by itself
      // (every server lost, or a stream ended) is a failure (1).
      return end.stopped ? EXIT.interrupted : end.lost.length || end.failed.length ? EXIT.failed : EXIT.ok
    }

    const sourcesOf = new Map(targets.map((t) => [t.server.name, t.sources]))
    const outcomes = await forEachServer(
      targets.map((t) => t.server),
      session,
      async (server, connection) => {
        const layout = await layoutOf(connection)
        return readLogs(connection, placeLogSources(sourcesOf.get(server.name) ?? [], layout), lines, layout, filter)
      },
      flags.parallel,
    )
    reportServerLogs(output, outcomes)
    output.json(logsDocument(lines, filter, outcomes))
    return outcomes.every((o) => o.ok) ? EXIT.ok : EXIT.failed
  },
)

/**
 * --json prints one document at the end, and a follow has none; every server is followed at once, so --parallel
 * has nothing to limit. Both are refused rather than ignored.
 * @param {Record<string, unknown>} flags @param {Set<string>} given
 */
function refuseWithFollow(flags, given) {
  const problems = []
  if (flags.json)
    problems.push({
      field: '--json',
      value: true,
      allowed: 'not with --follow',
      hint: '--json prints one document when done; --follow never is',
    })
  if (given.has('parallel'))
    problems.push({
      field: '--parallel',
      value: flags.parallel,
      allowed: 'not with --follow',
      hint: '--follow follows every server at once (up to 256); drop --parallel',
    })
  if (problems.length) throw new InputError(problems)
}

/**
 * --server and/or --site, or one server chosen on a terminal; without them, the missing flag is named.
 * @param {import('zx-supervisor').Inventory} inventory @param {string | undefined} server
 * @param {{ site?: string, field: string }} site @param {boolean} interactive
 * @returns {Promise<{ servers: import('zx-supervisor').Server[], site?: import('zx-supervisor').Site }>}
 */
async function askServers(inventory, server, site, interactive) {
  const chosen = resolveLogServers(inventory, { server, site: site.site, siteField: site.field })
  if (chosen) return chosen
  const names = inventory.servers.map((s) => s.name)
  if (interactive && names.length)
    return { servers: [findServer(inventory, await promptChoice('Select server:', names))] }
  throw new InputError([
    {
      field: '--server',
      value: undefined,
      allowed: `a server, a group or a comma-separated list of them (${names.join(', ') || 'none yet'}), or --site DOMAIN`,
      hint: 'pass --server NAME, or --site DOMAIN for every server of a site',
    },
  ])
}

/**
 * --service; with --site, the site's programs (all-supervisors); else one choice among what exists (on a terminal).
 * @param {string[]} available @param {string | undefined} given @param {unknown} site @param {boolean} interactive
 * @returns {Promise<string>}
 */
async function askServices(available, given, site, interactive) {
  if (given) return given
  if (site) return 'all-supervisors'
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
 * connections; run in-process without the frame's handlers, the same signals end only the following.
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
