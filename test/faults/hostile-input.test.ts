import fs from 'node:fs/promises'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { YAML } from 'zx'
import type { Task } from '../../lib/cli/run-task.ts'
import { serverLogs } from '../../tasks/server-logs.mjs'
import { supervisorCreate } from '../../tasks/supervisor-create.mjs'
import { supervisorDelete } from '../../tasks/supervisor-delete.mjs'
import { supervisorRestart } from '../../tasks/supervisor-restart.mjs'
import { supervisorStart } from '../../tasks/supervisor-start.mjs'
import { supervisorStatus } from '../../tasks/supervisor-status.mjs'
import { supervisorStop } from '../../tasks/supervisor-stop.mjs'
import { supervisorSync } from '../../tasks/supervisor-sync.mjs'
import { captureOutput } from '../helpers/capture.ts'
import { counted, recordStateCheck } from '../helpers/figure.ts'
import { PROJECT } from '../helpers/run-task.ts'
import { startSandbox, type TestSandbox, WORKER, writeAppDir } from '../helpers/sandbox.ts'

// The hostile-input corpus: every case goes through a real task (in this process) and must end with exit 2, a
// message naming the field and showing the bad value, the inventory's bytes unchanged, and no connection made to
// the sandbox server the inventory points at (its sshd log does not grow). An environment value is the exception:
// it may be a secret, so neither stderr nor --json may show it, only its `[REDACTED xxxxxxxx]` fingerprint.

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
  /** An environment value: this text must appear in no output, --json included; its fingerprint is shown instead. */
  secret?: string
  /** More text the message must contain (e.g. the limit a value breaks). */
  mentions?: string
  /** Site templates written under templates/sites/app.test/ for this case only (path → content). */
  templates?: Record<string, string>
}

const TASKS = {
  create: supervisorCreate,
  delete: supervisorDelete,
  sync: supervisorSync,
  status: supervisorStatus,
  start: supervisorStart,
  stop: supervisorStop,
  restart: supervisorRestart,
  logs: serverLogs,
}
const CREATE = ['--domain', 'app.test', '--program', 'w2', '--script', 'other.sh']
const create = (flag: string, value: string): string[] => {
  const args = [...CREATE]
  const at = args.indexOf(flag)
  if (at >= 0) args[at + 1] = value
  else args.push(flag, value)
  return args
}
const program = (key: string, value: unknown): [Array<string | number>, unknown] => [
  ['sites', 0, 'supervisors', 0, key],
  value,
]
const site = (key: string, value: unknown): [Array<string | number>, unknown] => [['sites', 0, key], value]
const server = (key: string, value: unknown): [Array<string | number>, unknown] => [['servers', 0, key], value]
const env = (key: string, value: unknown): [Array<string | number>, unknown] => [
  ['sites', 0, 'supervisors', 0, 'environment', key],
  value,
]
const EVIL = 'w\n[program:evil]\ncommand=/bin/touch /tmp/zxs-pwned'
const LONG = 'a'.repeat(5000)
const inv = (name: string, inventory: Case['inventory'], field: string, shown?: string): Case => ({
  name: `inventory: ${name}`,
  task: TASKS.sync,
  args: ['--all'],
  inventory,
  field,
  ...(shown ? { shown } : {}),
})
const FINGERPRINT = '[REDACTED '
/** A refused environment value: shown only as its fingerprint. */
const secret = (c: Case, value: string): Case => ({ ...c, shown: FINGERPRINT, secret: value })
const envInv = (name: string, key: string, value: string, mentions?: string): Case =>
  secret(
    { ...inv(name, env(key, value), `sites[0].supervisors[0].environment.${key}`), ...(mentions ? { mentions } : {}) },
    value,
  )
const envCreate = (name: string, value: string, mentions?: string): Case =>
  secret(
    {
      name,
      task: TASKS.create,
      args: [...CREATE, '--env', `DB_PASSWORD=${value}`],
      field: '--env DB_PASSWORD',
      ...(mentions ? { mentions } : {}),
    },
    value,
  )

const CASES: Case[] = [
  // supervisor-create flags
  {
    name: 'create --program with a newline section',
    task: TASKS.create,
    args: create('--program', EVIL),
    field: '--program',
  },
  {
    name: 'create --program with a space',
    task: TASKS.create,
    args: create('--program', 'my worker'),
    field: '--program',
  },
  { name: 'create --program with " ;"', task: TASKS.create, args: create('--program', 'w ;id'), field: '--program' },
  { name: 'create --program with " #"', task: TASKS.create, args: create('--program', 'w #x'), field: '--program' },
  {
    name: 'create --program with %',
    task: TASKS.create,
    args: create('--program', 'w%(ENV_HOME)s'),
    field: '--program',
  },
  { name: 'create --program with quotes', task: TASKS.create, args: create('--program', `w'"x`), field: '--program' },
  {
    name: 'create --program with backticks',
    task: TASKS.create,
    args: create('--program', 'w`id`'),
    field: '--program',
  },
  {
    name: 'create --program with $(...)',
    task: TASKS.create,
    args: create('--program', '$(touch /tmp/zxs-pwned)'),
    field: '--program',
  },
  { name: 'create --program with :', task: TASKS.create, args: create('--program', 'a:b'), field: '--program' },
  { name: 'create --program with /', task: TASKS.create, args: create('--program', 'a/b'), field: '--program' },
  { name: 'create --program with ]', task: TASKS.create, args: create('--program', 'w]'), field: '--program' },
  {
    name: 'create --program with a unicode look-alike',
    task: TASKS.create,
    args: create('--program', 'wоrker'),
    field: '--program',
  },
  { name: 'create --program very long', task: TASKS.create, args: create('--program', LONG), field: '--program' },
  {
    name: 'create --program starting with -',
    task: TASKS.create,
    args: create('--program', '-oProxyCommand=id'),
    field: '--program',
  },
  { name: 'create --domain with ..', task: TASKS.create, args: create('--domain', '../../etc'), field: '--domain' },
  {
    name: 'create --domain with a newline',
    task: TASKS.create,
    args: create('--domain', 'app.test\nx'),
    field: '--domain',
  },
  {
    name: 'create --script with ..',
    task: TASKS.create,
    args: create('--script', '../../../etc/passwd'),
    field: '--script',
  },
  { name: 'create --script absolute', task: TASKS.create, args: create('--script', '/bin/sh'), field: '--script' },
  {
    name: 'create --script with a space and ;',
    task: TASKS.create,
    args: create('--script', 'other.sh ;id'),
    field: '--script',
  },
  {
    name: 'create --script with a carriage return',
    task: TASKS.create,
    args: create('--script', 'other.sh\r'),
    field: '--script',
  },
  { name: 'create --numprocs 0', task: TASKS.create, args: create('--numprocs', '0'), field: '--numprocs', shown: '0' },
  { name: 'create --numprocs abc', task: TASKS.create, args: create('--numprocs', 'abc'), field: '--numprocs' },
  { name: 'create --numprocs -1', task: TASKS.create, args: create('--numprocs', '-1'), field: '--numprocs' },
  {
    name: 'create --stopwaitsecs 1e3',
    task: TASKS.create,
    args: create('--stopwaitsecs', '1e3'),
    field: '--stopwaitsecs',
  },
  {
    name: 'create --stopsignal with a newline',
    task: TASKS.create,
    args: create('--stopsignal', 'TERM\n[program:evil]'),
    field: '--stopsignal',
  },
  envCreate('create --env value with a newline section', EVIL),
  envCreate('create --env value with NUL', 's3cr3t\u0000y'),
  envCreate('create --env value with " ;"', 's3cr3t ;y'),
  envCreate('create --env value with both quotes', `s3cr3t's "x"`),
  envCreate('create --env value of 10 kB', `s3cr3t${'x'.repeat(10_000)}`, '8192 characters at most'),
  {
    name: 'create --env value without its key',
    task: TASKS.create,
    args: [...CREATE, '--env', '=s3cr3t'],
    field: '--env',
    shown: FINGERPRINT,
    secret: 's3cr3t',
  },
  { name: 'create --env key with $', task: TASKS.create, args: [...CREATE, '--env', 'A$B=1'], field: '--env' },
  {
    name: 'create --env key HOME (it follows --user)',
    task: TASKS.create,
    args: [...CREATE, '--env', 'HOME=/srv'],
    field: '--env',
    shown: 'HOME',
  },
  {
    name: 'create --env key USER',
    task: TASKS.create,
    args: [...CREATE, '--env', 'USER=x'],
    field: '--env',
    shown: 'USER',
  },
  {
    name: 'create --env key DEPLOYER_X',
    task: TASKS.create,
    args: [...CREATE, '--env', 'DEPLOYER_X=1'],
    field: '--env',
    shown: 'DEPLOYER_X',
  },
  {
    name: 'create --stopsignal outside the list',
    task: TASKS.create,
    args: create('--stopsignal', 'STOP'),
    field: '--stopsignal',
  },
  {
    name: 'create --stopsignal as a number',
    task: TASKS.create,
    args: create('--stopsignal', '15'),
    field: '--stopsignal',
  },
  { name: 'create --user in mixed case', task: TASKS.create, args: create('--user', 'Deployer'), field: '--user' },
  {
    name: 'create --user with a newline',
    task: TASKS.create,
    args: create('--user', 'deployer\nroot'),
    field: '--user',
  },
  {
    name: 'create --template with ..',
    task: TASKS.create,
    args: create('--template', '../../etc/passwd'),
    field: '--template',
  },
  { name: 'create --priority abc', task: TASKS.create, args: create('--priority', 'abc'), field: '--priority' },
  // supervisor-delete flags
  {
    name: 'delete --program with $(...)',
    task: TASKS.delete,
    args: ['--domain', 'app.test', '--program', '$(id)', '--yes'],
    field: '--program',
  },
  {
    name: 'delete --domain with a newline',
    task: TASKS.delete,
    args: ['--domain', 'app.test\n', '--program', 'worker', '--yes'],
    field: '--domain',
  },
  {
    name: 'delete without --yes and no terminal',
    task: TASKS.delete,
    args: ['--domain', 'app.test', '--program', 'worker'],
    field: '--yes',
    shown: 'nothing',
  },
  // supervisor-sync / status / start / stop / restart flags
  { name: 'sync --server with ;', task: TASKS.sync, args: ['--server', 'web-1;id'], field: '--server' },
  { name: 'sync --domain with a space', task: TASKS.sync, args: ['--domain', 'app test'], field: '--domain' },
  { name: 'sync --timeout abc', task: TASKS.sync, args: ['--all', '--timeout', 'abc'], field: '--timeout' },
  { name: 'sync --lock-wait -1', task: TASKS.sync, args: ['--all', '--lock-wait', '-1'], field: '--lock-wait' },
  { name: 'sync without a scope', task: TASKS.sync, args: [], field: '--domain', shown: 'nothing' },
  { name: 'status --server with ..', task: TASKS.status, args: ['--server', '../web-1'], field: '--server' },
  { name: 'start --server unknown group', task: TASKS.start, args: ['--server', 'nogroup'], field: '--server' },
  {
    name: 'stop --program with a newline',
    task: TASKS.stop,
    args: ['--domain', 'app.test', '--program', 'worker\nall'],
    field: '--program',
  },
  {
    name: 'restart --program all',
    task: TASKS.restart,
    args: ['--domain', 'app.test', '--program', 'all'],
    field: '--program',
  },
  {
    name: 'restart with an unknown flag',
    task: TASKS.restart,
    args: ['--domain', 'app.test', '--programme', 'x'],
    field: '--programme',
    shown: '"--programme"',
  },
  // server-logs flags
  {
    name: 'logs --lines 0',
    task: TASKS.logs,
    args: ['--server', 'web-1', '--service', 'supervisor', '--lines', '0'],
    field: '--lines',
    shown: '0',
  },
  {
    name: 'logs --lines 1001',
    task: TASKS.logs,
    args: ['--server', 'web-1', '--service', 'supervisor', '--lines', '1001'],
    field: '--lines',
    shown: '1001',
  },
  {
    name: 'logs --lines abc',
    task: TASKS.logs,
    args: ['--server', 'web-1', '--service', 'supervisor', '--lines', 'abc'],
    field: '--lines',
  },
  {
    name: 'logs --service with $(...)',
    task: TASKS.logs,
    args: ['--server', 'web-1', '--service', 'supervisor:app.test/$(id)'],
    field: '--service',
  },
  {
    name: 'logs --service with a path escape',
    task: TASKS.logs,
    args: ['--server', 'web-1', '--service', 'supervisor:../../etc/shadow'],
    field: '--service',
  },
  {
    name: 'logs --server with ;',
    task: TASKS.logs,
    args: ['--server', 'web-1;id', '--service', 'supervisor'],
    field: '--server',
  },
  {
    name: 'logs --site with ..',
    task: TASKS.logs,
    args: ['--server', 'web-1', '--site', '../app.test', '--service', 'all-supervisors'],
    field: '--site',
  },
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
  inv(
    'knownHostsFile with a newline',
    server('knownHostsFile', '/tmp/k\nProxyCommand id'),
    'servers[0].knownHostsFile',
  ),
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
  envInv('environment value with a newline section', 'A', EVIL),
  envInv('environment value with " ;"', 'DB_PASSWORD', 's3cr3t ;y'),
  envInv('environment value with " #"', 'DB_PASSWORD', 's3cr3t #y'),
  envInv('environment value with both quotes', 'DB_PASSWORD', `s3cr3t's "x"`),
  envInv('environment value wrapped in quotes', 'DB_PASSWORD', '"s3cr3t"'),
  envInv('environment value with a tab', 'DB_PASSWORD', 's3cr3t\ty'),
  envInv('environment value with a carriage return', 'DB_PASSWORD', 's3cr3t\ry'),
  envInv('environment value with %(here)s', 'DB_PASSWORD', 's3cr3t%(here)s'),
  envInv('environment value of 10 kB', 'DB_PASSWORD', `s3cr3t${'x'.repeat(10_000)}`, '8192 characters at most'),
  secret(
    {
      ...inv(
        'environment value refused by status',
        env('DB_PASSWORD', 's3cr3t ;y'),
        'sites[0].supervisors[0].environment.DB_PASSWORD',
      ),
      name: 'status: environment value with " ;"',
      task: TASKS.status,
      args: [],
    },
    's3cr3t ;y',
  ),
  inv('environment key with a space', env('A B', 'x'), 'sites[0].supervisors[0].environment', '"A B"'),
  // { from_env: VAR } references: what sits in a refused one may be a secret pasted in the wrong place.
  secret(
    inv(
      'environment reference with a bad variable name',
      env('STRIPE_SECRET', { from_env: 'STRIPE-SECRET' }),
      'sites[0].supervisors[0].environment.STRIPE_SECRET.from_env',
    ),
    'STRIPE-SECRET',
  ),
  secret(
    inv(
      'environment reference holding a pasted secret',
      env('STRIPE_SECRET', { from_env: 'sk live s3cr3t' }),
      'sites[0].supervisors[0].environment.STRIPE_SECRET.from_env',
    ),
    'sk live s3cr3t',
  ),
  secret(
    inv(
      'environment reference with another key beside from_env',
      env('STRIPE_SECRET', { from_env: 'STRIPE_SECRET', default: 's3cr3t-default' }),
      'sites[0].supervisors[0].environment.STRIPE_SECRET',
    ),
    's3cr3t-default',
  ),
  secret(
    inv(
      'environment reference to a list',
      env('STRIPE_SECRET', { from_env: ['s3cr3t-in-a-list'] }),
      'sites[0].supervisors[0].environment.STRIPE_SECRET.from_env',
    ),
    's3cr3t-in-a-list',
  ),
  inv(
    'environment reference to an unset variable (sync)',
    env('STRIPE_SECRET', { from_env: 'ZXS_TEST_UNSET_SECRET' }),
    'sites[0].supervisors[0].environment.STRIPE_SECRET',
    'ZXS_TEST_UNSET_SECRET',
  ),
  secret(
    {
      name: 'create --env-from-env with a bad variable name',
      task: TASKS.create,
      args: [...CREATE, '--env-from-env', 'STRIPE_SECRET=s3cr3t-value!'],
      field: '--env-from-env STRIPE_SECRET',
    },
    's3cr3t-value!',
  ),
  {
    name: 'create --env-from-env key DEPLOYER_X',
    task: TASKS.create,
    args: [...CREATE, '--env-from-env', 'DEPLOYER_X'],
    field: '--env-from-env',
    shown: 'DEPLOYER_X',
  },
  inv(
    'environment key reserved',
    env('DEPLOYER_DOMAIN', 'x'),
    'sites[0].supervisors[0].environment',
    'DEPLOYER_DOMAIN',
  ),
  inv('environment key HOME (it follows user:)', env('HOME', '/srv'), 'sites[0].supervisors[0].environment', 'HOME'),
  inv('environment key USER', env('USER', 'x'), 'sites[0].supervisors[0].environment', 'USER'),
  inv('stopsignal outside the list', program('stopsignal', 'STOP'), 'sites[0].supervisors[0].stopsignal'),
  inv('stopsignal as a number', program('stopsignal', 15), 'sites[0].supervisors[0].stopsignal', '15'),
  inv('program user in mixed case', program('user', 'Deployer'), 'sites[0].supervisors[0].user'),
  inv('php_version without minor', site('php_version', '8'), 'sites[0].php_version'),
  inv('branch with both quote kinds', site('branch', `it's"x`), 'sites[0].branch'),
  inv('template with ..', program('template', '../../etc/passwd'), 'sites[0].supervisors[0].template'),
  inv('program user with a space', program('user', 'no body'), 'sites[0].supervisors[0].user'),
  inv(
    'duplicate program names',
    (base) =>
      base.replace(
        '        script: worker.sh\n',
        '        script: worker.sh\n      - program: worker\n        script: other.sh\n',
      ),
    'sites[0].supervisors[1].program',
    '"worker"',
  ),
  inv(
    'duplicate YAML keys',
    (base) => base.replace('    port: 22\n', '    port: 22\n    port: 23\n'),
    'inventory.yml:',
    'port',
  ),
  inv('empty file', () => '', 'inventory.yml', 'empty'),
  inv('comment-only file', () => '# nothing here\n# at all\n', 'inventory.yml', 'empty'),
  inv('top level is a list', () => '- servers\n- sites\n', 'inventory.yml', 'map'),
  inv(
    'servers is a string',
    (base) => base.replace(/servers:\n[\s\S]*?sites:/, 'servers: web-1\nsites:'),
    'servers',
    '"web-1"',
  ),
  inv(
    'supervisors is a map',
    (base) =>
      base.replace(/    supervisors:\n[\s\S]*$/, '    supervisors:\n      program: worker\n      script: worker.sh\n'),
    'sites[0].supervisors',
    'list',
  ),
  inv('broken YAML syntax', (base) => base.replace('    port: 22\n', '    port: "22\n'), 'inventory.yml:', 'YAML'),
  // supervisor: overrides for a non-standard install.
  inv(
    'supervisor.config with ..',
    [['servers', 0, 'supervisor'], { config: '/etc/../tmp/evil.conf' }],
    'servers[0].supervisor.config',
    '/etc/../tmp/evil.conf',
  ),
  inv(
    'supervisor.config relative',
    [['servers', 0, 'supervisor'], { config: 'supervisord.conf' }],
    'servers[0].supervisor.config',
    'supervisord.conf',
  ),
  inv(
    'supervisor.include_dir with a newline',
    [['servers', 0, 'supervisor'], { include_dir: '/etc/supervisord.d\n[include]' }],
    'servers[0].supervisor.include_dir',
    '"/etc/supervisord.d\\n[include]"',
  ),
  inv(
    'supervisor.serverurl not a socket or http URL',
    [['servers', 0, 'supervisor'], { serverurl: 'ftp://x' }],
    'servers[0].supervisor.serverurl',
    'ftp://x',
  ),
  inv(
    'supervisor.serverurl with a space',
    [['servers', 0, 'supervisor'], { serverurl: 'unix:///run/a b.sock' }],
    'servers[0].supervisor.serverurl',
    'the space at position 14',
  ),
  inv(
    'supervisor as a string',
    [['servers', 0, 'supervisor'], '/etc/supervisord.conf'],
    'servers[0].supervisor',
    '/etc/supervisord.conf',
  ),
  // Two entries that would write the same files on a server.
  inv(
    'two programs with the same <domain>-<program> name',
    (base) =>
      `${base.trimEnd()}\n  - domain: app.test-b\n    server: web-1\n    supervisors:\n      - program: worker2\n        script: worker.sh\n`.replace(
        '      - program: worker\n',
        '      - program: worker\n        script: other.sh\n      - program: b-worker2\n',
      ),
    'sites[1].supervisors[0].program',
    '"worker2"',
  ),
  inv(
    'two sites sharing a root on one server',
    (base) => `${base.trimEnd()}\n  - domain: app2.test\n    server: web-1\n    root: /home/deployer/sites/app.test\n`,
    'sites[1].root',
    '/home/deployer/sites/app.test',
  ),
  // A site template that renders anything but its own [program:<full name>] section.
  ...(
    [
      ['another program', '[program:evil]\ncommand=/bin/true\n'],
      ["another site's program", '[program:app.test-b-worker]\ncommand=/bin/true\n'],
      ['a second section', '[program:{{fullName}}]\ncommand=/bin/true\n[group:g]\nprograms={{fullName}}\n'],
      ['an eventlistener', '[program:{{fullName}}]\ncommand=/bin/true\n[eventlistener:x]\ncommand=/bin/true\n'],
      ['an include', '[program:{{fullName}}]\ncommand=/bin/true\n[include]\nfiles=/tmp/*.conf\n'],
      ['no section at all', 'command=/bin/true\n'],
    ] as const
  ).map(
    ([what, content]): Case => ({
      ...inv(
        `site template renders ${what}`,
        program('template', 'evil'),
        'sites/app.test/supervisor/evil.hbs',
        'exactly one section header',
      ),
      templates: { 'supervisor/evil.hbs': content },
    }),
  ),
]

const corpus = suite<{ sandbox: TestSandbox; base: string; app: string; sshdLog: string }>(
  `hostile input corpus (${CASES.length} cases)`,
)

corpus.before(async (context) => {
  context.sandbox = await startSandbox(1)
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER, 'other.sh': WORKER })
  const document = YAML.parseDocument(await fs.readFile(context.sandbox.inventory, 'utf8'))
  document.setIn(['servers', 0, 'name'], 'web-1')
  document.setIn(['servers', 0, 'groups'], document.createNode(['web']))
  document.set(
    'sites',
    document.createNode([
      { domain: 'app.test', server: 'web-1', supervisors: [{ program: 'worker', script: 'worker.sh' }] },
    ]),
  )
  context.base = document.toString()
  context.sshdLog = path.join(context.sandbox.host('sandbox-1').root, 'var/log/sshd.log')
})

corpus.after(async ({ sandbox }) => {
  await sandbox?.down()
})

for (const c of CASES) {
  corpus(
    c.name,
    counted(c.name, async ({ sandbox, base, app, sshdLog }) => {
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
      const code = await withSiteTemplates(c.templates, () =>
        c.task.run(['--inventory', sandbox.inventory, ...extra, ...c.args], { output: captured.output }),
      )
      const message = captured.stderr()
      assert.is(code, 2, `exit code (stderr: ${message}${captured.stdout()})`)
      assert.ok(message.includes(c.field), `the message names ${c.field}: ${message}`)
      const shown =
        c.shown ??
        JSON.stringify(c.args.length && !c.inventory ? caseValue(c) : (c.inventory as [unknown, unknown])[1]).slice(
          0,
          20,
        )
      assert.ok(message.includes(shown), `the message shows the value ${shown}: ${message}`)
      if (c.mentions) assert.ok(message.includes(c.mentions), `the message says ${c.mentions}: ${message}`)
      if (c.secret !== undefined) {
        assert.not.ok(
          showsSecret(message + captured.stdout(), c.secret),
          `the environment value stays out of stderr: ${message}`,
        )
        const json = captureOutput({ json: true })
        assert.is(
          await c.task.run(['--inventory', sandbox.inventory, ...extra, ...c.args, '--json'], { output: json.output }),
          2,
        )
        assert.ok(json.stdout().includes(FINGERPRINT), `--json shows the fingerprint: ${json.stdout()}`)
        assert.not.ok(
          showsSecret(json.stdout() + json.stderr(), c.secret),
          `the environment value stays out of --json: ${json.stdout()}`,
        )
      }
      const untouched =
        (await fs.readFile(sandbox.inventory, 'utf8')) === text && (await fs.stat(sshdLog)).size === sshdBefore
      recordStateCheck(`${c.name}: inventory bytes unchanged, no connection`, untouched)
      assert.is(await fs.readFile(sandbox.inventory, 'utf8'), text, 'inventory bytes unchanged')
      assert.is(
        (await fs.stat(sshdLog)).size,
        sshdBefore,
        'no connection reached the server (its sshd log did not grow)',
      )
      await assert.not.ok(await fs.stat('/tmp/zxs-pwned').catch(() => null), 'nothing smuggled in ran')
    }),
  )
}

corpus(
  'control: the same run with the valid inventory does connect (so the sshd-log check can see a connection)',
  async ({ sandbox, base, sshdLog }) => {
    await fs.writeFile(sandbox.inventory, base)
    const sshdBefore = (await fs.stat(sshdLog)).size
    const captured = captureOutput()
    const code = await supervisorStatus.run(['--inventory', sandbox.inventory], { output: captured.output })
    assert.is(code, 3, captured.stderr() + captured.stdout())
    assert.ok((await fs.stat(sshdLog)).size > sshdBefore, 'sshd logged the connection')
  },
)

/** Runs fn with the case's site templates in place under templates/sites/app.test/, removed afterwards. */
async function withSiteTemplates<T>(templates: Record<string, string> | undefined, fn: () => Promise<T>): Promise<T> {
  if (!templates) return fn()
  const dir = path.join(PROJECT, 'templates/sites/app.test')
  try {
    for (const [name, content] of Object.entries(templates)) {
      await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true })
      await fs.writeFile(path.join(dir, name), content)
    }
    return await fn()
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** Whether `text` shows the secret, as typed or JSON-escaped (a long value is checked by its first 40 characters). */
function showsSecret(text: string, secret: string): boolean {
  const start = secret.slice(0, 40)
  return text.includes(start) || text.includes(JSON.stringify(start).slice(1, -1))
}

/** The hostile value of a flag case: the value right after the field's flag, or the last argument. */
function caseValue(c: Case): string {
  const flag = c.field.split(' ')[0] as string
  const at = c.args.lastIndexOf(flag)
  const value = at >= 0 ? (c.args[at + 1] ?? '') : (c.args.at(-1) ?? '')
  return c.field.startsWith('--env ')
    ? value.slice(value.indexOf('=') + 1)
    : c.field === '--env'
      ? value.slice(0, value.indexOf('='))
      : value
}

corpus.run()
