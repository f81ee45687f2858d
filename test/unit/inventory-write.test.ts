import { readFileSync } from 'node:fs'
import { chmod, lstat, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InputError } from '../../lib/errors.ts'
import { type LoadedInventory, loadInventory, parseInventory } from '../../lib/inventory/load.ts'
import { addProgram, removeProgram } from '../../lib/inventory/program-edits.ts'
import { InventoryChangedError, InventoryWriteError, saveInventory } from '../../lib/inventory/save.ts'
import type { ProgramEntry } from '../../lib/types.ts'
import { rejected, thrown } from '../helpers/input-error.ts'

const FIXTURES = new URL('../fixtures/inventory/', import.meta.url).pathname
const SMALL = readFileSync(join(FIXTURES, 'small.yml'), 'utf8')

function loadText(text: string, path = 'inventory.yml'): LoadedInventory {
  return { path, text, ...parseInventory(text, path) }
}

/** `text` with exactly one occurrence of `find` replaced: the whole expected file, byte for byte. */
function edited(text: string, find: string, replacement: string): string {
  assert.is(text.split(find).length, 2, `fixture must contain ${JSON.stringify(find)} once`)
  return text.replace(find, replacement)
}

/** An entry as supervisor-create builds it: DeployerPHP's defaults unless given. */
function programEntry(fields: Pick<ProgramEntry, 'program' | 'script'> & Partial<ProgramEntry>): ProgramEntry {
  return { autostart: true, autorestart: true, stopwaitsecs: 3600, numprocs: 1, ...fields }
}

const MAILER_END = '        stopwaitsecs: 60\n        numprocs: 2\n'

test('addProgram appends in the list style of the file, keys in DeployerPHP order', () => {
  const text = addProgram(
    loadText(SMALL),
    'example.com',
    programEntry({
      program: 'ws',
      script: 'ws/server.sh',
      numprocs: 2,
      stopsignal: 'SIGINT',
      environment: { PORT: '8080', LABEL: 'a: b' },
    }),
  )
  assert.is(
    text,
    edited(
      SMALL,
      MAILER_END,
      `${MAILER_END}      -
        program: ws
        script: ws/server.sh
        autostart: true
        autorestart: true
        stopwaitsecs: 3600
        numprocs: 2
        stopsignal: SIGINT
        environment:
          PORT: '8080'
          LABEL: 'a: b'
`,
    ),
  )
})

test('addProgram creates supervisors: for a site without one', () => {
  const text = addProgram(
    loadText(SMALL),
    'blog.example.com',
    programEntry({ program: 'ws', script: 'ws.sh', autostart: false }),
  )
  assert.is(
    text,
    `${SMALL}    supervisors:
      -
        program: ws
        script: ws.sh
        autostart: false
        autorestart: true
        stopwaitsecs: 3600
        numprocs: 1
`,
  )
})

test('removeProgram removes the entry and nothing else; the comment under supervisors: stays', () => {
  const first = removeProgram(loadText(SMALL), 'example.com', 'queue-worker')
  assert.is(
    first,
    edited(
      SMALL,
      `      -
        program: queue-worker
        script: queue-worker.sh
        autostart: true
        autorestart: true
        stopwaitsecs: 3600
        numprocs: 1
        owner: ops       # unknown key, kept
`,
      '',
    ),
  )
  const last = removeProgram(loadText(SMALL), 'example.com', 'mailer')
  assert.is(
    last,
    edited(
      SMALL,
      `      -
        program: mailer
        script: mailer.sh
        autostart: false
        autorestart: true
        stopwaitsecs: 60
        numprocs: 2
`,
      '',
    ),
  )
  const none = removeProgram(loadText(last), 'example.com', 'queue-worker')
  assert.is(
    none,
    edited(
      last,
      `    supervisors:
      # the default queue
      -
        program: queue-worker
        script: queue-worker.sh
        autostart: true
        autorestart: true
        stopwaitsecs: 3600
        numprocs: 1
        owner: ops       # unknown key, kept
`,
      '    supervisors: []\n      # the default queue\n',
    ),
  )
  assert.equal(loadText(none).inventory.sites[0]?.supervisors, [])
})

const COMMENTED = `servers:
  - name: web
    host: 10.0.0.1
sites:
  - domain: a.com
    server: web
    # a.com's workers, one per queue
    supervisors:
      # queues first, then mail
      - program: one
        # one's own note
        script: one.sh
      # two: the mailer
      - program: two
        script: two.sh
      - program: three
        script: three.sh
`

test('deleting the first entry keeps the comments above it; only the lines inside its own range go', () => {
  const first = removeProgram(loadText(COMMENTED), 'a.com', 'one')
  assert.is(first, edited(COMMENTED, "      - program: one\n        # one's own note\n        script: one.sh\n", ''))
  assert.match(
    first,
    "    # a.com's workers, one per queue\n    supervisors:\n      # queues first, then mail\n      # two: the mailer\n      - program: two\n",
  )
})

test("deleting a later entry takes the comment directly above its dash (its own), not its neighbours'", () => {
  const middle = removeProgram(loadText(COMMENTED), 'a.com', 'two')
  assert.is(middle, edited(COMMENTED, '      # two: the mailer\n      - program: two\n        script: two.sh\n', ''))
  const last = removeProgram(loadText(middle), 'a.com', 'three')
  assert.is(last, edited(middle, '      - program: three\n        script: three.sh\n', ''))
  assert.match(
    last,
    "      # queues first, then mail\n      - program: one\n        # one's own note\n        script: one.sh\n",
  )
})

test('deleting the only entry leaves supervisors: [] and keeps the comment under the key', () => {
  const only = `${COMMENTED.split('      # two: the mailer')[0]}`
  const none = removeProgram(loadText(only), 'a.com', 'one')
  assert.is(
    none,
    edited(
      only,
      "    supervisors:\n      # queues first, then mail\n      - program: one\n        # one's own note\n        script: one.sh\n",
      '    supervisors: []\n      # queues first, then mail\n',
    ),
  )
})

const COMPACT = `servers:
- name: web   # compact lists, indentless
  host: 10.0.0.1
sites:
- domain: a.com
  server: web
  supervisors:
    - program: one
      script: one.sh

    # two's comment
    - program: two
      script: two.sh

    - program: three
      script: three.sh

  extra: [1, 2]
`

test('compact "- key" lists keep their style and blank-line spacing', () => {
  const added = addProgram(
    loadText(COMPACT),
    'a.com',
    programEntry({ program: 'four', script: 'four.sh', environment: { A: 'x' } }),
  )
  assert.is(
    added,
    edited(
      COMPACT,
      '      script: three.sh\n',
      `      script: three.sh

    - program: four
      script: four.sh
      autostart: true
      autorestart: true
      stopwaitsecs: 3600
      numprocs: 1
      environment:
        A: x
`,
    ),
  )
  const middle = removeProgram(loadText(COMPACT), 'a.com', 'two')
  assert.is(middle, edited(COMPACT, "    # two's comment\n    - program: two\n      script: two.sh\n\n", ''))
  const last = removeProgram(loadText(COMPACT), 'a.com', 'three')
  assert.is(last, edited(COMPACT, '\n    - program: three\n      script: three.sh\n', ''))
  const first = removeProgram(loadText(COMPACT), 'a.com', 'one')
  assert.is(first, edited(COMPACT, '    - program: one\n      script: one.sh\n\n', ''))
})

const BASE = 'servers:\n  - name: web\n    host: 10.0.0.1\nsites:\n  - domain: a.com\n    server: web\n'

test('empty, null and flow-style supervisors become a block list on add', () => {
  const entry = programEntry({ program: 'p', script: 'p.sh' })
  const block =
    '    supervisors:\n      - program: p\n        script: p.sh\n        autostart: true\n        autorestart: true\n        stopwaitsecs: 3600\n        numprocs: 1\n'
  assert.is(addProgram(loadText(`${BASE}    supervisors: []   # none yet\n`), 'a.com', entry), `${BASE}${block}`)
  assert.is(
    addProgram(loadText(`${BASE}    supervisors:\n    repo: r\n`), 'a.com', entry),
    `${BASE}${block}    repo: r\n`,
  )
  assert.is(addProgram(loadText(`${BASE}    supervisors: ~\n`), 'a.com', entry), `${BASE}${block}`)
  const flow = `${BASE}    supervisors: [{program: o, script: o.sh}]\n`
  assert.is(
    addProgram(loadText(flow), 'a.com', entry),
    `${BASE}    supervisors:\n      - program: o\n        script: o.sh\n${block.split('\n').slice(1).join('\n')}`,
  )
  assert.is(
    removeProgram(loadText(flow.replace('}]', '}, {program: p, script: p.sh}]')), 'a.com', 'o'),
    `${BASE}    supervisors: [ { program: p, script: p.sh } ]\n`,
  )
})

test('CRLF files stay CRLF; a missing final newline is handled', () => {
  const crlf = `${BASE}    supervisors:\n      - program: o\n        script: o.sh\n`.replace(/\n/g, '\r\n')
  const added = addProgram(loadText(crlf), 'a.com', programEntry({ program: 'p', script: 'p.sh' }))
  assert.not.match(added.replace(/\r\n/g, ''), /\n/)
  assert.is(
    added,
    `${crlf}      - program: p\r\n        script: p.sh\r\n        autostart: true\r\n        autorestart: true\r\n        stopwaitsecs: 3600\r\n        numprocs: 1\r\n`,
  )
  const noEol = BASE.trimEnd()
  const text = addProgram(loadText(noEol), 'a.com', programEntry({ program: 'p', script: 'p.sh' }))
  assert.is(text.slice(0, noEol.length + 1), `${noEol}\n`)
  assert.is(loadText(text).inventory.sites[0]?.supervisors.length, 1)
})

test('addProgram refuses duplicates with DeployerPHP messages, and invalid entries', () => {
  const loaded = loadText(SMALL)
  const mailer = programEntry({ program: 'mailer', script: 'mailer.sh' })
  const duplicate = thrown(() => addProgram(loaded, 'example.com', mailer), InputError)
  assert.equal(
    duplicate.problems.map((p) => p.hint),
    [
      "Supervisor 'mailer' is already configured for 'example.com'",
      "Supervisor script 'mailer.sh' is already configured for 'example.com'",
    ],
  )
  const bad = programEntry({ program: 'bad name', script: '../x.sh', numprocs: 0 })
  const invalid = thrown(() => addProgram(loaded, 'example.com', bad), InputError)
  assert.equal(
    invalid.problems.map((p) => p.field),
    ['program', 'script', 'numprocs'],
  )
  const p = programEntry({ program: 'p', script: 'p.sh' })
  const unknown = thrown(() => addProgram(loaded, 'nope.com', p), InputError)
  assert.match(unknown.message, /Site 'nope\.com' not found in inventory/)
  const missing = thrown(() => removeProgram(loaded, 'example.com', 'nope'), InputError)
  assert.match(missing.message, /Supervisor program 'nope' not found/)
})

test('lists shared through aliases or merge keys are not edited behind the user', () => {
  const shared = `x-shared: &shared
  - program: a
    script: a.sh
servers:
  - name: web
    host: h
sites:
  - domain: a.com
    server: web
    supervisors: *shared
  - domain: b.com
    server: web
    supervisors: *shared
`
  for (const edit of [
    () => addProgram(loadText(shared), 'a.com', programEntry({ program: 'p', script: 'p.sh' })),
    () => removeProgram(loadText(shared), 'a.com', 'a'),
  ]) {
    const error = thrown(edit, InputError)
    assert.match(error.message, /Cannot edit inventory\.yml safely/)
  }
  const merged = `x-site: &site
  server: web
  supervisors:
    - program: a
      script: a.sh
servers:
  - name: web
    host: h
sites:
  - <<: *site
    domain: a.com
`
  const entry = programEntry({ program: 'p', script: 'p.sh' })
  assert.match(thrown(() => addProgram(loadText(merged), 'a.com', entry), InputError).message, /safely/)
})

test('the DeployerPHP fixture round-trips through add and remove byte for byte', async () => {
  const loaded = await loadInventory(join(FIXTURES, 'deployer.yml'))
  const added = addProgram(loaded, 'example.com', programEntry({ program: 'ws', script: 'ws.sh' }))
  assert.is(removeProgram(loadText(added), 'example.com', 'ws'), loaded.text)
  const blog = addProgram(loaded, 'blog.example.org', programEntry({ program: 'ws', script: 'ws.sh' }))
  assert.is(removeProgram(loadText(blog), 'blog.example.org', 'ws'), `${loaded.text}    supervisors: []\n`)
})

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zxs-write-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('saveInventory replaces the file, keeps its mode and leaves no temp file', () =>
  withDir(async (dir) => {
    const path = join(dir, 'inventory.yml')
    await writeFile(path, SMALL)
    await chmod(path, 0o640)
    const loaded = await loadInventory(path)
    const text = addProgram(loaded, 'example.com', programEntry({ program: 'ws', script: 'ws.sh' }))
    await saveInventory(loaded, text)
    assert.is(await readFile(path, 'utf8'), text)
    assert.is((await stat(path)).mode & 0o777, 0o640)
    assert.equal(await readdir(dir), ['inventory.yml'])
  }))

test('saveInventory refuses a file changed on disk since it was read', () =>
  withDir(async (dir) => {
    const path = join(dir, 'inventory.yml')
    await writeFile(path, SMALL)
    const loaded = await loadInventory(path)
    const text = removeProgram(loaded, 'example.com', 'mailer')
    const theirs = SMALL.replace('notes: keep me', 'notes: edited by someone else')
    await writeFile(path, theirs)
    const error = await rejected(() => saveInventory(loaded, text), InventoryChangedError)
    assert.is(error.exitCode, 2)
    // One message, said once: what changed, that nothing was written, and what to do.
    assert.is(
      error.message,
      `inventory ${path} changed on disk since this run read it (edited meanwhile); nothing was written. Hint: run the command again to work on the current file.`,
    )
    assert.is(await readFile(path, 'utf8'), theirs)
    assert.equal(await readdir(dir), ['inventory.yml'])
  }))

test('saveInventory refuses a file that appeared since the run found none', () =>
  withDir(async (dir) => {
    const path = join(dir, 'inventory.yml')
    const loaded = { ...loadText(SMALL, path), text: '' }
    await writeFile(path, 'servers: []\nsites: []\n')
    await rejected(() => saveInventory(loaded, SMALL), InventoryChangedError)
    assert.is(await readFile(path, 'utf8'), 'servers: []\nsites: []\n')
  }))

test('saveInventory never writes an invalid inventory', () =>
  withDir(async (dir) => {
    const path = join(dir, 'inventory.yml')
    await writeFile(path, SMALL)
    const loaded = await loadInventory(path)
    const error = await rejected(() => saveInventory(loaded, SMALL.replace('numprocs: 2', 'numprocs: 0')), InputError)
    assert.match(error.message, /sites\[0\]\.supervisors\[1\]\.numprocs/)
    assert.is(await readFile(path, 'utf8'), SMALL)
    assert.equal(await readdir(dir), ['inventory.yml'])
  }))

test('saveInventory creates a new file as 0600 and writes through a symlink', () =>
  withDir(async (dir) => {
    const fresh = join(dir, 'new.yml')
    await saveInventory({ ...loadText(SMALL, fresh), text: '' }, SMALL)
    assert.is(await readFile(fresh, 'utf8'), SMALL)
    assert.is((await stat(fresh)).mode & 0o777, 0o600)
    const link = join(dir, 'link.yml')
    await symlink(fresh, link)
    const loaded = await loadInventory(link)
    const text = removeProgram(loaded, 'example.com', 'mailer')
    await saveInventory(loaded, text)
    assert.ok((await lstat(link)).isSymbolicLink())
    assert.is(await readlink(link), fresh)
    assert.is(await readFile(fresh, 'utf8'), text)
    assert.equal((await readdir(dir)).sort(), ['link.yml', 'new.yml'])
  }))

test('saveInventory names the path when it cannot write', () =>
  withDir(async (dir) => {
    const path = join(dir, 'missing-dir', 'inventory.yml')
    const error = await rejected(
      () => saveInventory({ ...loadText(SMALL, path), text: '' }, SMALL),
      InventoryWriteError,
    )
    assert.match(error.message, new RegExp(`Cannot write inventory ${path}: a parent directory does not exist`))
  }))

test.run()
