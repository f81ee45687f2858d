import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createOutput, type OutputOptions } from '../../lib/cli/output.ts'
import { startFleetProgress } from '../../lib/cli/progress.ts'
import { defineTask } from '../../lib/cli/run-task.ts'
import { type StatusClock, showWaits } from '../../lib/cli/spinner.ts'
import type { CommandResult, Connection, Session } from '../../lib/remote/connection.ts'
import type { Server } from '../../lib/types.ts'
import { LOCAL_SERVER } from '../helpers/local-server.ts'

// The status line at a terminal: a wait on a server that lasts over a second with nothing printed shows a spinner on
// stderr, every line the output writes erases it first, and it never shows with --json, --quiet, in CI or in a pipe.
// Time is a fake clock: the test moves it, nothing sleeps.

const ERASE = '\r\x1b[2K'
const PLAIN: OutputOptions = { json: false, quiet: false, verbose: false }

interface FakeClock extends StatusClock {
  advance(ms: number): void
  timers(): number
}

function fakeClock(): FakeClock {
  let now = 1_000_000
  const timers = new Set<{ ms: number; tick: () => void; next: number }>()
  return {
    now: () => now,
    every(ms, tick) {
      const timer = { ms, tick, next: now + ms }
      timers.add(timer)
      return { stop: () => timers.delete(timer) }
    },
    advance(ms) {
      const until = now + ms
      for (;;) {
        const due = [...timers].filter((t) => t.next <= until).sort((a, b) => a.next - b.next)[0]
        if (!due) break
        now = due.next
        due.next += due.ms
        due.tick()
      }
      now = until
    },
    timers: () => timers.size,
  }
}

/** stdout and stderr of one terminal: what each wrote, in the order it was written. */
function fakeTerminal(tty: { out?: boolean; err?: boolean } = {}, columns = 200) {
  const log: { stream: 'out' | 'err'; text: string }[] = []
  const stream = (name: 'out' | 'err', isTTY: boolean) =>
    ({
      isTTY,
      columns,
      write: (text: string) => {
        log.push({ stream: name, text })
        return true
      },
    }) as unknown as NodeJS.WritableStream
  return {
    streams: { out: stream('out', tty.out ?? true), err: stream('err', tty.err ?? true) },
    /** Everything, as the terminal received it. */
    all: () => log.map((l) => l.text).join(''),
    err: () =>
      log
        .filter((l) => l.stream === 'err')
        .map((l) => l.text)
        .join(''),
    /** What the bottom line shows now: the text after the last erase on stderr, if nothing came after it. */
    line: () => {
      const last = log.at(-1)
      if (last?.stream !== 'err' || !last.text.startsWith(ERASE)) return ''
      return last.text.slice(ERASE.length)
    },
    mark: () => log.length,
    since: (mark: number) => log.slice(mark),
  }
}

function setup(options: Partial<OutputOptions> = {}, env: NodeJS.ProcessEnv = {}, tty = {}) {
  const clock = fakeClock()
  const screen = fakeTerminal(tty)
  const output = createOutput({ ...PLAIN, ...options }, screen.streams, { env, clock })
  return { clock, screen, output }
}

test('a wait under a second draws nothing; past it a spinner names the server and counts the seconds', () => {
  const { clock, screen, output } = setup()
  const status = output.status
  assert.ok(status)
  const done = status.wait('web-1')
  clock.advance(900)
  assert.is(screen.all(), '')
  clock.advance(200)
  assert.match(screen.line(), /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting on web-1 \(1 s\)$/)
  const first = screen.line()
  clock.advance(100)
  assert.is.not(screen.line(), first, 'the spinner turns')
  clock.advance(2000)
  assert.match(screen.line(), /waiting on web-1 \(3 s\)$/)
  assert.not.match(screen.all(), '\n', 'redrawn in place, never a new line')
  done()
  clock.advance(2100)
  assert.is(screen.line(), '', 'erased once the server is no longer waited on')
  assert.ok(screen.all().endsWith(ERASE))
  assert.is(clock.timers(), 0, 'no timer left running')
})

test('every line the output writes erases the spinner first; it comes back after another quiet second', () => {
  const { clock, screen, output } = setup()
  const done = output.status?.wait('web-1')
  clock.advance(1500)
  assert.ok(screen.line())
  const mark = screen.mark()
  output.server('web-1', 'waiting for app.test-worker to stop')
  output.warn('a warning')
  assert.equal(screen.since(mark), [
    { stream: 'err', text: ERASE },
    { stream: 'out', text: 'web-1  waiting for app.test-worker to stop\n' },
    { stream: 'err', text: 'warning: a warning\n' },
  ])
  clock.advance(900)
  assert.is(screen.since(mark).length, 3, 'not back within a second of the last line')
  clock.advance(200)
  assert.match(screen.line(), /waiting on web-1 \(2 s\)$/, 'the seconds count from the start of the wait')
  done?.()
  output.status?.end()
  assert.is(screen.line(), '')
})

test('a note says what the server is waited for; several servers are named, many counted', () => {
  const { clock, screen, output } = setup()
  const status = output.status
  assert.ok(status)
  status.note('web-1', 'waiting for app.test-worker to stop')
  const one = status.wait('web-1')
  clock.advance(3100)
  assert.match(screen.line(), / web-1: waiting for app.test-worker to stop \(3 s\)$/)
  const two = status.wait('web-2')
  clock.advance(100)
  assert.match(screen.line(), / waiting on web-1, web-2 \(3 s\)$/)
  const more = ['web-3', 'web-4'].map((s) => status.wait(s))
  clock.advance(100)
  assert.match(screen.line(), / waiting on 4 servers \(3 s\)$/)
  for (const done of [one, two, ...more]) done()
  status.end()
  assert.is(screen.line(), '')
  assert.is(clock.timers(), 0)
})

test('a poll loop (a command, a pause, a command) is one wait, not many short ones', () => {
  const { clock, screen, output } = setup()
  for (let i = 0; i < 3; i++) {
    const done = output.status?.wait('web-1')
    clock.advance(200)
    done?.()
    clock.advance(800)
  }
  assert.match(screen.line(), /waiting on web-1 \(3 s\)$/)
  output.status?.end()
})

test('the fleet count is drawn at once; a long wait turns it into a spinner with the server after it', () => {
  const { clock, screen, output } = setup()
  const progress = startFleetProgress(output, 2)
  const a = { name: 'web-1' } as Server
  progress.onEvent({ kind: 'started', server: a })
  assert.is(screen.line(), '0/2 done, 0 failed, 1 running')
  const done = output.status?.wait('web-1')
  clock.advance(1100)
  assert.match(screen.line(), /^. 0\/2 done, 0 failed, 1 running · waiting on web-1 \(1 s\)$/)
  output.info('a line')
  clock.advance(100)
  assert.is(screen.line(), '0/2 done, 0 failed, 1 running', 'the count is back at once, the spinner after a second')
  clock.advance(1000)
  done?.()
  progress.onEvent({ kind: 'finished', server: a, ok: true })
  assert.is(screen.line(), '1/2 done, 0 failed, 0 running', 'a server that is done is no longer waited on')
  clock.advance(500)
  assert.is(screen.line(), '1/2 done, 0 failed, 0 running')
  progress.end()
  assert.is(screen.line(), '')
  output.status?.end()
  assert.is(clock.timers(), 0)
})

test('cut to the terminal width, so \\r redraws the whole of it', () => {
  const clock = fakeClock()
  const screen = fakeTerminal({}, 20)
  const output = createOutput(PLAIN, screen.streams, { env: {}, clock })
  output.status?.wait('a-server-with-a-long-name')
  clock.advance(1100)
  assert.is(screen.line().length, 19)
  output.status?.end()
  output.status?.stop()
})

test('never with --json or --quiet, in CI, or when stdout or stderr is not a terminal', () => {
  const cases: [string, ReturnType<typeof setup>][] = [
    ['--json', setup({ json: true })],
    ['--quiet', setup({ quiet: true })],
    ['CI=true', setup({}, { CI: 'true' })],
    ['CI=1', setup({}, { CI: '1' })],
    ['stdout piped', setup({}, {}, { out: false })],
    ['stderr piped', setup({}, {}, { err: false })],
  ]
  for (const [name, { output, screen, clock }] of cases) {
    assert.is(output.status, undefined, name)
    const progress = startFleetProgress(output, 1, { isTTY: false, write: () => undefined })
    progress.onEvent({ kind: 'started', server: { name: 'web-1' } as Server })
    clock.advance(5000)
    output.warn('a line')
    progress.end()
    assert.is(screen.all(), 'warning: a line\n', name)
  }
  assert.ok(setup({}, { CI: 'false' }).output.status, 'CI=false is not CI')
  assert.ok(setup({ verbose: true }).output.status, '--verbose: its lines go through the output too')
})

test('--verbose: the spinner yes (each command line erases it), the fleet count no (as before)', () => {
  const { clock, screen, output } = setup({ verbose: true })
  const progress = startFleetProgress(output, 1)
  progress.onEvent({ kind: 'started', server: { name: 'web-1' } as Server })
  assert.is(screen.all(), '')
  output.status?.wait('web-1')
  clock.advance(1100)
  assert.match(screen.line(), /waiting on web-1 \(1 s\)$/)
  output.status?.end()
})

test('stop: erased for good (Ctrl-C); an exit while drawn erases the line', () => {
  const { clock, screen, output } = setup()
  const before = process.listenerCount('exit')
  const done = output.status?.wait('web-1')
  clock.advance(1100)
  assert.is(process.listenerCount('exit'), before + 1, 'an exit would erase the line')
  output.status?.stop()
  assert.is(screen.line(), '')
  assert.is(process.listenerCount('exit'), before)
  clock.advance(5000)
  output.status?.wait('web-2')
  clock.advance(5000)
  assert.ok(screen.all().endsWith(ERASE), 'nothing drawn after stop')
  done?.()
})

const LOCAL = LOCAL_SERVER

test('showWaits: each command of a connection is a wait on its server; opening the connection is not', async () => {
  const { clock, screen, output } = setup()
  let finish: (result: CommandResult) => void = () => undefined
  let connected: (connection: Connection) => void = () => undefined
  const connection = {
    server: LOCAL,
    run: () => new Promise<CommandResult>((resolve) => (finish = resolve)),
  } as unknown as Connection
  const session: Session = {
    connect: () => new Promise((resolve) => (connected = resolve)),
    closeAll: async () => undefined,
  }
  const watched = showWaits(session, output.status)
  const opening = watched.connect(LOCAL)
  clock.advance(3000)
  assert.is(screen.all(), '', 'a connection being opened: ssh may be asking on the terminal')
  connected(connection)
  const running = (await opening).run(['true'])
  clock.advance(1100)
  assert.match(screen.line(), /waiting on here \(1 s\)$/)
  finish({ stdout: 'ok', stderr: '', exitCode: 0 })
  assert.is((await running).stdout, 'ok')
  clock.advance(2100)
  assert.is(screen.line(), '')
  assert.is(showWaits(session, undefined), session, 'without a status line the session is the same')
})

test('the frame: a task at a terminal gets a watched session, and its line is gone when the task ends', async () => {
  const { clock, screen, output } = setup()
  let during = ''
  const task = defineTask(
    { name: 'wait', summary: 'waits on a server', flags: [], common: ['timeout'], examples: [] },
    async ({ session }) => {
      const connection = await session.connect(LOCAL)
      const running = connection.run(['sleep', '0.2'])
      clock.advance(1100)
      during = screen.line()
      await running
      output.info('done')
    },
  )
  assert.is(await task.run([], { output }), 0)
  assert.match(during, /waiting on here \(1 s\)$/)
  assert.ok(screen.all().endsWith(`${ERASE}done\n`), JSON.stringify(screen.all()))
  assert.is(clock.timers(), 0, 'the frame ended the line: no timer left')
})

test.run()
