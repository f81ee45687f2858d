import { execa } from 'execa'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession } from '../../lib/remote/connection.ts'
import { streamCommand } from '../../lib/remote/stream.ts'
import { LOCAL_SERVER } from '../helpers/local-server.ts'

// The streaming primitive of --follow, on a `host: local` connection (the same wrapper runs over ssh): lines arrive
// as they are written, arguments arrive intact, and stop() leaves no process of the command behind.

const LOCAL = LOCAL_SERVER
const session = createSession({ timeoutSeconds: 5, batch: true })
test.after(() => session.closeAll())

const running = async (pattern: string) => (await execa('pgrep', ['-f', pattern], { reject: false })).stdout.trim()

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('lines arrive while the command runs; stop() ends it and everything it started', async () => {
  const marker = `${1000 + Math.floor(Math.random() * 1000)}.${process.pid}`
  const hostile = `it's "quoted" $HOME; rm -rf / \`id\` -- 'x'`
  const lines: string[] = []
  const errors: string[] = []
  const stream = streamCommand(
    await session.connect(LOCAL),
    ['sh', '-c', 'printf "%s\\n" "$1"; echo two >&2; echo three; exec sleep "$2"', 'sh', hostile, marker],
    {
      onLine: (l) => lines.push(l),
      onErrorLine: (l) => errors.push(l),
    },
  )
  await until(() => lines.length === 2)
  assert.equal(lines, [hostile, 'three'])
  assert.equal(errors, ['two'])
  assert.ok(await running(`sleep ${marker}`), 'the command runs until stopped')
  await stream.stop()
  const end = await stream.done
  assert.is(end.stopped, true)
  assert.is(await running(`sleep ${marker}`), '', 'nothing left running')
})

test('a command that ends by itself resolves with its exit code and leaves no watcher behind', async () => {
  const lines: string[] = []
  const started = Date.now()
  const stream = streamCommand(await session.connect(LOCAL), ['sh', '-c', 'echo only; exit 3'], {
    onLine: (l) => lines.push(l),
  })
  const end = await stream.done
  assert.equal(end, { exitCode: 3, stopped: false })
  assert.equal(lines, ['only'])
  assert.ok(Date.now() - started < 3000, 'the stdin watcher does not keep it open')
  await stream.stop()
})

test.run()
