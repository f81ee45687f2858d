#!/usr/bin/env zx
// supervisor-sync: make the servers' supervisor programs match the inventory, all-or-nothing per server.
import {
  describeUnknownValue,
  forEachServer,
  loadInventory,
  projectTemplatesDir,
  renderDesiredStates,
  resolveScopeEnvironment,
  resolveSyncScope,
  syncServer,
} from 'zx-supervisor'
import {
  checkExitCode,
  chooseSiteIfMissing,
  defineTask,
  LOCK_WAIT_FLAG,
  reportFailures,
  reportServerSync,
  reportTemplates,
  runIfMain,
  startFleetProgress,
  stoppingReporter,
  syncJson,
  syncRecap,
} from 'zx-supervisor/cli'

export const supervisorSync = defineTask(
  {
    name: 'supervisor-sync',
    summary: "make the servers' supervisor programs match the inventory",
    usage: '(--domain DOMAIN | --server NAME|GROUP | --all) [--dry-run | --check] [--parallel N]',
    flags: [
      {
        name: 'domain',
        type: 'string',
        placeholder: 'DOMAIN',
        description: "sync one site's programs on every server of the site",
      },
      {
        name: 'server',
        type: 'string',
        placeholder: 'NAME|GROUP',
        description: 'sync every site of a server or group (with --domain: only those servers)',
      },
      { name: 'all', type: 'boolean', description: 'sync every site on every server' },
      { name: 'dry-run', type: 'boolean', description: 'print per server a diff of what would change; touch nothing' },
      {
        name: 'check',
        type: 'boolean',
        description:
          'for CI and cron: touch nothing; exit 0 when every server matches, 3 when a change is pending (summary; the diff with --verbose), 1 when a server fails',
      },
      {
        name: 'adopt',
        type: 'boolean',
        description:
          'take over files without a zx-supervisor marker at the paths sync writes (migration from DeployerPHP)',
      },
      LOCK_WAIT_FLAG,
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist', 'parallel'],
    exitCodes: [0, 1, 2, 3, 130],
    examples: [
      'npx zx tasks/supervisor-sync.mjs --domain example.com',
      'npx zx tasks/supervisor-sync.mjs --server web --dry-run',
      'npx zx tasks/supervisor-sync.mjs --all --check --parallel 32',
      'npx zx tasks/supervisor-sync.mjs --all --inventory inventory/sandbox.yml --json',
    ],
  },
  async ({ flags, output, session, interactive, stillRunning }) => {
    const { inventory } = await loadInventory(flags.inventory)
    const domain = await chooseSiteIfMissing(inventory, flags, interactive)
    const scope = resolveSyncScope(inventory, { domain, server: flags.server, all: flags.all })
    // A real sync needs every referenced variable; a dry run or check shows what it cannot read as unknown.
    const { sitesOn, unknown } = resolveScopeEnvironment(inventory, scope, process.env, {
      mode: flags['dry-run'] || flags.check ? 'allow-unknown' : 'require',
    })
    for (const value of unknown) output.warn(`${describeUnknownValue(value)}; shown as such, a real sync needs it set`)
    const desiredFor = renderDesiredStates({ templatesDir: projectTemplatesDir(), ...scope, sitesOn })
    if (scope.hint) output.info(`hint: ${scope.hint}`)
    reportTemplates(output, scope.servers.map(desiredFor))

    const progress = startFleetProgress(output, scope.servers.length)
    const outcomes = await forEachServer(
      scope.servers,
      session,
      async (server, connection) => {
        const stopping = stoppingReporter(output, stillRunning, server.name)
        try {
          return await syncServer(connection, desiredFor(server), {
            dryRun: flags['dry-run'],
            check: flags.check,
            adopt: flags.adopt,
            lockWaitSeconds: flags['lock-wait'],
            onStopping: stopping.onStopping,
          })
        } finally {
          stopping.done()
        }
      },
      flags.parallel,
      progress.onEvent,
    )
    progress.end()

    for (const outcome of outcomes) if (outcome.ok) reportServerSync(output, outcome.value)
    reportFailures(output, outcomes)
    output.recap(syncRecap(outcomes))
    output.json(syncJson(outcomes))
    if (flags.check) return checkExitCode(outcomes)
    return outcomes.every((o) => o.ok) ? 0 : 1
  },
)

await runIfMain(import.meta.url, supervisorSync)
