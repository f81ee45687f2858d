#!/usr/bin/env zx
// npm run demo: a local server, an app release with a worker script, then create → sync → status through the
// real tasks, the worker's log, and what to try next. Needs root (the sandbox uses namespaces).
import fs from 'node:fs/promises'
import path from 'node:path'
import { chalk, YAML } from 'zx'
import { createSession, findServer, loadInventory, projectDir, switchCurrent, uploadRelease } from 'zx-supervisor'
// The sandbox is this repository's own (built by npm run build; not in the package).
import { sandboxUp } from '../dist/sandbox/index.js'
import { runSupervisorctl } from '../dist/sandbox/supervisorctl.js'
import { supervisorCreate } from './supervisor-create.mjs'
import { supervisorStatus } from './supervisor-status.mjs'
import { supervisorSync } from './supervisor-sync.mjs'

const PROJECT_DIR = projectDir()

const DOMAIN = 'demo.test'
const SANDBOX_DIR = path.join(PROJECT_DIR, '.sandbox')
const INVENTORY = path.join('inventory', 'sandbox.yml')
const APP_DIR = path.join(SANDBOX_DIR, 'demo-app')
const say = (/** @type {string} */ line) => console.log(`\n${chalk.bold(`== ${line}`)}`)
const shown = (/** @type {string} */ task, /** @type {string[]} */ args) =>
  console.log(`$ npx zx tasks/${task}.mjs ${args.join(' ')}`)

/** Runs a task in this process as the user would from the shell, and stops the demo if it fails. */
async function step(
  /** @type {{ run: (a: string[]) => Promise<number> }} */ task,
  /** @type {string} */ name,
  /** @type {string[]} */ args,
  okCodes = [0],
) {
  shown(name, args)
  const code = await task.run(args)
  if (!okCodes.includes(code)) throw new Error(`${name} exited ${code}`)
  return code
}

say('1. A local throwaway server (its own sshd and supervisord on a loopback address)')
// The demo's inventory is throwaway: it replaces one an earlier demo edited.
await sandboxUp({
  dir: SANDBOX_DIR,
  count: 2,
  inventoryPath: path.join(PROJECT_DIR, INVENTORY),
  replaceInventory: true,
  log: (l) => console.log(`   ${l}`),
})

say('2. An app with a worker script in .deployer/supervisors/, deployed as a release on sandbox-1')
await fs.rm(APP_DIR, { recursive: true, force: true })
await fs.mkdir(path.join(APP_DIR, '.deployer', 'supervisors'), { recursive: true })
await fs.copyFile(
  path.join(PROJECT_DIR, 'templates', 'demo', 'worker.sh'),
  path.join(APP_DIR, '.deployer', 'supervisors', 'worker.sh'),
)
await fs.chmod(path.join(APP_DIR, '.deployer', 'supervisors', 'worker.sh'), 0o755)
const inventoryText = await fs.readFile(INVENTORY, 'utf8')
const document = YAML.parseDocument(inventoryText)
document.set(
  'sites',
  document.createNode([{ domain: DOMAIN, server: 'sandbox-1', branch: 'main', php_version: '8.3' }]),
)
await fs.writeFile(INVENTORY, document.toString())
console.log(`   site ${DOMAIN} on sandbox-1 added to ${INVENTORY}`)
const session = createSession({ timeoutSeconds: 10, batch: true })
try {
  const { inventory } = await loadInventory(INVENTORY)
  const server = findServer(inventory, 'sandbox-1')
  const connection = await session.connect(server)
  const root = `/home/deployer/sites/${DOMAIN}`
  const release = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  await uploadRelease(connection, {
    localDir: APP_DIR,
    root,
    release,
    owner: server.siteUser,
    sitesPath: server.sitesPath,
  })
  await switchCurrent(connection, { root, release })
  console.log(`   rsync → ${root}/releases/${release}, current → releases/${release}`)

  say('3. supervisor-create: add the program to the inventory (two processes)')
  await step(supervisorCreate, 'supervisor-create', [
    '--inventory',
    INVENTORY,
    '--domain',
    DOMAIN,
    '--program',
    'worker',
    '--script',
    'worker.sh',
    '--numprocs',
    '2',
    '--stopwaitsecs',
    '10',
    '--app-dir',
    path.relative(PROJECT_DIR, APP_DIR),
  ])

  say('4. supervisor-sync --dry-run: the plan, touching nothing')
  await step(supervisorSync, 'supervisor-sync', ['--inventory', INVENTORY, '--domain', DOMAIN, '--dry-run'])

  say("5. supervisor-sync: staged, checked by the server's supervisor, swapped in, applied")
  await step(supervisorSync, 'supervisor-sync', ['--inventory', INVENTORY, '--domain', DOMAIN])
  say('   ...and again: nothing changes, nothing restarts')
  await step(supervisorSync, 'supervisor-sync', ['--inventory', INVENTORY, '--domain', DOMAIN])

  say('6. supervisor-status: both processes running, no drift')
  await new Promise((r) => setTimeout(r, 2500))
  await step(supervisorStatus, 'supervisor-status', ['--inventory', INVENTORY], [0, 3])

  say(`7. The worker's log on sandbox-1 (/var/log/supervisor/${DOMAIN}-worker.log)`)
  const tail = await connection.run(['tail', '-n', '6', `/var/log/supervisor/${DOMAIN}-worker.log`], {
    privileged: true,
  })
  console.log(tail.stdout.replace(/^/gm, '   '))
  const ctl = await runSupervisorctl(connection, ['status'])
  console.log(`   supervisorctl status on sandbox-1:\n${ctl.stdout.replace(/^/gm, '   ')}`)
} finally {
  await session.closeAll()
}

say('Try next')
console.log(`   npx zx tasks/supervisor-status.mjs --inventory ${INVENTORY}
   npx zx tasks/supervisor-create.mjs --inventory ${INVENTORY} --domain ${DOMAIN} --program another --script worker.sh --app-dir ${path.relative(PROJECT_DIR, APP_DIR)}   (refused: one program per script)
   edit numprocs in ${INVENTORY}, then: npx zx tasks/supervisor-sync.mjs --inventory ${INVENTORY} --domain ${DOMAIN} --dry-run
   npx zx tasks/server-logs.mjs --inventory ${INVENTORY} --server sandbox-1 --service all-supervisors --follow
   npx zx tasks/supervisor-restart.mjs --inventory ${INVENTORY} --domain ${DOMAIN}
   npx zx tasks/deploy.mjs --inventory ${INVENTORY} --domain ${DOMAIN} --app-dir ${path.relative(PROJECT_DIR, APP_DIR)}
   ssh -F .sandbox/ssh_config sandbox-1 sudo supervisorctl status
   npx zx tasks/sandbox.mjs down      (removes the local servers)`)
