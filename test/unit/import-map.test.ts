import fs from 'node:fs/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { importIntoInventory, importYaml } from '../../lib/import/edit.ts'
import { type ListedKind, mapServerPrograms, mergeServerImports } from '../../lib/import/map.ts'
import type { ConfFile, ConfSection, ServerPrograms } from '../../lib/import/read-programs.ts'
import { type LoadedInventory, parseInventory } from '../../lib/inventory/load.ts'
import { DEBIAN_LAYOUT } from '../../lib/layout.ts'
import type { Server } from '../../lib/types.ts'

// supervisor-import's mapping, pure: server config sections → inventory entries (golden YAML) or a listed reason.

const INVENTORY = `# team inventory
servers:
  - name: web-1
    host: 127.0.0.254
  - name: web-2
    host: 127.0.0.253
sites:
  - domain: shop.test   # kept
    server: [web-1, web-2]
    supervisors:
      - program: existing
        script: existing.sh
`
const SITES = '/home/deployer/sites'
const GOLDEN = new URL('../fixtures/import/', import.meta.url)

function inventory(): LoadedInventory {
  return { ...parseInventory(INVENTORY, '/tmp/inventory.yml'), path: '/tmp/inventory.yml', text: INVENTORY }
}

function server(name: string): Server {
  return inventory().inventory.servers.find((s) => s.name === name) as Server
}

/** A program section as read-programs.py reports it. */
function program(name: string, options: Record<string, string>, extra: Partial<ConfSection> = {}): ConfSection {
  const argv = (options.command ?? '').split(' ').filter(Boolean)
  const roots = [`${SITES}/shop.test`, `${SITES}/blog.test`]
  return {
    section: `program:${name}`,
    kind: 'program',
    name,
    options,
    argv,
    currentLinks: roots.filter((r) => [options.directory ?? '', argv[0] ?? ''].some((p) => p.startsWith(`${r}/`))),
    ...(options.environment === undefined ? {} : { environmentPairs: envPairs(options.environment) }),
    ...extra,
  }
}

function envPairs(raw: string): Array<[string, string]> {
  return raw.split(',').map((pair) => {
    const [key, value] = pair.split('=') as [string, string]
    return [key, value.replace(/^"|"$/g, '')]
  })
}

function read(files: ConfFile[]): ServerPrograms {
  return { layout: DEBIAN_LAYOUT, files, processes: [], daemon: { running: true } }
}

const conf = (name: string, ...sections: ConfSection[]): ConfFile => ({
  path: `/etc/supervisor/conf.d/${name}`,
  sections,
  head: '[program:x]\n',
})

const DEPLOYER_CONF = conf(
  'shop.test-queue.conf',
  program('shop.test-queue', {
    command: `${SITES}/shop.test/runner.sh .deployer/supervisors/queue.sh`,
    autostart: 'true',
    autorestart: 'true',
    stopwaitsecs: '3600',
    numprocs: '2',
    user: 'deployer',
    process_name: '%(program_name)s_%(process_num)02d',
    stdout_logfile: '/var/log/supervisor/shop.test-queue.log',
  }),
)
const HANDMADE = conf(
  'handmade.conf',
  program('mailer', {
    command: '/usr/bin/php artisan queue:work --queue=mail',
    directory: `${SITES}/blog.test/current`,
    user: 'deployer',
    environment: 'APP_ENV="production",STRIPE_SECRET="sk_live_1",HOME="/home/deployer"',
    stopsignal: 'SIGQUIT',
  }),
)
const OTHERS = conf(
  'others.conf',
  { section: 'eventlistener:crash', kind: 'eventlistener', name: 'crash', options: { command: 'x' } },
  { section: 'group:pair', kind: 'group', name: 'pair', options: { programs: 'left,right' } },
  program('left', { command: '/bin/sleep 1', directory: `${SITES}/shop.test/current` }),
  program('forge', { command: '/usr/bin/php /home/forge/app/artisan horizon', directory: `${SITES}/forge.test` }),
)

test('a DeployerPHP conf, a hand-written worker (with --write-scripts) and what cannot be carried: golden YAML', async () => {
  const loaded = inventory()
  const one = mapServerPrograms(read([DEPLOYER_CONF, HANDMADE, OTHERS]), {
    inventory: loaded.inventory,
    server: server('web-1'),
    writeScripts: true,
  })
  const two = mapServerPrograms(read([DEPLOYER_CONF]), {
    inventory: loaded.inventory,
    server: server('web-2'),
    writeScripts: true,
  })
  const merged = mergeServerImports([one, two], loaded.inventory)
  if (process.env.UPDATE_GOLDEN) await fs.writeFile(new URL('web-1.yml', GOLDEN), importYaml(loaded, merged.programs))
  const golden = await fs.readFile(new URL('web-1.yml', GOLDEN), 'utf8')
  assert.fixture(importYaml(loaded, merged.programs), golden)
  assert.equal(
    merged.listed.map((l) => [l.section, l.kind]),
    [
      ['eventlistener:crash', 'not-representable'],
      ['group:pair', 'not-representable'],
      ['program:left', 'not-representable'],
      ['program:forge', 'needs-release-layout'],
    ],
  )
  const mailer = merged.programs.find((p) => p.entry.program === 'mailer')
  assert.equal(mailer?.fromEnv, ['STRIPE_SECRET'])
  assert.is(mailer?.script?.content.split('\n').at(-2), 'exec /usr/bin/php artisan queue:work --queue=mail')
  // The inventory file: comments kept, a missing site added with its server, entries validated.
  const text = importIntoInventory(loaded, merged.programs)
  assert.ok(text.startsWith(INVENTORY.trimEnd().split('\n').slice(0, -3).join('\n')), text)
  if (process.env.UPDATE_GOLDEN) await fs.writeFile(new URL('inventory-after.yml', GOLDEN), text)
  assert.fixture(text, await fs.readFile(new URL('inventory-after.yml', GOLDEN), 'utf8'))
})

test('a second import of the same server adds nothing: every program is matched and skipped', () => {
  const loaded = inventory()
  const options = { server: server('web-1'), writeScripts: true }
  const first = mergeServerImports([
    mapServerPrograms(read([DEPLOYER_CONF, HANDMADE]), { inventory: loaded.inventory, ...options }),
    mapServerPrograms(read([DEPLOYER_CONF]), { ...options, inventory: loaded.inventory, server: server('web-2') }),
  ])
  const text = importIntoInventory(loaded, first.programs)
  const after = parseInventory(text, loaded.path).inventory
  const second = mergeServerImports([
    mapServerPrograms(read([DEPLOYER_CONF, HANDMADE]), { inventory: after, ...options }),
  ])
  assert.equal(second.programs, [])
  assert.equal(
    second.skipped.map((s) => `${s.domain}/${s.program}`),
    ['shop.test/queue', 'blog.test/mailer'],
  )
})

test('the same definition on two servers is one program with both; a different one is a conflict', () => {
  const loaded = inventory()
  const on = (name: string, files: ConfFile[]) =>
    mapServerPrograms(read(files), { inventory: loaded.inventory, server: server(name), writeScripts: false })
  const same = mergeServerImports([on('web-1', [DEPLOYER_CONF]), on('web-2', [DEPLOYER_CONF])], loaded.inventory)
  assert.equal(
    same.programs.map((p) => p.servers),
    [['web-1', 'web-2']],
  )
  // Found on one server of a two-server site: written, it would start on the other too.
  const half = mergeServerImports([on('web-1', [DEPLOYER_CONF])], loaded.inventory)
  assert.equal(half.programs, [])
  assert.match(half.listed[0]?.reason ?? '', 'also runs on web-2, where this program was not found')
  const changed = conf(
    'shop.test-queue.conf',
    program('shop.test-queue', {
      command: `${SITES}/shop.test/runner.sh .deployer/supervisors/queue.sh`,
      numprocs: '3',
    }),
  )
  const conflict = mergeServerImports([on('web-1', [DEPLOYER_CONF]), on('web-2', [changed])])
  assert.equal(conflict.programs, [])
  assert.equal(
    conflict.listed.map((l) => [l.server, l.kind]),
    [
      ['web-1', 'conflict'],
      ['web-2', 'conflict'],
    ],
  )
})

// One section each: what is listed, and the words of its reason.
const CASES: Array<[string, ConfFile, ListedKind, RegExp]> = [
  [
    'not our runner, without --write-scripts',
    conf('a.conf', program('w', { command: '/bin/sleep 5', directory: `${SITES}/shop.test/current` })),
    'needs-script',
    /--write-scripts/,
  ],
  [
    'a numeric stopsignal (the rulebook refuses it)',
    conf(
      'a.conf',
      program('w', { command: `${SITES}/shop.test/runner.sh .deployer/supervisors/w.sh`, stopsignal: '15' }),
    ),
    'refused',
    /stopsignal: "15"/,
  ],
  [
    'a newline in a value (a continuation line)',
    conf(
      'a.conf',
      program('w', {
        command: `${SITES}/shop.test/runner.sh .deployer/supervisors/w.sh`,
        numprocs: '1\n[program:evil]',
      }),
    ),
    'refused',
    /numprocs/,
  ],
  [
    '%(here)s in the command',
    conf('a.conf', program('w', { command: '%(here)s/run', directory: `${SITES}/shop.test/current` })),
    'refused',
    /%\(\.\.\.\)s/,
  ],
  [
    'an environment= supervisor cannot read',
    conf(
      'a.conf',
      program(
        'w',
        { command: `${SITES}/shop.test/runner.sh .deployer/supervisors/w.sh` },
        { environmentError: 'it holds a %(...)s expansion' },
      ),
    ),
    'refused',
    /environment= cannot be read/,
  ],
  [
    'an environment value the rulebook refuses: the value is never shown',
    conf(
      'a.conf',
      program(
        'w',
        { command: `${SITES}/shop.test/runner.sh .deployer/supervisors/w.sh` },
        { environmentPairs: [['NOTE', 'a ;b-hidden']] },
      ),
    ),
    'refused',
    /^environment\.NOTE: (?!.*hidden)/,
  ],
  [
    'exitcodes the template cannot carry',
    conf(
      'a.conf',
      program('w', { command: `${SITES}/shop.test/runner.sh .deployer/supervisors/w.sh`, exitcodes: '0,2' }),
    ),
    'not-representable',
    /exitcodes=0,2/,
  ],
  [
    'a directory under no site and no --domain',
    conf('a.conf', program('w', { command: '/bin/sleep 5', directory: '/opt/thing' })),
    'no-site',
    /pass --domain/,
  ],
  [
    'an unreadable file',
    { path: '/etc/supervisor/conf.d/big.conf', error: 'larger than 1 MB (2097152 bytes): not read' },
    'unreadable',
    /larger than 1 MB/,
  ],
  [
    'another inventory\u2019s file',
    {
      ...conf('b.conf', program('w', { command: '/bin/sleep 5' })),
      head: '; zx-supervisor inventory=other site=x.test program=w\n',
    },
    'refused',
    /inventory 'other'/,
  ],
]

for (const [name, file, kind, reason] of CASES) {
  test(`listed, not written: ${name}`, () => {
    const loaded = inventory()
    const result = mapServerPrograms(read([file]), {
      inventory: loaded.inventory,
      server: server('web-1'),
      writeScripts: false,
    })
    assert.equal(result.programs, [])
    assert.is(result.listed.length, 1, JSON.stringify(result.listed))
    assert.is(result.listed[0]?.kind, kind)
    assert.match(result.listed[0]?.reason ?? '', reason)
  })
}

test('a file of this inventory is ours already: nothing listed, nothing proposed', () => {
  const loaded = inventory()
  const ours = { ...DEPLOYER_CONF, head: '; zx-supervisor inventory=default site=shop.test program=queue\n' }
  const result = mapServerPrograms(read([ours]), {
    inventory: loaded.inventory,
    server: server('web-1'),
    writeScripts: false,
  })
  assert.equal([result.programs, result.listed], [[], []])
})

test('--domain places a program found under no site root', () => {
  const loaded = inventory()
  const file = conf('a.conf', program('w', { command: '/bin/sleep 5', directory: `${SITES}/shop.test/current/sub` }))
  const outside = conf('a.conf', program('w', { command: '/opt/bin/w' }, { currentLinks: [`${SITES}/shop.test`] }))
  const options = { inventory: loaded.inventory, server: server('web-1'), writeScripts: true }
  assert.is(mapServerPrograms(read([file]), options).programs[0]?.domain, 'shop.test')
  assert.is(mapServerPrograms(read([outside]), options).listed[0]?.kind, 'no-site')
  assert.is(mapServerPrograms(read([outside]), { ...options, domain: 'shop.test' }).programs[0]?.domain, 'shop.test')
})

test.run()
