import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCommand, stripFinalNewline } from '../../lib/remote/command.ts'
import { masterAnswers } from '../../lib/remote/control-path.ts'

// The runner every connection starts its local processes with (ssh, rsync, or the command itself for `host: local`),
// in place of execa: what run() relies on, one behaviour at a time, on local commands.

const sh = (script: string, options = {}) => runCommand('sh', ['-c', script], options)

test('stdout, stderr and the exit code come back as data; one final newline is stripped, as execa does', async () => {
  const result = await sh('printf "a\\nb\\n\\n"; printf "oops\\r\\n" >&2; exit 3')
  assert.is(result.exitCode, 3)
  assert.is(result.stdout, 'a\nb\n')
  assert.is(result.stderr, 'oops')
  assert.is(result.timedOut, false)
  assert.is(result.canceled, false)
  assert.is(stripFinalNewline('x'), 'x')
})

test('input is written to stdin and closed; without it, stdin is empty (never the terminal)', async () => {
  assert.is((await sh('cat', { input: 'line 1\nline 2' })).stdout, 'line 1\nline 2')
  assert.is((await sh('cat; echo end')).stdout, 'end')
  // A command that does not read its input is no error of ours.
  assert.is((await sh('exit 0', { input: 'x'.repeat(1 << 20) })).exitCode, 0)
})

test('multi-byte characters split across chunks arrive whole', async () => {
  const result = await runCommand(process.execPath, [
    '-e',
    "const b = Buffer.from('é€😀'); process.stdout.write(b.subarray(0, 3)); setTimeout(() => process.stdout.write(b.subarray(3)), 50)",
  ])
  assert.is(result.stdout, 'é€😀')
})

test('onLine gets each line of stdout as it arrives, without its line end, the last one too', async () => {
  const lines: string[] = []
  const seenBeforeEnd: string[] = []
  const result = await sh('echo one; printf "two\\r\\n"; sleep 0.2; printf "three"', {
    onLine: (line: string) => {
      lines.push(line)
      if (line === 'two') seenBeforeEnd.push(line)
    },
  })
  assert.equal(lines, ['one', 'two', 'three'])
  assert.equal(seenBeforeEnd, ['two'])
  assert.is(result.stdout, 'one\ntwo\r\nthree', 'the result still holds all of stdout')
})

test('a timeout kills the process and says so; SIGKILL follows for one that ignores SIGTERM', async () => {
  const started = Date.now()
  const result = await sh('echo started; sleep 10', { timeoutMs: 200 })
  assert.is(result.timedOut, true)
  assert.is(result.exitCode, undefined, 'ended by a signal: no exit code')
  assert.is(result.stdout, 'started')
  assert.ok(Date.now() - started < 3000, `ended soon after the timeout (${Date.now() - started} ms)`)

  const stubbornStart = Date.now()
  const stubborn = await sh('trap "" TERM; echo ready; while :; do sleep 0.1; done', {
    timeoutMs: 200,
    forceKillAfterMs: 300,
  })
  assert.is(stubborn.timedOut, true)
  assert.is(stubborn.stdout, 'ready')
  const took = Date.now() - stubbornStart
  assert.ok(took >= 500 && took < 3000, `SIGTERM ignored, SIGKILL 300 ms after it (${took} ms)`)
})

test('the cancel signal kills the process; an aborted signal starts nothing', async () => {
  const controller = new AbortController()
  const running = sh('sleep 10', { cancelSignal: controller.signal })
  setTimeout(() => controller.abort('SIGINT'), 100)
  const result = await running
  assert.is(result.canceled, true)
  assert.is(result.exitCode, undefined)

  const marker = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-run-')), 'ran')
  const none = await sh(`touch ${marker}`, { cancelSignal: controller.signal })
  assert.is(none.canceled, true)
  assert.not.ok(await fs.stat(marker).catch(() => null), 'the command never ran')
})

test('a process killed by us resolves at its exit, even when a child of it keeps the pipes open', async () => {
  // As a multiplexed ssh does: its pipes live on in the master, which holds them until the remote command ends.
  const started = Date.now()
  const result = await sh('sleep 5 & echo bg; sleep 10', { timeoutMs: 200 })
  assert.is(result.timedOut, true)
  assert.ok(Date.now() - started < 3000, `did not wait for the pipes (${Date.now() - started} ms)`)
})

test('a command that cannot start resolves without an exit code (never throws)', async () => {
  const result = await runCommand('/nonexistent/zxs-command', [])
  assert.is(result.exitCode, undefined)
  assert.ok(result.spawnError)
  assert.is(result.stdout, '')
})

test('a process still running when this process exits is killed with it', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-run-'))
  const pidFile = path.join(dir, 'pid')
  const module = new URL('../../lib/remote/command.ts', import.meta.url).href
  // A child node that starts `sleep` through runCommand and exits right after.
  const script = `const { runCommand } = await import(${JSON.stringify(module)}); void runCommand('sh', ['-c', 'echo $$ > ${pidFile}; exec sleep 30']); setTimeout(() => process.exit(0), 300)`
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], {
      stdio: 'inherit',
    })
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))))
  })
  const pid = Number(await fs.readFile(pidFile, 'utf8'))
  const alive = () => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  const deadline = Date.now() + 3000
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  assert.not.ok(alive(), `sleep (pid ${pid}) was left running`)
})

test('masterAnswers: yes for a socket whose listener greets as an ssh master, no for others', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-mux-'))
  const hello = Buffer.from([0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4])
  const listen = (name: string, onConnection: (socket: net.Socket) => void) =>
    new Promise<net.Server>((resolve) => {
      const server = net.createServer(onConnection)
      server.listen(path.join(dir, name), () => resolve(server))
    })
  const master = await listen('master', (socket) => socket.end(hello))
  const mute = await listen('mute', () => {})
  const other = await listen('other', (socket) => socket.end('SSH-2.0-x\r\n'))
  try {
    assert.is(await masterAnswers(path.join(dir, 'master')), true)
    assert.is(await masterAnswers(path.join(dir, 'missing')), false)
    assert.is(await masterAnswers(path.join(dir, 'mute'), 200), false, 'a listener that never greets')
    assert.is(await masterAnswers(path.join(dir, 'other')), false, 'something else greets')
    // A socket a dead master left behind: the file is there, nothing listens.
    await new Promise<void>((resolve) => master.close(() => resolve()))
    await fs.writeFile(path.join(dir, 'stale'), '')
    assert.is(await masterAnswers(path.join(dir, 'stale')), false)
  } finally {
    mute.close()
    other.close()
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test.run()
