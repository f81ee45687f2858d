import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec, sandboxLayout } from '../../sandbox/index.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { deployApp, editInventory, processesOn, startSandbox, type TestSandbox, WORKER } from '../helpers/sandbox.ts'

// supervisor-import on a sandbox server holding hand-written programs: import → inventory entries → sync --adopt →
// status; then what it lists, hostile files, idempotence and its exit codes.

const imp = suite<{ sandbox: TestSandbox }>('supervisor-import on a sandbox server')
const CONF_D = 'etc/supervisor/conf.d'
const SITE = '/home/deployer/sites/imp.test'
const HANDMADE = `; written by hand
[program:mailer]
command=/bin/sleep 100000
directory=${SITE}/current
user=deployer
environment=APP_ENV="production",STRIPE_SECRET="sk_live_never_printed"
stopwaitsecs=2
`
const DEPLOYER = `[program:imp.test-queue]
command=${SITE}/runner.sh .deployer/supervisors/worker.sh
autostart=true
autorestart=true
stopwaitsecs=2
numprocs=1
user=deployer
process_name=%(program_name)s_%(process_num)02d
`
const OTHERS = `[eventlistener:crash]
command=/bin/cat
events=PROCESS_STATE_FATAL
[program:left]
command=/bin/sleep 100000
[group:pair]
programs=left
`

async function supervisorctl(sandbox: TestSandbox, ...args: string[]) {
  const one = sandbox.host('sandbox-1')
  return hostExec(one, ['env', 'LC_ALL=C', 'supervisorctl', '-c', sandboxLayout(one.layout).config, ...args])
}

imp.before(async (context) => {
  context.sandbox = await startSandbox(1)
  const one = context.sandbox.host('sandbox-1')
  await deployApp(one, 'imp.test', { 'worker.sh': WORKER })
  await fs.writeFile(path.join(one.root, CONF_D, 'handmade.conf'), HANDMADE)
  await fs.writeFile(path.join(one.root, CONF_D, 'imp.test-queue.conf'), DEPLOYER)
  await fs.writeFile(path.join(one.root, CONF_D, 'others.conf'), OTHERS)
  await supervisorctl(context.sandbox, 'update')
})

imp.after(async ({ sandbox }) => {
  await sandbox?.down()
})

const importTask = (sandbox: TestSandbox, ...args: string[]) =>
  runTask('supervisor-import', ['--inventory', sandbox.inventory, ...args])

imp(
  'bad input is exit 2 before any connection: an unknown server, a --domain not in the inventory',
  async ({ sandbox }) => {
    const unknown = await importTask(sandbox, '--server', 'nope')
    assert.is(unknown.exitCode, 2, unknown.all)
    assert.match(unknown.stderr, '--server')
    const domain = await importTask(sandbox, '--server', 'sandbox-1', '--domain', 'missing.test')
    assert.is(domain.exitCode, 2, domain.all)
    const missing = await importTask(sandbox)
    assert.is(missing.exitCode, 2, missing.all)
  },
)

imp('--dry-run prints the entries as YAML, lists what it cannot import, and changes nothing', async ({ sandbox }) => {
  const before = await fs.readFile(sandbox.inventory, 'utf8')
  const run = await importTask(sandbox, '--server', 'sandbox-1', '--dry-run')
  assert.is(run.exitCode, 3, run.all)
  assert.match(run.stdout, '- domain: imp.test')
  assert.match(run.stdout, 'would import imp.test/queue from /etc/supervisor/conf.d/imp.test-queue.conf')
  assert.match(
    run.stdout,
    /not imported \(needs-script\): \/etc\/supervisor\/conf\.d\/handmade\.conf \[program:mailer\]/,
  )
  assert.match(run.stdout, /not imported \(not-representable\): .*others\.conf \[eventlistener:crash\]/)
  assert.match(run.stdout, /not imported \(not-representable\): .*others\.conf \[group:pair\]/)
  assert.is(await fs.readFile(sandbox.inventory, 'utf8'), before)
  assert.not.match(run.all, 'sk_live_never_printed')
})

imp(
  'import with --write-scripts writes the entries and the wrapper; sync --adopt takes them over',
  async ({ sandbox }) => {
    const one = sandbox.host('sandbox-1')
    const app = path.join(sandbox.dir, 'app')
    await fs.mkdir(app, { recursive: true })
    const run = await importTask(sandbox, '--server', 'sandbox-1', '--write-scripts', app)
    assert.is(run.exitCode, 3, run.all)
    assert.not.match(run.all, 'sk_live_never_printed')
    assert.match(run.stdout, 'imported imp.test/mailer from /etc/supervisor/conf.d/handmade.conf [program:mailer]')
    assert.match(run.stdout, 'Set these variables where syncs run')
    assert.match(run.stdout, 'STRIPE_SECRET')
    // Wrappers were written: the next step is one deploy --adopt of the app that holds them.
    assert.match(
      run.stdout,
      `npx zx tasks/deploy.mjs --inventory ${sandbox.inventory} --domain imp.test --app-dir ${app} --adopt`,
    )
    assert.match(
      run.stdout,
      'sandbox-1: mailer stops and imp.test-mailer starts (/etc/supervisor/conf.d/handmade.conf is removed, a copy kept)',
    )
    const inventory = await fs.readFile(sandbox.inventory, 'utf8')
    assert.match(
      inventory,
      [
        '  - domain: imp.test',
        '    server: sandbox-1',
        '    supervisors:',
        '      - program: mailer',
        '        script: mailer.sh',
        '        autorestart: unexpected',
        '        stopwaitsecs: 2',
        '        imported_from: /etc/supervisor/conf.d/handmade.conf',
        '        environment:',
        '          APP_ENV: production',
        '          STRIPE_SECRET: { from_env: STRIPE_SECRET }',
        '      - program: queue',
        '        script: worker.sh',
        '        stopwaitsecs: 2',
        '        imported_from: /etc/supervisor/conf.d/imp.test-queue.conf',
      ].join('\n'),
    )
    const wrapper = path.join(app, '.deployer/supervisors/mailer.sh')
    assert.is((await fs.stat(wrapper)).mode & 0o777, 0o755)
    assert.match(await fs.readFile(wrapper, 'utf8'), /\nexec \/bin\/sleep 100000\n$/)

    // The sync path (the wrapper put into the running release by hand) is the one without a deploy.
    await deployApp(one, 'imp.test', { 'worker.sh': WORKER, 'mailer.sh': await fs.readFile(wrapper, 'utf8') })
    const sync = (...args: string[]) =>
      runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'imp.test', ...args], {
        env: { STRIPE_SECRET: 'sk_live_never_printed' },
      })
    const refused = await sync()
    assert.is(refused.exitCode, 1, refused.all)
    assert.match(
      refused.stderr,
      'the original of imported imp.test-mailer (supervisor would run both); run with --adopt',
    )
    // Until the adopting sync, status says the original still runs beside what the inventory wants: drift, exit 3.
    const statusBefore = await runTask(
      'supervisor-status',
      ['--inventory', sandbox.inventory, '--domain', 'imp.test', '--json'],
      {
        env: { STRIPE_SECRET: 'sk_live_never_printed' },
      },
    )
    assert.is(statusBefore.exitCode, 3, statusBefore.all)
    const stillDefines =
      'imported original /etc/supervisor/conf.d/handmade.conf still defines mailer: supervisor runs both; run supervisor-sync --domain imp.test --adopt'
    const server = JSON.parse(statusBefore.stdout).servers[0]
    const mailer = server.programs.find((p: { program: string }) => p.program === 'mailer')
    assert.ok(mailer.drift.includes(stillDefines), JSON.stringify(mailer.drift))
    const table = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 'imp.test'], {
      env: { STRIPE_SECRET: 'sk_live_never_printed' },
    })
    assert.is(table.exitCode, 3, table.all)
    assert.match(table.stdout, stillDefines)
    const adopted = await sync('--adopt')
    assert.is(adopted.exitCode, 0, adopted.all)
    assert.match(
      adopted.stdout,
      /- \(imported original\) \/etc\/supervisor\/conf\.d\/handmade\.conf .*original kept in \/var\/lib\/zx-supervisor\/adopted\//,
    )
    await fs.access(path.join(one.root, CONF_D, 'handmade.conf')).then(
      () => assert.unreachable('the original is removed'),
      () => undefined,
    )
    const processes = await waitFor('both programs running under our names', async () => {
      const all = await processesOn(one)
      const ours = all.filter((p) => ['imp.test-mailer', 'imp.test-queue'].includes(p.group) && p.state === 'RUNNING')
      return ours.length === 2 ? all : null
    })
    assert.not.ok(
      processes?.some((p) => p.group === 'mailer'),
      'supervisor no longer runs the original',
    )
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 'imp.test'], {
      env: { STRIPE_SECRET: 'sk_live_never_printed' },
    })
    assert.is(status.exitCode, 0, status.all)
  },
)

imp('a second import adds nothing: the inventory stays byte for byte', async ({ sandbox }) => {
  const before = await fs.readFile(sandbox.inventory, 'utf8')
  const run = await importTask(sandbox, '--server', 'sandbox-1')
  assert.is(run.exitCode, 3, run.all)
  assert.not.match(run.stdout, /\bimported imp\.test/)
  assert.is(await fs.readFile(sandbox.inventory, 'utf8'), before)
})

imp('hostile files are listed with a reason, nothing crashes, nothing reaches the inventory', async ({ sandbox }) => {
  const one = sandbox.host('sandbox-1')
  const dir = path.join(one.root, CONF_D)
  const before = await fs.readFile(sandbox.inventory, 'utf8')
  await fs.writeFile(path.join(dir, 'big.conf'), `[program:big]\ncommand=/bin/true\n;${'x'.repeat(2 * 1024 * 1024)}\n`)
  await fs.symlink('/etc/passwd', path.join(dir, 'out.conf'))
  await fs.writeFile(
    path.join(dir, 'long.conf'),
    `${';\n'.repeat(100_000)}[program:long]\ncommand=%(here)s/run\ndirectory=${SITE}/current\n`,
  )
  await fs.writeFile(
    path.join(dir, 'newline.conf'),
    `[program:nl]\ncommand=${SITE}/runner.sh .deployer/supervisors/nl.sh\nnumprocs=1\n  [program:evil]\n`,
  )
  try {
    const run = await importTask(sandbox, '--server', 'sandbox-1', '--write-scripts', sandbox.dir)
    assert.is(run.exitCode, 3, run.all)
    assert.match(run.stdout, /big\.conf: larger than 1 MB/)
    assert.match(run.stdout, /out\.conf: a symlink to \/etc\/passwd, outside the include directory/)
    assert.match(run.stdout, /long\.conf \[program:long\]: command or directory holds a %\(\.\.\.\)s expansion/)
    assert.match(run.stdout, /newline\.conf \[program:nl\]: numprocs/)
    assert.is(await fs.readFile(sandbox.inventory, 'utf8'), before)
  } finally {
    for (const name of ['big.conf', 'out.conf', 'long.conf', 'newline.conf']) await fs.rm(path.join(dir, name))
  }
})

imp('a server that cannot be read is exit 1; the others are still read', async ({ sandbox }) => {
  const text = await editInventory(sandbox.inventory, (doc) => {
    doc.setIn(['servers', 0, 'groups'], ['imp'])
    doc.addIn(['servers'], { name: 'down', host: '127.0.0.1', port: 1, groups: ['imp'] })
  })
  try {
    const run = await importTask(sandbox, '--server', 'imp', '--dry-run', '--timeout', '2')
    assert.is(run.exitCode, 1, run.all)
    assert.match(run.stderr, 'down:')
    assert.match(run.stdout, /sandbox-1\s+not imported/)
  } finally {
    await fs.writeFile(sandbox.inventory, text)
  }
})

imp(
  'exit 0 when everything importable is imported (nothing left listed), the inventory unchanged',
  async ({ sandbox }) => {
    const one = sandbox.host('sandbox-1')
    await fs.rm(path.join(one.root, CONF_D, 'others.conf'))
    const before = await fs.readFile(sandbox.inventory, 'utf8')
    const run = await importTask(sandbox, '--server', 'sandbox-1', '--json')
    assert.is(run.exitCode, 0, run.all)
    const document = JSON.parse(run.stdout) as { ok: boolean; programs: unknown[]; listed: unknown[] }
    assert.equal([document.ok, document.programs, document.listed], [true, [], []])
    assert.is(await fs.readFile(sandbox.inventory, 'utf8'), before)
  },
)

imp(
  'a conf equal to ours but for its marker (an older version, a hand copy): imported, adopted in place, same pid',
  async ({ sandbox }) => {
    const one = sandbox.host('sandbox-1')
    await deployApp(one, 'eq.test', { 'worker.sh': WORKER })
    const site = { program: 'worker', script: 'worker.sh', stopwaitsecs: 2 }
    await editInventory(sandbox.inventory, (doc) => {
      doc.addIn(['sites'], { domain: 'eq.test', server: 'sandbox-1', supervisors: [site] })
    })
    const sync = (...args: string[]) =>
      runTask('supervisor-sync', ['--inventory', sandbox.inventory, '--domain', 'eq.test', ...args])
    const first = await sync()
    assert.is(first.exitCode, 0, first.all)
    const pidOfWorker = async () =>
      (await processesOn(one)).find((p) => p.group === 'eq.test-worker' && p.state === 'RUNNING')?.pid ?? null
    const pid = await waitFor('eq.test-worker running', pidOfWorker)
    // Without its marker line the conf reads as written by someone else, and without the site the inventory
    // knows nothing of it: the server as an operator coming from another tool has it.
    const conf = path.join(one.root, CONF_D, 'eq.test-worker.conf')
    const lines = (await fs.readFile(conf, 'utf8')).split('\n')
    assert.match(lines[0] ?? '', /^; zx-supervisor /)
    await fs.writeFile(conf, lines.slice(1).join('\n'))
    await editInventory(sandbox.inventory, (doc) => {
      const sites = (doc.toJS() as { sites: { domain: string }[] }).sites
      doc.deleteIn(['sites', sites.findIndex((site) => site.domain === 'eq.test')])
    })

    const imported = await importTask(sandbox, '--server', 'sandbox-1')
    assert.is(imported.exitCode, 0, imported.all)
    assert.match(imported.stdout, 'imported eq.test/worker from /etc/supervisor/conf.d/eq.test-worker.conf')
    assert.match(
      await fs.readFile(sandbox.inventory, 'utf8'),
      [
        '  - domain: eq.test',
        '    server: sandbox-1',
        '    supervisors:',
        '      - program: worker',
        '        script: worker.sh',
        '        stopwaitsecs: 2',
      ].join('\n'),
    )
    const adopted = await sync('--adopt')
    assert.is(adopted.exitCode, 0, adopted.all)
    assert.match(adopted.stdout, 'eq.test-worker.conf')
    assert.match((await fs.readFile(conf, 'utf8')).split('\n')[0] ?? '', /^; zx-supervisor /)
    assert.is(await pidOfWorker(), pid, 'supervisor saw no change: the worker kept its pid')
    const status = await runTask('supervisor-status', ['--inventory', sandbox.inventory, '--domain', 'eq.test'])
    assert.is(status.exitCode, 0, status.all)
  },
)

imp.run()
