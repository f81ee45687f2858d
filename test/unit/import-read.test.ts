import fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type ConfFile, parseServerPrograms, readProgramsSource } from '../../lib/import/read-programs.ts'

// lib/import/read-programs.py run here (the script exactly as it is sent: supervisor.py as its module) on a config
// directory of hostile files: every file gets a verdict, nothing crashes, the one JSON document always comes back.

async function readDir(files: Record<string, string>, links: Record<string, string> = {}) {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'zxs-import-read-'))
  await fs.mkdir(path.join(dir, 'conf.d'))
  await fs.mkdir(path.join(dir, 'sites/a.test/current'), { recursive: true })
  const config = path.join(dir, 'supervisord.conf')
  await fs.writeFile(
    config,
    `[unix_http_server]\nfile=${dir}/no.sock\n[supervisord]\nlogfile=${dir}/supervisord.log\n[include]\nfiles = conf.d/*.conf\n`,
  )
  for (const [name, content] of Object.entries(files))
    await fs.writeFile(path.join(dir, 'conf.d', name), content.replaceAll('DIR', dir))
  for (const [name, target] of Object.entries(links)) await fs.symlink(target, path.join(dir, 'conf.d', name))
  const source = await readProgramsSource()
  const run = await execa('python3', ['-I', '-', 'programs', '--config', config], { input: source, reject: false })
  await fs.rm(dir, { recursive: true, force: true })
  assert.is(run.exitCode, 0, run.stderr)
  const document = parseServerPrograms('local', JSON.parse(run.stdout))
  const byName = new Map(document.files.map((f) => [path.basename(f.path), f] as [string, ConfFile]))
  return { dir, document, byName }
}

test('hostile files: too large, a symlink out, garbage, not UTF-8; each gets a reason and the others are read', async () => {
  const { byName, document } = await readDir(
    {
      'big.conf': `[program:big]\ncommand=/bin/true\n;${'x'.repeat(2 * 1024 * 1024)}\n`,
      'garbage.conf': 'this is not ini\n\0\n',
      'latin1.conf': Buffer.from([0x5b, 0x70, 0xe9, 0x5d, 0x0a]).toString('latin1'),
      'good.conf': '[program:good]\ncommand=/bin/sleep 100\n',
    },
    { 'out.conf': '/etc/passwd' },
  )
  assert.match(byName.get('big.conf')?.error ?? '', 'larger than 1 MB')
  assert.match(byName.get('out.conf')?.error ?? '', 'outside the include directory')
  assert.match(byName.get('garbage.conf')?.error ?? '', 'supervisor cannot parse it')
  assert.equal(byName.get('good.conf')?.sections?.[0]?.argv, ['/bin/sleep', '100'])
  assert.is(document.daemon.running, false)
})

test('values as supervisor reads them: inline comments, continuation lines, %(here)s kept raw, environment pairs', async () => {
  const { byName } = await readDir({
    'w.conf': [
      '[program:w]',
      'command=/bin/sleep 100 ; a comment',
      'directory=%(here)s/x',
      'numprocs=1',
      '  [program:evil]',
      'environment=A="x,y",B=\'single q\',P="100%% sure"',
      '[program:e]',
      'command=/bin/true',
      'environment=A="%(ENV_HOME)s"',
      '',
    ].join('\n'),
  })
  const [w, e] = byName.get('w.conf')?.sections ?? []
  assert.is(w?.options.command, '/bin/sleep 100')
  assert.is(w?.options.directory, '%(here)s/x')
  assert.is(w?.options.numprocs, '1\n[program:evil]')
  assert.equal(w?.environmentPairs, [
    ['A', 'x,y'],
    ['B', 'single q'],
    ['P', '100% sure'],
  ])
  assert.match(e?.environmentError ?? '', '%(...)s')
})

test('a 100,000-line conf is read (and its 50,000 sections refused as too many) in one go', async () => {
  const lines = Array.from({ length: 50_000 }, (_, i) => `[program:p${i}]\ncommand=/bin/true`).join('\n')
  const { byName } = await readDir({ 'huge.conf': `${lines}\n` })
  assert.match(byName.get('huge.conf')?.error ?? '', /more than 1000 sections|larger than 1 MB/)
})

test('a release layout is seen: the directories holding a `current` entry', async () => {
  const { byName } = await readDir({
    'w.conf': '[program:w]\ncommand=/usr/bin/php artisan\ndirectory=DIR/sites/a.test/current\n',
  })
  const section = byName.get('w.conf')?.sections?.[0]
  assert.is(section?.currentLinks?.length, 1)
  assert.match(section?.currentLinks?.[0] ?? '', /\/sites\/a\.test$/)
})

test.run()
