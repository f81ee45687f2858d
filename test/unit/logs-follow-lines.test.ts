import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { followCommands } from '../../lib/logs/follow.ts'
import type { LogSource } from '../../lib/logs/sources.ts'
import { createSession } from '../../lib/remote/connection.ts'
import { streamCommand } from '../../lib/remote/stream.ts'
import { LOCAL_SERVER } from '../helpers/local-server.ts'

// Whole lines through --follow's commands, run on this machine (`host: local`; over ssh the same bytes pass through
// one more pipe): a line written in pieces arrives as one, and a 1 MB line written in pieces while another followed
// log is written in between arrives whole, in its own source, never mixed with the other's lines.

const LOCAL = LOCAL_SERVER
const session = createSession({ timeoutSeconds: 5, batch: true })
let dir = ''
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-follow-'))
})
test.after(async () => {
  await session.closeAll()
  await fs.rm(dir, { recursive: true, force: true })
})

type ProgramSource = Extract<LogSource, { kind: 'program' }>
const program = (name: string): ProgramSource => ({
  kind: 'program',
  service: `supervisor:a.test/${name}`,
  domain: 'a.test',
  program: name,
  path: path.join(dir, `a.test-${name}.log`),
})

/** Follows the sources as followLogs does (its commands, one stream each), collecting [service, line] pairs. */
async function follow(sources: LogSource[]) {
  const got: Array<[string, string]> = []
  const connection = await session.connect(LOCAL)
  const streams = followCommands(sources, undefined, 0).map((command) => {
    if (command.kind !== 'tail' || command.files.length !== 1) throw new Error('one file per tail expected')
    const service = command.files[0]!.service
    return streamCommand(connection, command.argv, { onLine: (line) => got.push([service, line]) })
  })
  // tail -F prints nothing until the first bytes: give it a moment to open the files (it follows by name anyway).
  await new Promise((r) => setTimeout(r, 300))
  return { got, stop: () => Promise.all(streams.map((s) => s.stop())) }
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('a line written in pieces arrives as one line', async () => {
  const worker = program('pieces')
  await fs.writeFile(worker.path, '')
  const { got, stop } = await follow([worker])
  const file = await fs.open(worker.path, 'a')
  try {
    await file.write('first half, ')
    await pause(300)
    await file.write('second half\nnext')
    await pause(300)
    await file.write(' line\n')
  } finally {
    await file.close()
  }
  await until(() => got.length === 2)
  await stop()
  assert.equal(got, [
    [worker.service, 'first half, second half'],
    [worker.service, 'next line'],
  ])
})

test('a 1 MB line written in 8 pieces, another log written between them: whole, in its own source', async () => {
  const big = program('big')
  const other = program('other')
  await fs.writeFile(big.path, '')
  await fs.writeFile(other.path, '')
  const { got, stop } = await follow([big, other])
  const piece = 'x'.repeat(128 * 1024)
  const file = await fs.open(big.path, 'a')
  try {
    await file.write('BIG-START-')
    for (let i = 1; i <= 8; i++) {
      await file.write(piece)
      await fs.appendFile(other.path, `between ${i}\n`)
      await pause(50)
    }
    await file.write('-BIG-END\n')
  } finally {
    await file.close()
  }
  await until(() => got.length === 9)
  await stop()
  const bigLines = got.filter(([service]) => service === big.service).map(([, line]) => line)
  assert.is(bigLines.length, 1)
  assert.is(bigLines[0], `BIG-START-${piece.repeat(8)}-BIG-END`)
  assert.equal(
    got.filter(([service]) => service === other.service).map(([, line]) => line),
    Array.from({ length: 8 }, (_, i) => `between ${i + 1}`),
  )
})

test.run()
