import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

// lib/deploy/switch-current.sh under dash, on a scratch directory: the rename, what it says about before, and that
// no temporary link is left (also not one an older, cut-off run left behind).

const SCRIPT = new URL('../../lib/deploy/switch-current.sh', import.meta.url)

async function switchIn(dir: string, target: string) {
  const result = await execa(
    'dash',
    ['-c', await fs.readFile(SCRIPT, 'utf8'), 'switch-current', path.join(dir, 'current'), target],
    { reject: false },
  )
  const entries = (await fs.readdir(dir)).sort()
  const current = await fs.readlink(path.join(dir, 'current')).catch(() => null)
  return { exitCode: result.exitCode, said: result.stdout, entries, current }
}

const CASES: Array<
  [
    string,
    (dir: string) => Promise<void>,
    string,
    { exitCode: number; said: string; entries: string[]; current: string | null },
  ]
> = [
  [
    'first switch: no current before',
    async () => {},
    'releases/r1',
    { exitCode: 0, said: 'previous-none', entries: ['current', 'releases'], current: 'releases/r1' },
  ],
  [
    'switch from r1 to r2',
    async (dir) => fs.symlink('releases/r1', path.join(dir, 'current')),
    'releases/r2',
    { exitCode: 0, said: 'previous releases/r1', entries: ['current', 'releases'], current: 'releases/r2' },
  ],
  [
    'a leftover current.zxs-next of a cut-off run is removed',
    async (dir) => {
      await fs.symlink('releases/r1', path.join(dir, 'current'))
      await fs.symlink('releases/r1', path.join(dir, 'current.zxs-next'))
    },
    'releases/r2',
    { exitCode: 0, said: 'previous releases/r1', entries: ['current', 'releases'], current: 'releases/r2' },
  ],
  [
    '- removes current (a rollback to no release)',
    async (dir) => fs.symlink('releases/r1', path.join(dir, 'current')),
    '-',
    { exitCode: 0, said: 'previous releases/r1', entries: ['releases'], current: null },
  ],
  [
    'a directory in the way fails, says nothing, and leaves no temporary link',
    async (dir) => fs.mkdir(path.join(dir, 'current')),
    'releases/r2',
    { exitCode: 1, said: '', entries: ['current', 'releases'], current: null },
  ],
]

for (const [name, setUp, target, expected] of CASES) {
  test(`switch-current.sh: ${name}`, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-switch-'))
    try {
      await fs.mkdir(path.join(dir, 'releases/r1'), { recursive: true })
      await fs.mkdir(path.join(dir, 'releases/r2'))
      await setUp(dir)
      assert.equal(await switchIn(dir, target), expected)
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
}

test.run()
