#!/usr/bin/env zx
// supervisor-import: bring the programs that already run on servers into the inventory (the migration path).
import {
  EXIT,
  findServers,
  findSite,
  forEachServer,
  InputError,
  importIntoInventory,
  importServer,
  importYaml,
  listConflict,
  loadInventory,
  mergeServerImports,
  requireAppCheckout,
  saveInventory,
  wrapperPath,
  writeWrapperScripts,
} from 'zx-supervisor'
import {
  defineTask,
  importExitCode,
  importJson,
  importRecap,
  reportFailures,
  reportImport,
  runIfMain,
  startFleetProgress,
} from 'zx-supervisor/cli'

export const supervisorImport = defineTask(
  {
    name: 'supervisor-import',
    summary: 'bring the programs that already run on servers into the inventory (the migration path)',
    usage: '--server NAME|GROUP [--domain DOMAIN] [--write-scripts APP_DIR] [--dry-run]',
    flags: [
      { name: 'server', type: 'string', placeholder: 'NAME|GROUP', description: 'the server or group to read' },
      {
        name: 'domain',
        type: 'string',
        placeholder: 'DOMAIN',
        description: "the site (in the inventory) for programs found under no site's directory",
      },
      {
        name: 'write-scripts',
        type: 'string',
        placeholder: 'APP_DIR',
        description:
          'write a small exec wrapper under APP_DIR/.deployer/supervisors/ for each program whose command is not a script of the app (never overwrites)',
      },
      { name: 'dry-run', type: 'boolean', description: 'print the entries as YAML; write nothing' },
    ],
    common: ['inventory', 'json', 'verbose', 'quiet', 'timeout', 'persist', 'parallel'],
    exitCodes: [0, 1, 2, 3, 130],
    notes: [
      'Import never changes a server. Exit 3 here: some programs were listed and not written (each with its reason).',
      'Then run the supervisor-sync --adopt command it prints: it takes the programs over and removes their original files (a copy is kept).',
    ],
    examples: [
      'npx zx tasks/supervisor-import.mjs --server web-1 --dry-run',
      'npx zx tasks/supervisor-import.mjs --server web --write-scripts ../app',
      'npx zx tasks/supervisor-import.mjs --server legacy-1 --domain example.com --json',
    ],
  },
  async ({ flags, output, session }) => {
    // Input first: nothing is read from any server before every flag is known good.
    const loaded = await loadInventory(flags.inventory)
    if (!flags.server)
      throw new InputError([
        {
          field: '--server',
          value: undefined,
          allowed: 'a server or group of the inventory',
          hint: 'e.g. --server web-1',
        },
      ])
    const servers = findServers(loaded.inventory, flags.server)
    if (flags.domain) findSite(loaded.inventory, flags.domain)
    const appDir = flags['write-scripts'] ? await requireAppCheckout(flags['write-scripts']) : undefined

    const progress = startFleetProgress(output, servers.length)
    const options = { inventory: loaded.inventory, domain: flags.domain, writeScripts: Boolean(appDir) }
    const outcomes = await forEachServer(
      servers,
      session,
      (_server, connection) => importServer(connection, options),
      flags.parallel,
      progress.onEvent,
    )
    progress.end()
    reportFailures(output, outcomes)
    const merged = mergeServerImports(
      outcomes.flatMap((o) => (o.ok ? [o.value] : [])),
      loaded.inventory,
    )

    let scripts = merged.programs.flatMap((p) => (p.script && appDir ? [wrapperPath(appDir, p.script)] : []))
    if (flags['dry-run']) {
      const yaml = importYaml(loaded, merged.programs)
      if (yaml) output.info(yaml.trimEnd())
    } else {
      if (appDir) {
        const { written, taken } = await writeWrapperScripts(appDir, merged.programs)
        scripts = written
        for (const { program, path: file } of taken) {
          merged.programs.splice(merged.programs.indexOf(program), 1)
          listConflict(merged, program, `${file} already exists with other content; it is never overwritten`)
        }
      }
      if (merged.programs.length) await saveInventory(loaded, importIntoInventory(loaded, merged.programs))
    }

    const dryRun = Boolean(flags['dry-run'])
    const summary = { merged, outcomes, inventoryPath: loaded.path, dryRun, scripts, ...(appDir ? { appDir } : {}) }
    reportImport(output, summary)
    output.recap(importRecap(summary))
    const exitCode = importExitCode(summary)
    output.json(importJson(summary, exitCode))
    return exitCode === EXIT.ok ? undefined : exitCode
  },
)

await runIfMain(import.meta.url, supervisorImport)
