import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  defaultSitesPath,
  findProgramConflicts,
  joinPath,
  validateInventory,
  validateProgram,
} from '../../lib/inventory/validate.ts'
import type { Problem } from '../../lib/types.ts'

const fields = (problems: Problem[]) => problems.map((problem) => problem.field)
const problemAt = (problems: Problem[], field: string) => problems.find((problem) => problem.field === field)

const minimal = () => ({
  servers: [{ name: 'web-1', host: '203.0.113.10' }],
  sites: [{ domain: 'example.com', server: 'web-1', supervisors: [{ program: 'worker', script: 'worker.sh' }] }],
})

test('applies every default', () => {
  const { inventory, problems, warnings } = validateInventory(minimal())
  assert.equal(problems, [])
  assert.equal(warnings, [])
  assert.equal(inventory, {
    id: 'default',
    servers: [
      {
        name: 'web-1',
        host: '203.0.113.10',
        groups: [],
        siteUser: 'deployer',
        sitesPath: '/home/deployer/sites',
        local: false,
      },
    ],
    sites: [
      {
        domain: 'example.com',
        servers: ['web-1'],
        supervisors: [
          {
            program: 'worker',
            script: 'worker.sh',
            autostart: true,
            autorestart: true,
            stopwaitsecs: 3600,
            numprocs: 1,
            environment: {},
          },
        ],
      },
    ],
  })
})

test('reads every optional key', () => {
  const raw = {
    servers: [
      {
        name: 'a',
        host: 'a.example.net',
        port: 2222,
        username: 'deploy',
        privateKeyPath: '~/.ssh/a',
        knownHostsFile: '/tmp/kh',
        groups: ['web', 'web', 'eu'],
        siteUser: 'app',
        sitesPath: '/srv/sites',
      },
      { name: 'b', connection: 'local' },
      { name: 'c', host: 'local', siteUser: 'root' },
    ],
    sites: [
      {
        domain: 'example.com',
        server: ['a', 'b', 'a'],
        repo: 'git@h:x.git',
        branch: 'main',
        php_version: '8.3',
        user: 'www',
        root: '/srv/example',
        supervisors: [
          {
            program: 'p',
            script: 'dir/p.sh',
            autostart: false,
            autorestart: 'unexpected',
            stopwaitsecs: 10,
            numprocs: 4,
            startsecs: 0,
            startretries: 5,
            stopsignal: 'SIGQUIT',
            priority: 10,
            user: 'other',
            template: 'queue/big',
            environment: { APP_ENV: 'production', PORT: 8080, DEBUG: false, RATE: '100%' },
          },
        ],
      },
    ],
  }
  const { inventory, problems } = validateInventory(raw)
  assert.equal(problems, [])
  assert.equal(inventory.servers[0], {
    name: 'a',
    host: 'a.example.net',
    port: 2222,
    username: 'deploy',
    groups: ['web', 'eu'],
    siteUser: 'app',
    sitesPath: '/srv/sites',
    local: false,
    privateKeyPath: '~/.ssh/a',
    knownHostsFile: '/tmp/kh',
  })
  assert.equal(inventory.servers[1], {
    name: 'b',
    host: 'local',
    groups: [],
    siteUser: 'deployer',
    sitesPath: '/home/deployer/sites',
    local: true,
  })
  assert.is(inventory.servers[2]?.local, true)
  assert.is(inventory.servers[2]?.sitesPath, '/root/sites')
  assert.equal(inventory.sites[0], {
    domain: 'example.com',
    servers: ['a', 'b'],
    repo: 'git@h:x.git',
    branch: 'main',
    phpVersion: '8.3',
    user: 'www',
    root: '/srv/example',
    supervisors: [
      {
        program: 'p',
        script: 'dir/p.sh',
        autostart: false,
        autorestart: 'unexpected',
        stopwaitsecs: 10,
        numprocs: 4,
        startsecs: 0,
        startretries: 5,
        stopsignal: 'QUIT',
        priority: 10,
        user: 'other',
        template: 'queue/big',
        environment: { APP_ENV: 'production', PORT: '8080', DEBUG: 'false', RATE: '100%' },
      },
    ],
  })
})

test('reports every problem at once, each with its path', () => {
  const raw = {
    servers: [
      { name: 'web 1', host: 'ok.example.net', port: 70000 },
      { name: 'db', host: 'db;rm -rf /', username: 'Root', groups: 'web' },
      { name: 'db', host: '10.0.0.3', port: [22], sitesPath: 'relative' },
      'not-a-map',
      { host: '10.0.0.4' },
    ],
    sites: [
      {
        domain: 'Example.com',
        server: 'nope',
        php_version: 8.3,
        supervisors: [
          { program: 'w', script: '../w.sh', numprocs: 0 },
          { program: 'w', script: 'x.sh', numprocs: 2.5, autostart: 'yes', stopsignal: 'STOP' },
          { program: 123, script: 'x.sh', environment: { HOME: '/x', 'BAD-KEY': 'v', OK: 'a\nb', DEPLOYER_PHP: 'p' } },
        ],
      },
      { server: ['db', 'ghost'], supervisors: 'worker' },
      { domain: 'example.org', server: [] },
    ],
  }
  const { problems } = validateInventory(raw)
  assert.equal(
    fields(problems).sort(),
    [
      'servers[0].name',
      'servers[0].port',
      'servers[1].host',
      'servers[1].username',
      'servers[1].groups',
      'servers[2].port',
      'servers[2].sitesPath',
      'servers[3]',
      'servers[4].name',
      'servers[2].name',
      'sites[0].domain',
      'sites[0].server',
      'sites[0].php_version',
      'sites[0].supervisors[0].script',
      'sites[0].supervisors[0].numprocs',
      'sites[0].supervisors[1].autostart',
      'sites[0].supervisors[1].numprocs',
      'sites[0].supervisors[1].stopsignal',
      'sites[0].supervisors[2].program',
      'sites[0].supervisors[2].environment.HOME',
      'sites[0].supervisors[2].environment.BAD-KEY',
      'sites[0].supervisors[2].environment.OK',
      'sites[0].supervisors[2].environment.DEPLOYER_PHP',
      'sites[0].supervisors[1].program',
      'sites[0].supervisors[2].script',
      'sites[1].domain',
      'sites[1].server[1]',
      'sites[1].supervisors',
      'sites[2].server',
    ].sort(),
  )
  for (const problem of problems) assert.ok(problem.hint, `no hint for ${problem.field}`)
  assert.match(problemAt(problems, 'sites[0].server')?.allowed ?? '', /\(db\)/)
  assert.is(problemAt(problems, 'sites[0].server')?.hint, "Server 'nope' not found in inventory")
  assert.match(
    problemAt(problems, 'sites[0].supervisors[1].program')?.hint ?? '',
    /^Supervisor 'w' is already configured for 'sites\[0\]' \(supervisors\[0\]\)$/,
  )
  assert.match(problemAt(problems, 'servers[2].name')?.hint ?? '', /servers\[1\] is already named 'db'/)
  assert.match(problemAt(problems, 'servers[1].groups')?.hint ?? '', /groups: \[web\]/)
})

test('DeployerPHP messages for duplicate programs and scripts', () => {
  const raw = minimal()
  raw.sites[0]?.supervisors.push({ program: 'worker', script: 'other.sh' }, { program: 'other', script: 'worker.sh' })
  const { problems } = validateInventory(raw)
  assert.equal(fields(problems), ['sites[0].supervisors[1].program', 'sites[0].supervisors[2].script'])
  assert.is(problems[0]?.hint, "Supervisor 'worker' is already configured for 'example.com' (supervisors[0])")
  assert.is(problems[1]?.hint, "Supervisor script 'worker.sh' is already configured for 'example.com' (supervisors[0])")
})

test('wrong YAML types are problems with the path', () => {
  const cases: Array<[unknown, string]> = [
    [{ servers: 'web-1' }, 'servers'],
    [{ servers: { name: 'web-1' } }, 'servers'],
    [{ servers: [{ name: 'a', host: 'h', port: '22' }] }, 'servers[0].port'],
    [{ servers: [{ name: 'a', host: 'h', port: [22] }] }, 'servers[0].port'],
    [{ servers: [{ name: 7, host: 'h' }] }, 'servers[0].name'],
    [{ servers: [{ name: 'a', host: ['h'] }] }, 'servers[0].host'],
    [{ servers: [], sites: { domain: 'x.com' } }, 'sites'],
    [
      { servers: [{ name: 'a', host: 'h' }], sites: [{ domain: 'x.com', server: 'a', supervisors: [['w']] }] },
      'sites[0].supervisors[0]',
    ],
    [{ servers: [{ name: 'a', host: 'h' }], sites: [{ domain: 'x.com', server: { name: 'a' } }] }, 'sites[0].server'],
    [
      {
        servers: [{ name: 'a', host: 'h' }],
        sites: [{ domain: 'x.com', server: 'a', supervisors: [{ program: 'p', script: 's', environment: ['A=1'] }] }],
      },
      'sites[0].supervisors[0].environment',
    ],
    [
      {
        servers: [{ name: 'a', host: 'h' }],
        sites: [
          { domain: 'x.com', server: 'a', supervisors: [{ program: 'p', script: 's', environment: { A: { b: 1 } } }] },
        ],
      },
      'sites[0].supervisors[0].environment.A',
    ],
    [{ sites: [] }, 'servers'],
    [['servers'], '(top level)'],
    [null, '(top level)'],
  ]
  for (const [raw, field] of cases) {
    const { problems } = validateInventory(raw)
    assert.equal(fields(problems), [field], JSON.stringify(raw))
  }
})

test('unknown keys are warned about, not errors; DeployerPHP keys and nulls are known', () => {
  const raw = {
    version: 2,
    servers: [
      {
        name: 'a',
        host: 'h',
        colour: 'red',
        provider: null,
        dropletId: 123,
        instanceId: null,
        privateKeyPath: null,
        port: null,
        username: null,
      },
    ],
    sites: [
      {
        domain: 'x.com',
        server: 'a',
        phpVersion: '8.3',
        crons: [{ script: 'c.sh', schedule: '* * * * *' }],
        repo: null,
        branch: null,
        php_version: null,
        supervisors: [{ program: 'p', script: 's.sh', numProcs: 2, stopwaitsecs: null }],
      },
    ],
  }
  const { problems, warnings, inventory } = validateInventory(raw, 'inv.yml')
  assert.equal(problems, [])
  assert.equal(warnings, [
    'inv.yml: version: unknown key, kept as is and ignored',
    'inv.yml: servers[0].colour: unknown key, kept as is and ignored',
    "inv.yml: sites[0].phpVersion: unknown key, kept as is and ignored; did you mean 'php_version'?",
    "inv.yml: sites[0].supervisors[0].numProcs: unknown key, kept as is and ignored; did you mean 'numprocs'?",
  ])
  assert.is(inventory.servers[0]?.port, undefined)
  assert.is(inventory.servers[0]?.privateKeyPath, undefined)
  assert.is(inventory.sites[0]?.supervisors[0]?.stopwaitsecs, 3600)
  assert.not.ok('phpVersion' in (inventory.sites[0] ?? {}))
})

test('port and username stay absent unless the inventory sets them: the ssh config decides, then root on 22', () => {
  const { inventory } = validateInventory({
    servers: [
      { name: 'a', host: 'nu-inner' },
      { name: 'b', host: 'h', port: 2222, username: 'ops' },
    ],
  })
  assert.equal(
    inventory.servers.map((s) => [s.port, s.username]),
    [
      [undefined, undefined],
      [2222, 'ops'],
    ],
  )
  assert.not.ok('port' in (inventory.servers[0] ?? {}) || 'username' in (inventory.servers[0] ?? {}))
})

test('sshConfig: a file path, kept as written (the loader resolves it against the inventory directory)', () => {
  const { inventory, problems, warnings } = validateInventory({ ...minimal(), sshConfig: 'ssh/config' })
  assert.equal([problems, warnings], [[], []])
  assert.is(inventory.sshConfig, 'ssh/config')
  for (const bad of [5, '', '-F', ['a'], 'a\nb']) {
    const { problems: refused } = validateInventory({ ...minimal(), sshConfig: bad })
    assert.equal(fields(refused), ['sshConfig'], `sshConfig: ${JSON.stringify(bad)}`)
  }
  assert.not.ok('sshConfig' in validateInventory(minimal()).inventory)
})

test('a missing sites list is empty; a null list is empty', () => {
  assert.equal(validateInventory({ servers: [] }).inventory, { id: 'default', servers: [], sites: [] })
  const { problems, inventory } = validateInventory({ servers: null, sites: null })
  assert.equal(problems, [])
  assert.equal(inventory, { id: 'default', servers: [], sites: [] })
})

test('a server referenced by a site must exist; the hint lists the known servers', () => {
  const { problems } = validateInventory({
    servers: [
      { name: 'a', host: 'h' },
      { name: 'b', host: 'h2' },
    ],
    sites: [{ domain: 'x.com', server: ['a', 'c'] }],
  })
  assert.equal(problems, [
    {
      field: 'sites[0].server[1]',
      value: 'c',
      allowed: 'a server from servers: (a, b)',
      hint: "Server 'c' not found in inventory",
    },
  ])
})

test('duplicate domains, groups named like servers, connection conflicts', () => {
  const { problems } = validateInventory({
    servers: [
      { name: 'a', host: 'h', groups: ['b'] },
      { name: 'b', host: 'local', connection: 'ssh' },
    ],
    sites: [
      { domain: 'x.com', server: 'a' },
      { domain: 'x.com', server: 'b' },
    ],
  })
  assert.equal(fields(problems), ['servers[1].connection', 'servers[0].groups[0]', 'sites[1].domain'])
})

test('full program names must not collide anywhere in the inventory', () => {
  const raw = {
    servers: [
      { name: 'a', host: 'h' },
      { name: 'b', host: 'h2' },
    ],
    sites: [
      { domain: 'a.com', server: 'a', supervisors: [{ program: 'b-c', script: 'x.sh' }] },
      { domain: 'a.com-b', server: ['b', 'a'], supervisors: [{ program: 'c', script: 'x.sh' }] },
      { domain: 'a.com-b-c', server: 'b', supervisors: [] },
    ],
  }
  const { problems } = validateInventory(raw)
  assert.equal(fields(problems), ['sites[1].supervisors[0].program'])
  assert.match(problems[0]?.hint ?? '', /also 'a\.com-b-c'/)
  raw.sites[1]!.server = ['b']
  assert.equal(fields(validateInventory(raw).problems), ['sites[1].supervisors[0].program'], 'on different servers too')
  raw.sites[1]!.supervisors = [{ program: 'd', script: 'x.sh' }]
  assert.equal(validateInventory(raw).problems, [])
})

test('two sites sharing a root on one server are refused (they would share runner.sh)', () => {
  const raw = {
    servers: [
      { name: 'a', host: 'h' },
      { name: 'b', host: 'h2' },
    ],
    sites: [
      { domain: 'one.com', server: ['a', 'b'], root: '/srv/app' },
      { domain: 'two.com', server: 'a', root: '/srv/app' },
    ],
  }
  const { problems } = validateInventory(raw)
  assert.equal(fields(problems), ['sites[1].root'])
  assert.match(problems[0]?.hint ?? '', /sites\[0\] \(one\.com\) also lives in \/srv\/app on a/)
  raw.sites[1]!.server = 'c' as never
  assert.equal(fields(validateInventory({ ...raw, servers: [...raw.servers, { name: 'c', host: 'h3' }] }).problems), [])
})

test('the inventory id: default "default", a name like a server name', () => {
  assert.is(validateInventory({ servers: [] }).inventory.id, 'default')
  assert.is(validateInventory({ id: 'shop-prod', servers: [] }).inventory.id, 'shop-prod')
  assert.equal(fields(validateInventory({ id: 'has space', servers: [] }).problems), ['id'])
  assert.equal(fields(validateInventory({ id: 7, servers: [] }).problems), ['id'])
})

test('validateProgram checks one entry on its own', () => {
  const good = validateProgram({ program: 'p', script: 's.sh', numprocs: 2 })
  assert.equal(good.problems, [])
  assert.is(good.program?.numprocs, 2)
  const badEntry = validateProgram({ program: 'p q', script: '/s.sh', extra: 1 })
  assert.equal(fields(badEntry.problems), ['program', 'script'])
  assert.equal(badEntry.warnings, ['extra: unknown key, kept as is and ignored'])
  assert.equal(fields(validateProgram('p', 'entry').problems), ['entry'])
})

test('findProgramConflicts uses DeployerPHP messages', () => {
  const { inventory } = validateInventory(minimal())
  const site = inventory.sites[0]!
  assert.equal(findProgramConflicts(site, { program: 'new', script: 'new.sh' }), [])
  const problems = findProgramConflicts(
    site,
    { program: 'worker', script: 'worker.sh' },
    { program: '--program', script: '--script' },
  )
  assert.equal(fields(problems), ['--program', '--script'])
  assert.is(problems[0]?.hint, "Supervisor 'worker' is already configured for 'example.com'")
  assert.is(problems[1]?.hint, "Supervisor script 'worker.sh' is already configured for 'example.com'")
})

test('joinPath and defaultSitesPath', () => {
  assert.is(joinPath('', 'servers'), 'servers')
  assert.is(joinPath('servers', 2), 'servers[2]')
  assert.is(joinPath('servers[2]', 'port'), 'servers[2].port')
  assert.is(joinPath('env', 'A B'), 'env["A B"]')
  assert.is(joinPath('', 'a.b'), '["a.b"]')
  assert.is(defaultSitesPath('deployer'), '/home/deployer/sites')
  assert.is(defaultSitesPath('root'), '/root/sites')
})

test.run()
