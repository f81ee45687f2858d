import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs/promises'
import path from 'node:path'
import { YAML } from 'zx'
import { captureOutput } from '../helpers/capture.ts'
import { counted, recordStateCheck } from '../helpers/figure.ts'
import { startSandbox, writeAppDir, WORKER, type TestSandbox } from '../helpers/sandbox.ts'
import type { Task } from '../../lib/cli/run-task.ts'
import { supervisorCreate } from '../../tasks/supervisor-create.mjs'
import { supervisorDelete } from '../../tasks/supervisor-delete.mjs'
import { supervisorSync } from '../../tasks/supervisor-sync.mjs'
import { supervisorStatus } from '../../tasks/supervisor-status.mjs'
import { supervisorStart } from '../../tasks/supervisor-start.mjs'
import { supervisorStop } from '../../tasks/supervisor-stop.mjs'
import { supervisorRestart } from '../../tasks/supervisor-restart.mjs'
import { serverLogs } from '../../tasks/server-logs.mjs'

// The hostile-input corpus: every case goes through a real task (in this process) and must end with exit 2, a
// message naming the field and showing the bad value, the inventory's bytes unchanged, and no connection made to
// the sandbox server the inventory points at (its sshd log does not grow).

interface Case {
  name: string
  task: Task
  /** Flags after --inventory. */
  args: string[]
  /** Changes the inventory before the run: a [path, value] for the YAML document, or the whole text. */
  inventory?: [Array<string | number>, unknown] | ((base: string) => string)
  field: string
  /** Text the message must show for the value (default: the start of its JSON form). */
  shown?: string
}

const TASKS = { create: supervisorCreate, delete: supervisorDelete, sync: supervisorSync, status: supervisorStatus, start: supervisorStart, stop: supervisorStop, restart: supervisorRestart, logs: serverLogs }
const CREATE = ['--domain', 'app.test', '--program', 'w2', '--script', 'other.sh']
const create = (flag: string, value: string): string[] => {
  const args = [...CREATE]
  const at = args.indexOf(flag)
  if (at >= 0) args[at + 1] = value
  else args.push(flag, value)
  return args
}
const program = (key: string, value: unknown): [Array<string | number>, unknown] => [['sites', 0, 'supervisors', 0, key], value]
const site = (key: string, value: unknown): [Array<string | number>, unknown] => [['sites', 0, key], value]
const server = (key: string, value: unknown): [Array<string | number>, unknown] => [['servers', 0, key], value]
const env = (key: string, value: unknown): [Array<string | number>, unknown] => [['sites', 0, 'supervisors', 0, 'environment', key], value]
const EVIL = 'w\n[program:evil]\ncommand=/bin/touch /tmp/zxs-pwned'
const LONG = 'a'.repeat(5000)
const inv = (name: string, inventory: Case['inventory'], field: string, shown?: string): Case => ({ name: `inventory: ${name}`, task: TASKS.sync, args: ['--all'], inventory, field, ...(shown ? { shown } : {}) })

const CASES: Case[] = [
  // supervisor-create flags
  { name: 'create --program with a newline section', task: TASKS.create, args: create('--program', EVIL), field: '--program' },
  { name: 'create --program with a space', task: TASKS.create, args: create('--program', 'my worker'), field: '--program' },
  { name: 'create --program with " ;"', task: TASKS.create, args: create('--program', 'w ;id'), field: '--program' },
  { name: 'create --program with " #"', task: TASKS.create, args: create('--program', 'w #x'), field: '--program' },
  { name: 'create --program with %', task: TASKS.create, args: create('--program', 'w%(ENV_HOME)s'), field: '--program' },
  { name: 'create --program with quotes', task: TASKS.create, args: create('--program', `w'"x`), field: '--program' },
  { name: 'create --program with backticks', task: TASKS.create, args: create('--program', 'w`id`'), field: '--program' },
  { name: 'create --program with $(...)', task: TASKS.create, args: create('--program', '$(touch /tmp/zxs-pwned)'), field: '--program' },
  { name: 'create --program with :', task: TASKS.create, args: create('--program', 'a:b'), field: '--program' },
  { name: 'create --program with /', task: TASKS.create, args: create('--program', 'a/b'), field: '--program' },
  { name: 'create --program with ]', task: TASKS.create, args: create('--program', 'w]'), field: '--program' },
  { name: 'create --program with a unicode look-alike', task: TASKS.create, args: create('--program', 'wоrker'), field: '--program' },
  { name: 'create --program very long', task: TASKS.create, args: create('--program', LONG), field: '--program' },
  { name: 'create --program starting with -', task: TASKS.create, args: create('--program', '-oProxyCommand=id'), field: '--program' },
  { name: 'create --domain with ..', task: TASKS.create, args: create('--domain', '../../etc'), field: '--domain' },
  { name: 'create --domain with a newline', task: TASKS.create, args: create('--domain', 'app.test\nx'), field: '--domain' },
  { name: 'create --script with ..', task: TASKS.create, args: create('--script', '../../../etc/passwd'), field: '--script' },
  { name: 'create --script absolute', task: TASKS.create, args: create('--script', '/bin/sh'), field: '--script' },
  { name: 'create --script with a space and ;', task: TASKS.create, args: create('--script', 'other.sh ;id'), field: '--script' },
  { name: 'create --script with a carriage return', task: TASKS.create, args: create('--script', 'other.sh\r'), field: '--script' },
  { name: 'create --numprocs 0', task: TASKS.create, args: create('--numprocs', '0'), field: '--numprocs', shown: '0' },
  { name: 'create --numprocs abc', task: TASKS.create, args: create('--numprocs', 'abc'), field: '--numprocs' },
  { name: 'create --numprocs -1', task: TASKS.create, args: create('--numprocs', '-1'), field: '--numprocs' },
  { name: 'create --stopwaitsecs 1e3', task: TASKS.create, args: create('--stopwaitsecs', '1e3'), field: '--stopwaitsecs' },
  { name: 'create --stopsignal with a newline', task: TASKS.create, args: create('--stopsignal', 'TERM\n[program:evil]'), field: '--stopsignal' },
  { name: 'create --env value with a newline section', task: TASKS.create, args: [...CREATE, '--env', `A=${EVIL}`], field: '--env A' },
  { name: 'create --env value with NUL', task: TASKS.create, args: [...CREATE, '--env', 'A=x\u0000y'], field: '--env A' },
  { name: 'create --env value with " ;"', task: TASKS.create, args: [...CREATE, '--env', 'A=x ;y'], field: '--env A' },
  { name: 'create --env value with both quotes', task: TASKS.create, args: [...CREATE, '--env', `A=it's "x"`], field: '--env A' },
  { name: 'create --env key with $', task: TASKS.create, args: [...CREATE, '--env', 'A$B=1'], field: '--env' },
  { name: 'create --user with a newline', task: TASKS.create, args: create('--user', 'deployer\nroot'), field: '--user' },
  { name: 'create --template with ..', task: TASKS.create, args: create('--template', '../../etc/passwd'), field: '--template' },
  { name: 'create --priority abc', task: TASKS.create, args: create('--priority', 'abc'), field: '--priority' },
  // supervisor-delete flags
  { name: 'delete --program with $(...)', task: TASKS.delete, args: ['--domain', 'app.test', '--program', '$(id)', '--yes'], field: '--program' },
  { name: 'delete --domain with a newline', task: TASKS.delete, args: ['--domain', 'app.test\n', '--program', 'worker', '--yes'], field: '--domain' },
  { name: 'delete without --yes and no terminal', task: TASKS.delete, args: ['--domain', 'app.test', '--program', 'worker'], field: '--yes', shown: 'nothing' },
  // supervisor-sync / status / start / stop / restart flags
  { name: 'sync --server with ;', task: TASKS.sync, args: ['--server', 'web-1;id'], field: '--server' },
  { name: 'sync --domain with a space', task: TASKS.sync, args: ['--domain', 'app test'], field: '--domain' },
  { name: 'sync --timeout abc', task: TASKS.sync, args: ['--all', '--timeout', 'abc'], field: '--timeout' },
  { name: 'sync --lock-wait -1', task: TASKS.sync, args: ['--all', '--lock-wait', '-1'], field: '--lock-wait' },
  { name: 'sync without a scope', task: TASKS.sync, args: [], field: '--domain', shown: 'nothing' },
  { name: 'status --server with ..', task: TASKS.status, args: ['--server', '../web-1'], field: '--server' },
  { name: 'start --server unknown group', task: TASKS.start, args: ['--server', 'nogroup'], field: '--server' },
  { name: 'stop --program with a newline', task: TASKS.stop, args: ['--domain', 'app.test', '--program', 'worker\nall'], field: '--program' },
  { name: 'restart --program all', task: TASKS.restart, args: ['--domain', 'app.test', '--program', 'all'], field: '--program' },
  { name: 'restart with an unknown flag', task: TASKS.restart, args: ['--domain', 'app.test', '--programme', 'x'], field: '--programme', shown: '"--programme"' },
  // server-logs flags
  { name: 'logs --lines 0', task: TASKS.logs, args: ['--server', 'web-1', '--service', 'supervisor', '--lines', '0'], field: '--lines', shown: '0' },
  { name: 'logs --lines 1001', task: TASKS.logs, args: ['--server', 'web-1', '--service', 'supervisor', '--lines', '1001'], field: '--lines', shown: '1001' },
  { name: 'logs --lines abc', task: TASKS.logs, args: ['--server', 'web-1', '--service', 'supervisor', '--lines', 'abc'], field: '--lines' },
  { name: 'logs --service with $(...)', task: TASKS.logs, args: ['--server', 'web-1', '--service', 'supervisor:app.test/$(id)'], field: '--service' },
  { name: 'logs --service with a path escape', task: TASKS.logs, args: ['--server', 'web-1', '--service', 'supervisor:../../etc/shadow'], field: '--service' },
  { name: 'logs --server with ;', task: TASKS.logs, args: ['--server', 'web-1;id', '--service', 'supervisor'], field: '--server' },
  { name: 'logs --site with ..', task: TASKS.logs, args: ['--server', 'web-1', '--site', '../app.test', '--service', 'all-supervisors'], field: '--site' },
  // the inventory file
  inv('server name with a space', server('name', 'web 1'), 'servers[0].name'),
  inv('server name starting with -', server('name', '-oProxyCommand=id'), 'servers[0].name'),
  inv('host with ;', server('host', '127.0.0.1; touch /tmp/zxs-pwned'), 'servers[0].host'),
  inv('host that is an ssh option', server('host', '-oProxyCommand=touch /tmp/zxs-pwned'), 'servers[0].host'),
  inv('host with $(...)', server('host', '$(id)'), 'servers[0].host'),
  inv('port out of range', server('port', 70000), 'servers[0].port', '70000'),
  inv('port with ;', server('port', '22; id'), 'servers[0].port'),
  inv('username with a newline', server('username', 'root\nx'), 'servers[0].username'),
  inv('username with backticks', server('username', '`id`'), 'servers[0].username'),
  inv('groups not a list', server('groups', 'web'), 'servers[0].groups'),
  inv('knownHostsFile with a newline', server('knownHostsFile', '/tmp/k\nProxyCommand id'), 'servers[0].knownHostsFile'),
  inv('domain with a newline section', site('domain', 'app.test\n[program:evil]'), 'sites[0].domain'),
  inv('domain with a space', site('domain', 'app test'), 'sites[0].domain'),
  inv('domain with ..', site('domain', '../etc'), 'sites[0].domain'),
  inv('domain with a Cyrillic look-alike', site('domain', 'аpp.test'), 'sites[0].domain'),
  inv('domain with :', site('domain', 'app:test'), 'sites[0].domain'),
  inv('domain with /', site('domain', 'app/test'), 'sites[0].domain'),
  inv('domain very long', site('domain', `${'a'.repeat(70)}.test`), 'sites[0].domain'),
  inv('site on an unknown server', site('server', 'nope'), 'sites[0].server'),
  inv('site root with ..', site('root', '/home/deployer/../../etc'), 'sites[0].root'),
  inv('site root relative', site('root', 'sites/app'), 'sites[0].root'),
  inv('site user with ;', site('user', 'root;id'), 'sites[0].user'),
  inv('php_version as a number', site('php_version', 8.3), 'sites[0].php_version', '8.3'),
  inv('program with a newline section', program('program', EVIL), 'sites[0].supervisors[0].program'),
  inv('program with " ;"', program('program', 'w ;x'), 'sites[0].supervisors[0].program'),
  inv('program with %', program('program', 'w%'), 'sites[0].supervisors[0].program'),
  inv('program with ]', program('program', 'w]'), 'sites[0].supervisors[0].program'),
  inv('program as a number', program('program', 123), 'sites[0].supervisors[0].program', '123'),
  inv('script with ..', program('script', '../../../etc/passwd'), 'sites[0].supervisors[0].script'),
  inv('script absolute', program('script', '/bin/sh'), 'sites[0].supervisors[0].script'),
  inv('script with a space', program('script', 'a b.sh'), 'sites[0].supervisors[0].script'),
  inv('script with NUL', program('script', 'x\u0000.sh'), 'sites[0].supervisors[0].script'),
  inv('numprocs 0', program('numprocs', 0), 'sites[0].supervisors[0].numprocs', '0'),
  inv('numprocs as a string', program('numprocs', '2'), 'sites[0].supervisors[0].numprocs'),
  inv('numprocs as a float', program('numprocs', 1.5), 'sites[0].supervisors[0].numprocs', '1.5'),
  inv('numprocs as a list', program('numprocs', [1]), 'sites[0].supervisors[0].numprocs', '[1]'),
  inv('stopwaitsecs with ;', program('stopwaitsecs', '3600; id'), 'sites[0].supervisors[0].stopwaitsecs'),
  inv('autostart as a string', program('autostart', 'yes'), 'sites[0].supervisors[0].autostart'),
  inv('autorestart unknown word', program('autorestart', 'sometimes'), 'sites[0].supervisors[0].autorestart'),
  inv('stopsignal with a newline', program('stopsignal', 'TERM\n[program:evil]'), 'sites[0].supervisors[0].stopsignal'),
  inv('environment not a map', program('environment', 'A=1'), 'sites[0].supervisors[0].environment'),
  inv('environment value with a newline section', env('A', EVIL), 'sites[0].supervisors[0].environment.A'),
  inv('environment value with " ;"', env('A', 'x ;y'), 'sites[0].supervisors[0].environment.A'),
  inv('environment value with " #"', env('A', 'x #y'), 'sites[0].supervisors[0].environment.A'),
  inv('environment value with both quotes', env('A', `it's "x"`), 'sites[0].supervisors[0].environment.A'),
  inv('environment value wrapped in quotes', env('A', '"x"'), 'sites[0].supervisors[0].environment.A'),
  inv('environment value with a tab', env('A', 'x\ty'), 'sites[0].supervisors[0].environment.A'),
  inv('environment value with a carriage return', env('A', 'x\ry'), 'sites[0].supervisors[0].environment.A'),
  inv('environment key with a space', env('A B', 'x'), 'sites[0].supervisors[0].environment', '"A B"'),
  inv('environment key reserved', env('DEPLOYER_DOMAIN', 'x'), 'sites[0].supervisors[0].environment', 'DEPLOYER_DOMAIN'),
  inv('template with ..', program('template', '../../etc/passwd'), 'sites[0].supervisors[0].template'),
  inv('program user with a space', program('user', 'no body'), 'sites[0].supervisors[0].user'),
  inv('duplicate program names', (base) => base.replace('        script: worker.sh\n', '        script: worker.sh\n      - program: worker\n        script: other.sh\n'), 'sites[0].supervisors[1].program', '"worker"'),
  inv('duplicate YAML keys', (base) => base.replace('    port: 22\n', '    port: 22\n    port: 23\n'), 'inventory.yml:', 'port'),
  inv('empty file', () => '', 'inventory.yml', 'empty'),
  inv('comment-only file', () => '# nothing here\n# at all\n', 'inventory.yml', 'empty'),
  inv('top level is a list', () => '- servers\n- sites\n', 'inventory.yml', 'map'),
  inv('servers is a string', (base) => base.replace(/servers:\n[\s\S]*?sites:/, 'servers: web-1\nsites:'), 'servers', '"web-1"'),
  inv('supervisors is a map', (base) => base.replace(/    supervisors:\n[\s\S]*$/, '    supervisors:\n      program: worker\n      script: worker.sh\n'), 'sites[0].supervisors', 'list'),
  inv('broken YAML syntax', (base) => base.replace('    port: 22\n', '    port: "22\n'), 'inventory.yml:', 'YAML'),
]

const corpus = suite<{ sandbox: TestSandbox; base: string; app: string; sshdLog: string }>(`hostile input corpus (${CASES.length} cases)`)

corpus.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER, 'other.sh': WORKER })
  const document = YAML.parseDocument(await fs.readFile(context.sandbox.inventory, 'utf8'))
  document.setIn(['servers', 0, 'name'], 'web-1')
  document.setIn(['servers', 0, 'groups'], document.createNode(['web']))
  document.set('sites', document.createNode([{ domain: 'app.test', server: 'web-1', supervisors: [{ program: 'worker', script: 'worker.sh' }] }]))
  context.base = document.toString()
  context.sshdLog = path.join(context.sandbox.host('sandbox-1').root, 'var/log/sshd.log')
})

corpus.after(async ({ sandbox }) => {
  await sandbox?.down()
})

for (const c of CASES) {
  corpus(c.name, counted(c.name, async ({ sandbox, base, app, sshdLog }) => {
    let text = base
    if (typeof c.inventory === 'function') text = c.inventory(base)
    else if (c.inventory) {
      const document = YAML.parseDocument(base)
      document.setIn(c.inventory[0], c.inventory[1])
      text = document.toString()
    }
    await fs.writeFile(sandbox.inventory, text)
    const sshdBefore = (await fs.stat(sshdLog)).size
    const captured = captureOutput()
    const extra = c.task === TASKS.create ? ['--app-dir', app] : []
    const code = await c.task.run(['--inventory', sandbox.inventory, ...extra, ...c.args], { output: captured.output })
    const message = captured.stderr()
    assert.is(code, 2, `exit code (stderr: ${message}${captured.stdout()})`)
    assert.ok(message.includes(c.field), `the message names ${c.field}: ${message}`)
    const shown = c.shown ?? JSON.stringify(c.args.length && !c.inventory ? valueOf(c) : (c.inventory as [unknown, unknown])[1]).slice(0, 20)
    assert.ok(message.includes(shown), `the message shows the value ${shown}: ${message}`)
    const untouched = (await fs.readFile(sandbox.inventory, 'utf8')) === text && (await fs.stat(sshdLog)).size === sshdBefore
    recordStateCheck(`${c.name}: inventory bytes unchanged, no connection`, untouched)
    assert.is(await fs.readFile(sandbox.inventory, 'utf8'), text, 'inventory bytes unchanged')
    assert.is((await fs.stat(sshdLog)).size, sshdBefore, 'no connection reached the server (its sshd log did not grow)')
    await assert.not.ok(await fs.stat('/tmp/zxs-pwned').catch(() => null), 'nothing smuggled in ran')
  }))
}

corpus('control: the same run with the valid inventory does connect (so the sshd-log check can see a connection)', async ({ sandbox, base, sshdLog }) => {
  await fs.writeFile(sandbox.inventory, base)
  const sshdBefore = (await fs.stat(sshdLog)).size
  const captured = captureOutput()
  const code = await supervisorStatus.run(['--inventory', sandbox.inventory], { output: captured.output })
  assert.is(code, 3, captured.stderr() + captured.stdout())
  assert.ok((await fs.stat(sshdLog)).size > sshdBefore, 'sshd logged the connection')
})

/** The hostile value of a flag case: the value right after the field's flag, or the last argument. */
function valueOf(c: Case): string {
  const flag = c.field.split(' ')[0] as string
  const at = c.args.lastIndexOf(flag)
  const value = at >= 0 ? (c.args[at + 1] ?? '') : (c.args.at(-1) ?? '')
  return c.field.startsWith('--env ') ? value.slice(value.indexOf('=') + 1) : c.field === '--env' ? value.slice(0, value.indexOf('=')) : value
}

corpus.run()
