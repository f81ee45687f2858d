#!/usr/bin/env node
// npx zx-supervisor init [DIR] | eject TASK | eject --list: set up a team's ops repo and fork its tasks. The commands
// themselves are task scripts run with zx (npx zx tasks/<task>.mjs); this is only the package's own helper.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { EXIT, ZxsError } from '../dist/lib/errors.js'
import { packageFile, projectDir } from '../dist/lib/project.js'
import { ejectTask, findShippedTask } from '../dist/lib/setup/eject.js'
import { initProject } from '../dist/lib/setup/init.js'
import { SHIPPED_TASKS } from '../dist/lib/setup/shipped-tasks.js'

const USAGE = `Usage: npx zx-supervisor <command>

Commands:
  init [DIR]      lay out an ops repo in DIR (default: the current folder): inventory/inventory.yml, one short
                  script per command in tasks/, templates/ for your overrides, .gitignore; never replaces a file
  eject TASK      copy TASK's full checklist into tasks/TASK.mjs, to change its steps (replaces only init's script)
  eject --list    the tasks that can be ejected

Flags: --help, --version, --verbose (stack traces)
Exit codes: 0 done, 1 eject skipped (a file of yours is there), 2 bad input (nothing written)`

const version = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')).version
const say = (/** @type {string} */ line = '') => process.stdout.write(`${line}\n`)

/** @param {string[]} argv @returns {Promise<number>} */
async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      list: { type: 'boolean' },
    },
  })
  const [command, ...rest] = positionals
  if (values.version || values.help) {
    say(values.version ? version : USAGE)
    return EXIT.ok
  }
  if (!command) {
    process.stderr.write(`error: no command given\n\n${USAGE}\n`)
    return EXIT.badInput
  }
  if (command === 'init' && rest.length <= 1 && !values.list) return init(rest[0] ?? '.')
  if (command === 'eject' && values.list && rest.length === 0) return listTasks()
  if (command === 'eject' && rest.length === 1) return eject(/** @type {string} */ (rest[0]))
  process.stderr.write(`error: unknown command line: ${argv.join(' ')}\n\n${USAGE}\n`)
  return EXIT.badInput
}

/** @param {string} dir */
async function init(dir) {
  const result = await initProject(dir)
  say(`zx-supervisor ${version}: ops repo in ${result.dir}`)
  for (const file of result.files) {
    say(file.status === 'created' ? `  created ${file.path}` : `  skipped ${file.path} (it exists; left as it is)`)
  }
  if (!result.installed) {
    say(`\nwarning: no package.json in or above ${result.dir} depends on zx-supervisor, so its tasks cannot import it:`)
    say(`  cd ${result.dir} && npm init -y && npm install <the zx-supervisor tarball> zx`)
  }
  const cd = path.resolve(dir) === process.cwd() ? '' : `cd ${path.relative(process.cwd(), result.dir)} && `
  say('\nNext:')
  /** @type {Array<[string, string]>} */
  const next = [
    [`${cd}$EDITOR inventory/inventory.yml`, 'your servers and sites'],
    ['npx zx tasks/supervisor-create.mjs', 'add a program (asked step by step)'],
    ['npx zx tasks/supervisor-sync.mjs --all --dry-run', 'what a sync would change; then without --dry-run'],
    ['npx zx-supervisor eject supervisor-sync', 'to change the steps of a task'],
  ]
  const width = Math.max(...next.map(([command]) => command.length)) + 3
  for (const [command, what] of next) say(`  ${command.padEnd(width)}${what}`)
  return EXIT.ok
}

/** @param {string} name */
async function eject(name) {
  findShippedTask(name)
  const result = await ejectTask(name, projectDir(), version)
  if (result.status === 'skipped') {
    process.stderr.write(`skipped: ${result.reason}\n`)
    return EXIT.failed
  }
  const how = result.status === 'replaced' ? "replaced init's short script" : 'created'
  say(`${how}: ${result.path}`)
  say(`  the ${name} checklist is yours now: edit it, then run it as before: npx zx tasks/${name}.mjs`)
  return EXIT.ok
}

async function listTasks() {
  const tasks = await import('zx-supervisor/tasks')
  say('Tasks that can be ejected (npx zx-supervisor eject TASK):')
  for (const { name, exportName, command } of SHIPPED_TASKS) {
    const task = /** @type {{ meta: { summary: string } }} */ (tasks[/** @type {keyof typeof tasks} */ (exportName)])
    say(`  ${name.padEnd(22)}${task?.meta.summary ?? ''}${command ? '' : ' (an example, not a command)'}`)
  }
  return EXIT.ok
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  const verbose = process.argv.includes('--verbose') || process.argv.includes('-v')
  // parseArgs refuses an unknown flag with a code of its own: bad input too.
  const badFlag = error instanceof Error && String(Reflect.get(error, 'code')).startsWith('ERR_PARSE_ARGS')
  const hint = badFlag ? ' (npx zx-supervisor --help lists the flags)' : ''
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}${hint}\n`)
  if (verbose && error instanceof Error) process.stderr.write(`${error.stack}\n`)
  process.exitCode = error instanceof ZxsError ? error.exitCode : badFlag ? EXIT.badInput : EXIT.failed
}
