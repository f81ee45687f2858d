import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadInventory, parseFieldPath, parseInventory } from '../../lib/inventory/load.ts'
import { inputError, inputErrorAsync } from '../helpers/input-error.ts'

const FIXTURES = new URL('../fixtures/inventory/', import.meta.url).pathname
const EXAMPLE = new URL('../../inventory/example.yml', import.meta.url).pathname

test('a DeployerPHP deployer.yml loads unchanged, without warnings', async () => {
  const loaded = await loadInventory(join(FIXTURES, 'deployer.yml'))
  assert.equal(loaded.warnings, [])
  assert.is(loaded.text, await readFile(join(FIXTURES, 'deployer.yml'), 'utf8'))
  const [production, worker] = loaded.inventory.servers
  assert.equal(production, {
    name: 'production',
    host: '203.0.113.10',
    port: 22,
    username: 'root',
    groups: [],
    siteUser: 'deployer',
    sitesPath: '/home/deployer/sites',
    local: false,
    privateKeyPath: '~/.ssh/id_ed25519',
  })
  assert.is(worker?.port, 2222)
  assert.is(worker?.privateKeyPath, undefined)
  const [site, blog] = loaded.inventory.sites
  assert.is(site?.phpVersion, '8.3')
  assert.is(site?.repo, 'git@github.com:acme/app.git')
  assert.equal(site?.servers, ['production'])
  assert.equal(
    site?.supervisors.map((p) => [p.program, p.script, p.autostart, p.autorestart, p.stopwaitsecs, p.numprocs]),
    [
      ['queue-worker', 'queue-worker.sh', true, true, 3600, 1],
      ['messenger', 'messenger.sh', false, true, 60, 2],
    ],
  )
  assert.equal(blog?.supervisors, [])
  assert.is(blog?.repo, undefined)
})

test('inventory/example.yml is valid and documents the two-server, two-program setup', async () => {
  const loaded = await loadInventory(EXAMPLE)
  assert.equal(loaded.warnings, [])
  assert.equal(
    loaded.inventory.servers.map((s) => [s.name, s.groups]),
    [
      ['production', ['web']],
      ['worker-1', ['workers']],
    ],
  )
  const site = loaded.inventory.sites[0]
  assert.equal(site?.servers, ['production', 'worker-1'])
  assert.equal(
    site?.supervisors.map((p) => p.numprocs),
    [2, 1],
  )
  assert.equal(site?.supervisors[0]?.environment, { QUEUE: 'high,default', APP_ENV: 'production' })
})

test('merge keys share settings between entries; x- keys hold the anchors', async () => {
  const loaded = await loadInventory(join(FIXTURES, 'merge.yml'))
  assert.equal(loaded.warnings, [])
  assert.equal(
    loaded.inventory.sites[0]?.supervisors.map((p) => [p.program, p.autorestart, p.stopwaitsecs, p.numprocs]),
    [
      ['mail', 'unexpected', 60, 1],
      ['sms', 'unexpected', 60, 2],
    ],
  )
})

test('every validation problem is reported with its path and line', () => {
  const path = join(FIXTURES, 'invalid.yml')
  const error = inputError(() => parseInventory(readFileSyncText(path), path))
  assert.is(error.exitCode, 2)
  assert.equal(
    error.problems.map((p) => p.field),
    [
      'servers[0].port',
      'servers[1].name',
      'sites[0].server',
      'sites[0].supervisors[0].program',
      'sites[0].supervisors[0].numprocs',
      'sites[0].supervisors[0].environment.APP_KEY',
    ],
  )
  assert.equal(
    error.problems.map((p) => /invalid\.yml:(\d+)\)?$/.exec(p.hint ?? '')?.[1]),
    ['5', '6', '11', '13', '15', '17'],
  )
  assert.match(error.message, /^Inventory .*invalid\.yml has 6 problems:\n/)
  assert.match(
    error.message,
    /servers\[0\]\.port: got "22"; allowed: an integer from 1 to 65535\. Hint: write the number without quotes: 22 \(see invalid\.yml:5\)/,
  )
  assert.match(error.message, /Server 'web-2' not found in inventory/)
})

function readFileSyncText(path: string): string {
  return readFileSync(path, 'utf8')
}

test('YAML syntax errors name the file, line and a hint', () => {
  const cases: Array<[string, RegExp, RegExp]> = [
    ['servers: []\nservers: []\n', /^inv\.yml:2:1$/, /Map keys must be unique; remove or rename/],
    ['servers:\n\t- name: a\n', /^inv\.yml:2:1$/, /tabs/],
    ['servers: []\n---\nsites: []\n', /^inv\.yml:2:1$/, /one document per file/],
    ['servers: [a, b\nsites: []\n', /^inv\.yml:2:1$/, /^Flow sequence in block collection must be sufficiently/],
    ['servers:\n  - name: "unterminated\n', /^inv\.yml:3:1$/, /^Missing closing "quote/],
  ]
  for (const [text, field, hint] of cases) {
    const error = inputError(() => parseInventory(text, 'inv.yml'))
    assert.match(error.message, /^Inventory inv\.yml is not valid YAML:/)
    assert.is(error.problems.length, 1, text)
    assert.match(error.problems[0]?.field ?? '', field, text)
    assert.match(error.problems[0]?.hint ?? '', hint, text)
  }
})

test('an empty, comment-only or non-map file is refused with a hint', () => {
  for (const text of ['', '\n\n', '# nothing here\n', '---\n']) {
    const error = inputError(() => parseInventory(text, 'inv.yml'))
    assert.is(error.problems[0]?.field, 'inv.yml')
    assert.match(error.problems[0]?.hint ?? '', /empty; copy inventory\/example\.yml/)
  }
  for (const text of ['- a\n- b\n', 'just text\n', '42\n']) {
    const error = inputError(() => parseInventory(text, 'inv.yml'))
    assert.match(error.problems[0]?.allowed ?? '', /map with `servers:` and `sites:`/)
  }
})

test('an alias bomb is refused', () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
  for (let i = 1; i < 8; i++)
    levels.push(
      `l${i}: &l${i} [${Array(10)
        .fill(i === 1 ? '*a' : `*l${i - 1}`)
        .join(', ')}]`,
    )
  const error = inputError(() => parseInventory(`${levels.join('\n')}\nservers: []\n`, 'bomb.yml'))
  assert.match(error.problems[0]?.allowed ?? '', /alias/)
})

test('unknown keys come back as warnings with the file and path', () => {
  const text = 'servers:\n  - name: a\n    host: h\n    colour: red\nsites: []\n'
  const { warnings } = parseInventory(text, 'inv.yml')
  assert.equal(warnings, ['inv.yml: servers[0].colour: unknown key, kept as is and ignored'])
})

test('a missing inventory names the path and how to get one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'zxs-load-'))
  try {
    const missing = join(dir, 'inventory.yml')
    const error = await inputErrorAsync(() => loadInventory(missing))
    assert.match(error.message, new RegExp(`Inventory not found: ${missing}`))
    assert.match(error.problems[0]?.hint ?? '', /inventory\/example\.yml.*--inventory.*ZXS_INVENTORY/)
    const isDir = await inputErrorAsync(() => loadInventory(dir))
    assert.match(isDir.problems[0]?.hint ?? '', /directory/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('parseFieldPath reverses the validator paths', () => {
  assert.equal(parseFieldPath('sites[0].supervisors[1].numprocs'), ['sites', 0, 'supervisors', 1, 'numprocs'])
  assert.equal(parseFieldPath('sites[0].supervisors[1].environment["A B"]'), [
    'sites',
    0,
    'supervisors',
    1,
    'environment',
    'A B',
  ])
  assert.equal(parseFieldPath('servers[2].port'), ['servers', 2, 'port'])
  assert.equal(parseFieldPath('sites[0].supervisors[2].environment.BAD-KEY'), [
    'sites',
    0,
    'supervisors',
    2,
    'environment',
    'BAD-KEY',
  ])
})

test.run()
