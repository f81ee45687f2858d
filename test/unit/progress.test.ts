import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createOutput, type OutputOptions } from '../../lib/cli/output.ts'
import { formatProgress, type ProgressTerminal, progressWanted, startFleetProgress } from '../../lib/cli/progress.ts'
import type { Server } from '../../lib/types.ts'

// The live progress line: what it says, redrawn in place, erased at the end; only on a terminal outside CI.

const server = (name: string) => ({ name }) as Server
const PLAIN: OutputOptions = { json: false, quiet: false, verbose: false }
const outputWith = (options: Partial<OutputOptions> = {}) => createOutput({ ...PLAIN, ...options })

function terminal(isTTY = true, columns = 80): ProgressTerminal & { text: () => string } {
  const chunks: string[] = []
  return { isTTY, columns, write: (chunk: string) => chunks.push(chunk), text: () => chunks.join('') }
}

test('the line counts done (failed included), failed and running', () => {
  assert.is(formatProgress(48, 31, 1, 16), '31/48 done, 1 failed, 16 running')
})

test('redrawn in place with \\r, erased at the end', () => {
  const screen = terminal()
  const progress = startFleetProgress(outputWith(), 3, screen, {})
  progress.onEvent({ kind: 'started', server: server('a') })
  progress.onEvent({ kind: 'started', server: server('b') })
  progress.onEvent({ kind: 'finished', server: server('a'), ok: false })
  progress.end()
  const frames = screen.text().split('\r\x1b[2K')
  assert.equal(frames, [
    '',
    '0/3 done, 0 failed, 1 running',
    '0/3 done, 0 failed, 2 running',
    '1/3 done, 1 failed, 1 running',
    '',
  ])
  assert.not.match(screen.text(), '\n', 'never a new line: the per-server lines come after')
})

test('cut to the terminal width, so \\r redraws the whole of it', () => {
  const screen = terminal(true, 12)
  const progress = startFleetProgress(outputWith(), 300, screen, {})
  progress.onEvent({ kind: 'started', server: server('a') })
  progress.end()
  assert.ok(screen.text().includes('\r\x1b[2K0/300 done,') && !screen.text().includes('0/300 done, '), screen.text())
})

test('a terminal without a size (a bare pty says 0 columns) gets the whole line', () => {
  const screen = terminal(true, 0)
  const progress = startFleetProgress(outputWith(), 2, screen, {})
  progress.onEvent({ kind: 'started', server: server('a') })
  assert.ok(screen.text().endsWith('0/2 done, 0 failed, 1 running'))
  progress.end()
})

test('only for a person at a terminal: not in CI, not with --quiet, --json or --verbose, not without a terminal', () => {
  assert.ok(progressWanted(outputWith(), terminal(), {}))
  assert.ok(progressWanted(outputWith(), terminal(), { CI: 'false' }))
  assert.not.ok(progressWanted(outputWith(), terminal(), { CI: 'true' }))
  assert.not.ok(progressWanted(outputWith(), terminal(), { CI: '1' }))
  assert.not.ok(progressWanted(outputWith({ quiet: true }), terminal(), {}))
  assert.not.ok(progressWanted(outputWith({ json: true }), terminal(), {}))
  assert.not.ok(progressWanted(outputWith({ verbose: true }), terminal(), {}))
  assert.not.ok(progressWanted(outputWith(), terminal(false), {}))
  const screen = terminal()
  const silent = startFleetProgress(outputWith(), 2, screen, { CI: 'true' })
  silent.onEvent({ kind: 'started', server: server('a') })
  silent.end()
  assert.is(screen.text(), '')
})

test('Ctrl-C erases the line before the frame prints "interrupted", and the listener goes with end()', () => {
  const frame = () => {}
  process.on('SIGINT', frame)
  try {
    const screen = terminal()
    const progress = startFleetProgress(outputWith(), 2, screen, {})
    progress.onEvent({ kind: 'started', server: server('a') })
    assert.is(process.listenerCount('SIGINT'), 2)
    ;(process.listeners('SIGINT')[0] as () => void)()
    assert.ok(screen.text().endsWith('\r\x1b[2K'))
    progress.end()
    assert.is(process.listenerCount('SIGINT'), 1)
  } finally {
    process.removeListener('SIGINT', frame)
  }
})

test('no signal listener of its own when nobody handles the signal (Ctrl-C must still end the process)', () => {
  const before = process.listenerCount('SIGINT')
  const progress = startFleetProgress(outputWith(), 1, terminal(), {})
  assert.is(process.listenerCount('SIGINT'), before)
  progress.end()
})

test.run()
