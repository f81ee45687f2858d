#!/usr/bin/env zx
// supervisor-create: add a supervisor program to a site in the inventory (no server is contacted).
import {
  addProgram,
  findSite,
  listAvailableScripts,
  loadInventory,
  projectTemplatesDir,
  redactEnvironment,
  renderProgramFiles,
  resolveProgramEnvironment,
  saveInventory,
  serversOfSite,
} from 'zx-supervisor'
import {
  askDomain,
  askScriptsCheckout,
  collectProgramEntry,
  defineTask,
  programFlags,
  replayCommand,
  runIfMain,
} from 'zx-supervisor/cli'

export const supervisorCreate = defineTask(
  {
    name: 'supervisor-create',
    summary: 'add a supervisor program to a site in the inventory',
    usage: '--domain DOMAIN --program NAME --script FILE [options]',
    flags: [
      { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: 'the site (prompted on a terminal)' },
      ...programFlags(),
      { name: 'env', type: 'list', placeholder: 'KEY=VALUE', description: 'an environment variable for the program' },
      {
        name: 'env-from-env',
        type: 'list',
        placeholder: 'KEY[=VAR]',
        description:
          'an environment variable whose value sync reads from $VAR (default $KEY) on this machine; the inventory holds only { from_env: VAR }',
      },
      {
        name: 'app-dir',
        type: 'string',
        placeholder: 'PATH',
        description: "read scripts from this checkout instead of cloning the site's repo/branch",
      },
    ],
    common: ['inventory', 'json', 'verbose', 'quiet'],
    examples: [
      'npx zx tasks/supervisor-create.mjs',
      'npx zx tasks/supervisor-create.mjs --domain example.com --program queue-worker --script queue-worker.sh --numprocs 2',
      'npx zx tasks/supervisor-create.mjs --domain example.com --program ws --script ws.sh --app-dir ../app --env PORT=6001 --no-autostart',
      'npx zx tasks/supervisor-create.mjs --domain example.com --program billing --script billing.sh --env-from-env STRIPE_SECRET --env-from-env DB_PASSWORD=PROD_DB_PASSWORD',
    ],
  },
  async ({ flags, given, output, interactive }) => {
    const loaded = await loadInventory(flags.inventory)
    const site = findSite(loaded.inventory, await askDomain(loaded.inventory, flags, interactive))
    const appDir = await askScriptsCheckout(site, flags, interactive)
    const { scripts } = await listAvailableScripts(site, appDir)
    const entry = await collectProgramEntry(site, scripts, flags, given, interactive)
    const templatesDir = projectTemplatesDir()
    // Checks the template and values; a referenced variable is not read here (create touches no secret), only at sync.
    const { program } = resolveProgramEnvironment(
      { environment: {}, ...entry },
      {},
      { mode: 'allow-unknown', field: '--env-from-env', program: entry.program },
    )
    for (const server of serversOfSite(loaded.inventory, site))
      renderProgramFiles({ templatesDir, server, site, program })
    await saveInventory(loaded, addProgram(loaded, site.domain, entry))

    output.info(`Supervisor '${entry.program}' added to inventory (${loaded.path})`)
    output.info(
      `Next, apply it to the servers: npx zx tasks/supervisor-sync.mjs --inventory ${loaded.path} --domain ${site.domain}`,
    )
    // Literals are shown as the inventory holds them, secret-looking ones as fingerprints (lib/redact.ts); references are names.
    const replay = replayCommand(
      site.domain,
      { ...entry, environment: redactEnvironment(entry.environment ?? {}) },
      loaded.path,
      appDir,
    )
    output.info(`Non-interactive replay: ${replay}`)
    output.json({ ok: true, domain: site.domain, program: entry.program, inventory: loaded.path, replay })
  },
)

await runIfMain(import.meta.url, supervisorCreate)
