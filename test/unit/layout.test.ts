import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  DEBIAN_LAYOUT,
  describeOwner,
  type ManagedFileSpec,
  type Marker,
  markerLine,
  markFile,
  ownershipOf,
  parentDirectories,
  parseMarker,
  releaseDirectories,
  siteDirectories,
  withMarker,
} from '../../lib/layout.ts'

// The server contract's ownership marker: one format, one parser.

const markers: Array<[string, string, Marker | null]> = [
  [
    'conf marker',
    '; zx-supervisor inventory=shop site=a.com program=b\n[program:a.com-b]\n',
    { inventory: 'shop', site: 'a.com', program: 'b', file: null },
  ],
  [
    'logrotate marker',
    '# zx-supervisor inventory=shop site=a.com-b program=x\n/var/log/x {\n}\n',
    { inventory: 'shop', site: 'a.com-b', program: 'x', file: null },
  ],
  [
    'site file after a shebang',
    '#!/bin/sh\n# zx-supervisor inventory=shop site=a.com file=runner\nset -eu\n',
    { inventory: 'shop', site: 'a.com', program: null, file: 'runner' },
  ],
  [
    'marker written before inventory ids',
    '; zx-supervisor site=a.com program=b\n',
    { inventory: null, site: 'a.com', program: 'b', file: null },
  ],
  [
    'runner.sh written before inventory ids',
    '#!/bin/sh\n# zx-supervisor site=a.com file=runner.sh\n',
    { inventory: null, site: 'a.com', program: null, file: 'runner.sh' },
  ],
  [
    'CRLF line end',
    '; zx-supervisor inventory=x site=a.com program=b\r\n',
    { inventory: 'x', site: 'a.com', program: 'b', file: null },
  ],
  ['no marker (hand-written conf)', '[program:a.com-b]\ncommand=/bin/true\n', null],
  ['marker not on the first line (no shebang)', '\n; zx-supervisor site=a.com program=b\n', null],
  ['marker on line 3', '#!/bin/sh\n\n# zx-supervisor site=a.com file=runner\n', null],
  ['other tool', '; managed by puppet site=a.com program=b\n', null],
  ['trailing text', '; zx-supervisor site=a.com program=b extra\n', null],
  ['empty file', '', null],
  [
    'JSON: the first key, as sync writes it',
    '{"zx-supervisor": "inventory=shop site=a.com program=b", "url": "/up"}\n',
    { inventory: 'shop', site: 'a.com', program: 'b', file: null },
  ],
  [
    'JSON: an object holding only the marker',
    '{"zx-supervisor": "inventory=shop site=a.com program=b"}\n',
    { inventory: 'shop', site: 'a.com', program: 'b', file: null },
  ],
  [
    'JSON pretty-printed by hand (jq): key on line 2',
    '{\n  "zx-supervisor": "inventory=shop site=a.com program=b",\n  "url": "/up"\n}\n',
    { inventory: 'shop', site: 'a.com', program: 'b', file: null },
  ],
  ['JSON without the key', '{"url": "/up"}\n', null],
  ['JSON: the key not first', '{"url": "/up",\n"zx-supervisor": "inventory=shop site=a.com program=b"}\n', null],
  ['JSON: trailing text in the value', '{"zx-supervisor": "inventory=shop site=a.com program=b extra"}\n', null],
]

for (const [name, content, expected] of markers) {
  test(`parseMarker: ${name}`, () => {
    assert.equal(parseMarker(content), expected)
  })
}

test('markerLine and withMarker round-trip through parseMarker', () => {
  const conf = withMarker(
    '[program:a-b]\n',
    markerLine({ marker: ';', scope: 'program', kind: 'conf' }, { inventory: 'i', site: 'a', program: 'b' }),
  )
  assert.is(conf.split('\n')[0], '; zx-supervisor inventory=i site=a program=b')
  const runner = withMarker(
    '#!/bin/sh\nexit 0\n',
    markerLine({ marker: '#', scope: 'site', kind: 'runner' }, { inventory: 'i', site: 'a' }),
  )
  assert.is(runner, '#!/bin/sh\n# zx-supervisor inventory=i site=a file=runner\nexit 0\n')
  assert.equal(parseMarker(runner), { inventory: 'i', site: 'a', program: null, file: 'runner' })
})

// Every marker style of the contract round-trips through the one parser; JSON stays JSON.
const styles: Array<[ManagedFileSpec['marker'], string, string]> = [
  [';', '[program:a-b]\n', '; zx-supervisor inventory=i site=a program=b\n[program:a-b]\n'],
  ['#', '/var/log/a-b.log {\n}\n', '# zx-supervisor inventory=i site=a program=b\n/var/log/a-b.log {\n}\n'],
  ['json', '{\n  "url": "/up"\n}\n', '{"zx-supervisor": "inventory=i site=a program=b",\n  "url": "/up"\n}\n'],
  ['json', '  {}\n', '{"zx-supervisor": "inventory=i site=a program=b"}\n'],
  ['json', '{"url": "/up"}', '{"zx-supervisor": "inventory=i site=a program=b","url": "/up"}'],
]

for (const [marker, content, expected] of styles) {
  test(`markFile (${marker}): ${JSON.stringify(content)}`, () => {
    const marked = markFile({ marker, scope: 'program', kind: 'x' }, content, {
      inventory: 'i',
      site: 'a',
      program: 'b',
    })
    assert.is(marked, expected)
    assert.equal(parseMarker(marked ?? ''), { inventory: 'i', site: 'a', program: 'b', file: null })
    if (marker === 'json') assert.is(JSON.parse(marked ?? '')['zx-supervisor'], 'inventory=i site=a program=b')
  })
}

test('markFile: JSON content that is not one object cannot carry the marker (null: the template is wrong)', () => {
  for (const content of ['["a"]\n', 'url=/up\n', ''])
    assert.is(
      markFile({ marker: 'json', scope: 'program', kind: 'x' }, content, { inventory: 'i', site: 'a', program: 'b' }),
      null,
    )
})

// The directories a contract entry declares: from its top down to the file's own, parents first.
const CONTEXT = { sitesPath: '/home/deployer/sites', layout: DEBIAN_LAYOUT }
const parentCases: Array<[string, Pick<ManagedFileSpec, 'kind' | 'parents'>, string, string[]]> = [
  ['none declared', { kind: 'conf' }, '/etc/supervisor/conf.d/a-b.conf', []],
  [
    'the file in its top',
    { kind: 'x', parents: { top: () => '/etc/zx-supervisor' } },
    '/etc/zx-supervisor/a-b.json',
    ['/etc/zx-supervisor'],
  ],
  [
    'two levels',
    { kind: 'x', parents: { top: () => '/etc/zx-supervisor' } },
    '/etc/zx-supervisor/healthchecks/a-b.json',
    ['/etc/zx-supervisor', '/etc/zx-supervisor/healthchecks'],
  ],
  [
    'a top with a trailing slash',
    { kind: 'x', parents: { top: () => '/etc/zx-supervisor/' } },
    '/etc/zx-supervisor/h/a-b.json',
    ['/etc/zx-supervisor', '/etc/zx-supervisor/h'],
  ],
  [
    'a top from the layout',
    { kind: 'x', parents: { top: (c) => `${c.layout.confDir}/extra` } },
    '/etc/supervisor/conf.d/extra/a-b.json',
    ['/etc/supervisor/conf.d/extra'],
  ],
]

for (const [name, spec, file, expected] of parentCases) {
  test(`parentDirectories: ${name}`, () => {
    assert.equal(
      parentDirectories(spec, file, CONTEXT).map((d) => d.path),
      expected,
    )
  })
}

test('parentDirectories: root 0755 by default; the site user and a mode when declared', () => {
  assert.equal(parentDirectories({ kind: 'x', parents: { top: () => '/etc/z' } }, '/etc/z/f', CONTEXT, 'deployer'), [
    { path: '/etc/z', owner: 'root', group: 'root', mode: '0755' },
  ])
  assert.equal(
    parentDirectories(
      { kind: 'x', parents: { top: () => '/srv/z', owner: 'site-user', mode: '0750' } },
      '/srv/z/f',
      CONTEXT,
      'deployer',
    ),
    [{ path: '/srv/z', owner: 'deployer', group: 'deployer', mode: '0750' }],
  )
})

test('parentDirectories: a top that is not above the file is a contract error naming the kind', () => {
  assert.throws(
    () => parentDirectories({ kind: 'health', parents: { top: () => '/etc/zx' } }, '/etc/zx-other/f.json', CONTEXT),
    /health's parents\.top \/etc\/zx is not an absolute directory above \/etc\/zx-other\/f\.json/,
  )
  assert.throws(
    () => parentDirectories({ kind: 'health', parents: { top: () => 'etc/zx' } }, 'etc/zx/f.json', CONTEXT),
    /health's parents\.top/,
  )
})

// [case, file content, ownership from inventory shop's point of view, how messages name the owner]
const owners: Array<[string, string, string, string]> = [
  ['our inventory', '; zx-supervisor inventory=shop site=a program=b\n', 'ours', "inventory 'shop', site a, program b"],
  [
    'no id yet: ours, upgraded on the next sync',
    '; zx-supervisor site=a program=b\n',
    'ours',
    "inventory 'default', site a, program b",
  ],
  [
    'another inventory',
    '; zx-supervisor inventory=blog site=a program=b\n',
    'other-inventory',
    "inventory 'blog', site a, program b",
  ],
  [
    'the default id is an id like any other',
    '; zx-supervisor inventory=default site=a program=b\n',
    'other-inventory',
    "inventory 'default', site a, program b",
  ],
  [
    'a site file of another inventory',
    '#!/bin/sh\n# zx-supervisor inventory=blog site=a file=runner\n',
    'other-inventory',
    "inventory 'blog', site a",
  ],
  ['unmarked', '[program:a-b]\n', 'unmarked', 'no zx-supervisor marker (written by hand or by another tool)'],
]

for (const [name, content, kind, owner] of owners) {
  test(`ownershipOf: ${name}`, () => {
    const ownership = ownershipOf(content, 'shop')
    assert.is(ownership.kind, kind)
    assert.is(describeOwner(ownership), owner)
  })
}

// What sync and deploy create for a site, parents first (each only when missing, all the site user's).
const siteDirs: Array<[string, string, string, string[]]> = [
  [
    'default root under the sites path',
    '/home/deployer/sites/a.test',
    '/home/deployer/sites',
    ['/home/deployer/sites', '/home/deployer/sites/a.test'],
  ],
  ['sites path with a trailing slash', '/srv/sites/a.test', '/srv/sites/', ['/srv/sites', '/srv/sites/a.test']],
  [
    'root nested below the sites path',
    '/srv/sites/shop/a.test',
    '/srv/sites',
    ['/srv/sites', '/srv/sites/shop', '/srv/sites/shop/a.test'],
  ],
  ['root elsewhere (site root:)', '/var/www/a.test', '/home/deployer/sites', ['/var/www/a.test']],
  [
    'a sibling sharing the prefix is not under it',
    '/home/deployer/sites2/a.test',
    '/home/deployer/sites',
    ['/home/deployer/sites2/a.test'],
  ],
]

for (const [name, root, sitesPath, expected] of siteDirs) {
  test(`siteDirectories: ${name}`, () => {
    assert.equal(siteDirectories(root, sitesPath), expected)
  })
}

test('releaseDirectories: the site directories, then releases/ and shared/', () => {
  assert.equal(releaseDirectories('/home/deployer/sites/a.test', '/home/deployer/sites'), [
    '/home/deployer/sites',
    '/home/deployer/sites/a.test',
    '/home/deployer/sites/a.test/releases',
    '/home/deployer/sites/a.test/shared',
  ])
})

test.run()
