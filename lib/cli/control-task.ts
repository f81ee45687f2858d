import { InputError } from '../errors.ts'
import { forEachServer } from '../fleet.ts'
import { loadInventory } from '../inventory/load.ts'
import { findProgram, findServers, findSite, serversOfSite } from '../inventory/resolve.ts'
import { fullName } from '../layout.ts'
import { PROGRAM_SCHEMA } from '../program-schema.ts'
import { projectTemplatesDir } from '../project.ts'
import type { Connection } from '../remote/connection.ts'
import { resolveEnvironmentRefs } from '../secrets.ts'
import { controlDaemon, type ServiceAction } from '../service/daemon.ts'
import { restartOneByOne } from '../service/one-by-one.ts'
import { controlPrograms } from '../service/programs.ts'
import { summarizeStatus } from '../status/summarize.ts'
import { renderDesiredStates } from '../sync/desired.ts'
import { readLiveState } from '../sync/read-state.ts'
import type { Inventory, Server, Site } from '../types.ts'
import { askDomain } from './ask.ts'
import type { Output, RecapRow } from './output.ts'
import { startFleetProgress } from './progress.ts'
import { defineTask, type Task } from './run-task.ts'
import { reportFailures } from './sync-report.ts'

// supervisor-start, -stop and -restart share one checklist; only the verb differs.
// --server: the supervisord service itself. --domain [--program]: those programs only (every process, D-P:*).
// restart --one-by-one: one process of a group at a time, each RUNNING past its startsecs before the next stops.

const DAEMON_WAIT_SECONDS = 10

const ONE_BY_ONE_FLAG = {
  name: 'one-by-one',
  type: 'boolean',
  description:
    "with --domain: restart each program's processes one at a time, each RUNNING for its startsecs before the next stops (keeps numprocs-1 running)",
} as const

export function defineControlTask(action: ServiceAction): Task {
  return defineTask(
    {
      name: `supervisor-${action}`,
      summary: `${action} the supervisord service of a server (--server), or a site's programs (--domain [--program])`,
      usage: `--server NAME|GROUP | --domain DOMAIN [--program NAME] [--server NAME]${action === 'restart' ? ' [--one-by-one]' : ''} [--parallel N]`,
      flags: [
        {
          name: 'server',
          type: 'string',
          placeholder: 'NAME|GROUP',
          description: 'alone: the supervisord service of these servers; with --domain: only these servers of the site',
        },
        {
          name: 'domain',
          type: 'string',
          placeholder: 'DOMAIN',
          description: 'the site whose programs to act on (every server of the site)',
        },
        {
          name: 'program',
          type: 'string',
          placeholder: 'NAME',
          description: 'one program of the site (default: all of them)',
        },
        ...(action === 'restart' ? [ONE_BY_ONE_FLAG] : []),
      ],
      common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist', 'parallel'],
      examples: [
        `npx zx tasks/supervisor-${action}.mjs --server production`,
        `npx zx tasks/supervisor-${action}.mjs --domain example.com`,
        `npx zx tasks/supervisor-${action}.mjs --domain example.com --program queue-worker`,
        ...(action === 'restart'
          ? ['npx zx tasks/supervisor-restart.mjs --domain example.com --program queue-worker --one-by-one']
          : []),
      ],
      notes: [
        `--server alone ${action}s supervisord itself (every program on it); it waits up to ${DAEMON_WAIT_SECONDS}s and verifies the end state.`,
      ],
    },
    async ({ flags, output, session, interactive }) => {
      const { inventory } = await loadInventory(flags.inventory)
      if (flags.server && !flags.domain) {
        if (flags['one-by-one'])
          throw new InputError([
            {
              field: '--one-by-one',
              value: true,
              allowed: "only with --domain (a site's programs)",
              hint: 'restarting supervisord restarts every program on it at once; add --domain DOMAIN',
            },
          ])
        const servers = findServers(inventory, flags.server)
        const progress = startFleetProgress(output, servers.length)
        const outcomes = await forEachServer(
          servers,
          session,
          noting(output, `${ACTING[action]} supervisord`, (_server, connection) =>
            controlDaemon(connection, action, { waitSeconds: DAEMON_WAIT_SECONDS }),
          ),
          flags.parallel,
          progress.onEvent,
        )
        progress.end()
        for (const o of outcomes)
          if (o.ok)
            output.server(
              o.server.name,
              `supervisord ${o.value.state} (${o.value.manager}${o.value.changed ? '' : `, was already ${o.value.before}`})`,
            )
        reportFailures(output, outcomes)
        output.recap(
          outcomes.map(
            (o): RecapRow => ({
              server: o.server.name,
              ok: o.ok ? 1 : 0,
              changed: o.ok && o.value.changed ? 1 : 0,
              failed: o.ok ? 0 : 1,
            }),
          ),
        )
        output.json({
          ok: outcomes.every((o) => o.ok),
          action,
          target: 'daemon',
          servers: outcomes.map((o) =>
            o.ok
              ? { server: o.server.name, ok: true, ...o.value }
              : { server: o.server.name, ok: false, error: String((o.error as Error).message ?? o.error) },
          ),
        })
        return outcomes.every((o) => o.ok) ? 0 : 1
      }

      const site = findSite(inventory, await askDomain(inventory, flags, interactive))
      const programs = flags.program ? [findProgram(site, flags.program)] : site.supervisors
      if (!programs.length)
        throw new InputError([
          {
            field: '--domain',
            value: site.domain,
            allowed: 'a site with supervisor programs',
            hint: `add one with supervisor-create --domain ${site.domain}`,
          },
        ])
      const servers = narrowServers(inventory, site, flags.server)
      const groups = programs.map((p) => fullName(site.domain, p.program))
      // Only for restart's drift warning: a value this run cannot read is left out of the comparison.
      const { sites: resolvedSites } = resolveEnvironmentRefs(
        inventory,
        [{ ...site, supervisors: programs }],
        process.env,
        { mode: 'allow-unknown' },
      )
      const desiredFor = renderDesiredStates({
        templatesDir: projectTemplatesDir(),
        inventoryId: inventory.id,
        servers,
        sitesOn: () => resolvedSites,
        wholeServer: false,
      })

      const startSecs = (p: Site['supervisors'][number]) => p.startsecs ?? PROGRAM_SCHEMA.startsecs.supervisorDefault
      const rolling = programs.map((p) => ({ name: fullName(site.domain, p.program), startSecs: startSecs(p) }))
      const progress = startFleetProgress(output, servers.length)
      const outcomes = await forEachServer(
        servers,
        session,
        noting(output, `${ACTING[action]} ${groups.join(', ')}`, async (server, connection) => {
          const drifted =
            action === 'restart'
              ? summarizeStatus(
                  desiredFor(server),
                  await readLiveState(connection, desiredFor(server), { withStatus: true }),
                  { listUnknown: false },
                ).programs.filter((p) => p.drift.length)
              : []
          const done = flags['one-by-one']
            ? await restartOneByOne(connection, rolling)
            : { ...(await controlPrograms(connection, action, groups)), untouched: [] }
          return { drifted, ...done }
        }),
        flags.parallel,
        progress.onEvent,
      )
      progress.end()

      for (const o of outcomes) {
        if (!o.ok) continue
        for (const p of o.value.drifted)
          output.warn(
            `${o.server.name}: ${p.fullName}: ${p.drift.join('; ')} — restart does not apply config changes; supervisor-sync does (it restarts what changed)`,
          )
        for (const line of o.value.lines) output.server(o.server.name, line)
        for (const proc of o.value.processes)
          output.server(o.server.name, `${proc.name}  ${proc.state}${proc.pid ? `  pid ${proc.pid}` : ''}`)
        if (o.value.failed.length)
          output.error(
            `${o.server.name}: not ${action === 'stop' ? 'stopped' : 'running'} after ${action}: ${o.value.failed.join(', ')} (see: npx zx tasks/server-logs.mjs --server ${o.server.name} --service all-supervisors)`,
          )
        if (o.value.untouched.length)
          output.error(
            `${o.server.name}: one-by-one restart stopped; not restarted (still on their old pids): ${o.value.untouched.join(', ')}`,
          )
      }
      reportFailures(output, outcomes)
      output.recap(
        outcomes.map(
          (o): RecapRow =>
            o.ok
              ? {
                  server: o.server.name,
                  ok: groups.length - o.value.failed.length,
                  changed: o.value.changed,
                  failed: o.value.failed.length,
                }
              : { server: o.server.name, ok: 0, changed: 0, failed: 1 },
        ),
      )
      const ok = outcomes.every((o) => o.ok && !o.value.failed.length)
      output.json({
        ok,
        action,
        target: 'programs',
        domain: site.domain,
        groups,
        servers: outcomes.map((o) =>
          o.ok
            ? {
                server: o.server.name,
                ok: !o.value.failed.length,
                processes: o.value.processes,
                failed: o.value.failed,
                ...('restarted' in o.value ? { restarted: o.value.restarted, untouched: o.value.untouched } : {}),
                drift: o.value.drifted.map((p) => ({ program: p.fullName, drift: p.drift })),
              }
            : { server: o.server.name, ok: false, error: String((o.error as Error).message ?? o.error) },
        ),
      })
      return ok ? 0 : 1
    },
  )
}

const ACTING: Record<ServiceAction, string> = { start: 'starting', stop: 'stopping', restart: 'restarting' }

/** The work of each server, with what it is being waited for on the status line ("web-1: restarting app.test-worker"). */
function noting<T>(
  output: Output,
  note: string,
  work: (server: Server, connection: Connection) => Promise<T>,
): (server: Server, connection: Connection) => Promise<T> {
  return async (server, connection) => {
    output.status?.note(server.name, note)
    try {
      return await work(server, connection)
    } finally {
      output.status?.note(server.name, undefined)
    }
  }
}

function narrowServers(inventory: Inventory, site: Site, name: string | undefined): Server[] {
  const onSite = serversOfSite(inventory, site)
  if (!name) return onSite
  const chosen = findServers(inventory, name).filter((s) => onSite.some((o) => o.name === s.name))
  if (!chosen.length)
    throw new InputError([
      {
        field: '--server',
        value: name,
        allowed: `a server of ${site.domain}: ${onSite.map((s) => s.name).join(', ')}`,
        hint: `${site.domain}'s programs run on ${onSite.map((s) => s.name).join(', ')}`,
      },
    ])
  return chosen
}
