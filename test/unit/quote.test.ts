import { execFileSync } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { remoteCommand, shellQuote } from '../../lib/remote/quote.ts'

// Each hostile string must come out of dash (Debian's /bin/sh, what the remote login shell hands commands to) unchanged.
const HOSTILE = [
  '',
  'plain',
  "it's",
  `bar"";baz!$#^$'&*~*%)({}||\\/`,
  'a b  c',
  'x; echo INJECTED',
  '$(touch /tmp/zxs-pwned)',
  '`id`',
  'line1\nline2',
  'tab\there',
  "''''",
  '-n',
  '--help',
  '*',
  '~root',
  'é ✓ 中文',
  'back\\slash',
  '%s %d',
  "'; rm -rf / #",
]

for (const value of HOSTILE) {
  test(`shellQuote survives dash: ${JSON.stringify(value)}`, () => {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' })
    assert.is(out, value)
  })
}

test('remoteCommand keeps every argv element one word', () => {
  const argv = ['printf', '%s|', ...HOSTILE.filter((v) => v !== '')]
  const out = execFileSync('/bin/sh', ['-c', remoteCommand(argv)], { encoding: 'utf8' })
  assert.is(
    out,
    HOSTILE.filter((v) => v !== '')
      .map((v) => `${v}|`)
      .join(''),
  )
})

test('simple words stay readable', () => {
  assert.is(
    remoteCommand(['supervisorctl', 'status', 'example.com-worker:*']),
    "supervisorctl status 'example.com-worker:*'",
  )
  assert.is(shellQuote('/etc/supervisor/conf.d/a.conf'), '/etc/supervisor/conf.d/a.conf')
})

test('NUL cannot be passed to a shell', () => {
  assert.throws(() => shellQuote('a\0b'), /NUL/)
})

test('an empty argv is refused', () => {
  assert.throws(() => remoteCommand([]), /empty/)
})

test.run()
