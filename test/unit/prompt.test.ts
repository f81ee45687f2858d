import { PassThrough } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createPrompts, type Prompts, refusal, SEARCH_ABOVE } from '../../lib/cli/prompt.ts'
import { EXIT, InputError, InterruptedError } from '../../lib/errors.ts'
import { rejected } from '../helpers/input-error.ts'

// The prompt wrapper over @clack/prompts on a pair of plain streams posing as a terminal: which keys answer what, what
// typed-ahead keys answer, and how Ctrl-C, Ctrl-D and a missing terminal become exit codes.

const DOWN = '\x1b[B'

/** Prompts on a fake terminal; type() sends keys as a person or a paste would, until() waits for what was drawn. */
function terminal(options: { tty?: boolean; canAsk?: boolean | 'default' } = {}) {
  const input = Object.assign(new PassThrough(), {
    isTTY: options.tty ?? true,
    raw: false,
    setRawMode(raw: boolean) {
      input.raw = raw
      return input
    },
  })
  // Wide enough that no message is wrapped.
  const output = Object.assign(new PassThrough(), { columns: 300 })
  let written = ''
  output.on('data', (chunk: Buffer) => {
    written += chunk.toString()
  })
  const count = (text: string) => written.split(text).length - 1
  const prompts: Prompts = createPrompts({
    input,
    output,
    // A fake terminal may ask even when this suite runs with CI=true; 'default' keeps the real rule.
    ...(options.canAsk === 'default' ? {} : { canAsk: () => (options.canAsk ?? options.tty ?? true) as boolean }),
  })
  return {
    prompts,
    input,
    type: (keys: string) => input.write(keys),
    end: () => input.end(),
    written: () => written,
    /** Resolves once `text` was drawn `times` times; fails after a deadline. */
    async until(text: string, times = 1) {
      const deadline = Date.now() + 5_000
      while (count(text) < times) {
        if (Date.now() > deadline)
          throw new Error(`never written ${times}×: ${JSON.stringify(text)}; written: ${JSON.stringify(written)}`)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    },
  }
}

test('a yes/no question: y and n pick, Enter answers; "yes please" + Enter is Yes and nothing reaches the next question', async () => {
  const t = terminal()
  const sure = t.prompts.confirm('Restart on exit?', false)
  await t.until('Restart on exit?')
  t.type('yes please\r')
  assert.is(await sure, true)
  const stopwait = t.prompts.text('Stop wait seconds:', '3600')
  await t.until('Stop wait seconds:')
  t.type('60\r')
  assert.is(await stopwait, '60', 'no "es please" carried into the next question')
})

test('a yes/no question: Enter alone is the fallback; n then Enter is No; the arrows toggle', async () => {
  const t = terminal()
  const first = t.prompts.confirm('Start on supervisord start?', true)
  await t.until('Start on supervisord start?')
  t.type('\r')
  assert.is(await first, true)
  const second = t.prompts.confirm('Restart on exit?', true)
  await t.until('Restart on exit?')
  t.type('nope\r')
  assert.is(await second, false, 'the n picks No; the other letters do nothing')
  const third = t.prompts.confirm('Sure?', false)
  await t.until('Sure?')
  t.type('\x1b[D\r')
  assert.is(await third, true)
  assert.is(t.input.raw, false, 'the terminal is cooked again between questions')
})

test('a block typed ahead or pasted answers the next questions in order, one line each (Enter = the default)', async () => {
  const t = terminal()
  t.type('n\r\r60\r2\r')
  assert.is(await t.prompts.confirm('Start on supervisord start?', true), false)
  assert.is(await t.prompts.confirm('Restart on exit?', true), true)
  assert.is(await t.prompts.text('Stop wait seconds:', '3600'), '60')
  assert.is(await t.prompts.text('Number of processes:', '1'), '2')
})

const positive = (answer: string) =>
  /^[1-9]\d*$/.test(answer)
    ? { ok: true as const, value: Number(answer) }
    : { ok: false as const, allowed: 'a positive integer', hint: 'digits only' }

test('a refused answer stays on screen with the message; the lines pasted after it are dropped, not answers', async () => {
  const t = terminal()
  const numprocs = t.prompts.ask('Number of processes:', positive, '1')
  await t.until('Number of processes:')
  t.type('two\r5\r6\r')
  await t.until('"two" is not an answer here; allowed: a positive integer. Hint: digits only.')
  assert.match(t.written(), 'The 2 lines typed after it were dropped: they were meant for later questions.')
  // The typed text is kept: three Backspaces remove it.
  t.type('\x7f\x7f\x7f3\r')
  assert.is(await numprocs, 3)
})

test('Enter on an empty answer gives the fallback, which is checked too', async () => {
  const t = terminal()
  const numprocs = t.prompts.ask('Number of processes:', positive, '1')
  await t.until('Number of processes:')
  t.type('\r')
  assert.is(await numprocs, 1)
})

test('an async check keeps the question on screen; keys typed while it runs wait for its verdict', async () => {
  const t = terminal()
  let checks = 0
  const slow = async (answer: string) => {
    checks += 1
    await new Promise((resolve) => setTimeout(resolve, 50))
    return answer === 'ok' ? { ok: true as const, value: answer } : { ok: false as const, allowed: 'ok' }
  }
  const dir = t.prompts.ask('App directory:', slow)
  await t.until('App directory:')
  t.type('ko\r')
  await t.until('"ko" is not an answer here; allowed: ok.')
  t.type('\x7f\x7fok\r')
  assert.is(await dir, 'ok')
  assert.is(checks, 2)
})

test('a choice is an arrow-key menu', async () => {
  const t = terminal()
  const site = t.prompts.choice('Select site:', ['a.test', 'b.test', 'c.test'])
  await t.until('c.test')
  t.type(`${DOWN}${DOWN}\r`)
  assert.is(await site, 'c.test')
  assert.not.match(t.written(), 'type to search')
})

test(`more than ${SEARCH_ABOVE} choices: typing narrows the menu; no match is not an answer`, async () => {
  const t = terminal()
  const sites = Array.from({ length: 12 }, (_, i) => `site-${i + 1}.test`)
  const site = t.prompts.choice('Select site:', sites)
  await t.until('Select site: (type to search)')
  t.type('zz\r')
  await t.until('no choice matches what is typed')
  t.type('\x7f\x7f11\r')
  assert.is(await site, 'site-11.test')
})

test('Ctrl-C at a question is exit 130 (InterruptedError), for every kind of question', async () => {
  const asks: Array<[string, (p: Prompts) => Promise<unknown>]> = [
    ['text', (p) => p.text('Name:')],
    ['confirm', (p) => p.confirm('Sure?', false)],
    ['choice', (p) => p.choice('Select site:', ['a.test', 'b.test'])],
  ]
  for (const [kind, ask] of asks) {
    const t = terminal()
    const answer = ask(t.prompts)
    await t.until('└')
    t.type('\x03')
    const error = await rejected(() => answer, InterruptedError)
    assert.is(error.exitCode, EXIT.interrupted, kind)
  }
})

test('Ctrl-D at a question, or the input ending, is exit 2 (InputError); later questions fail at once', async () => {
  const t = terminal()
  const answer = t.prompts.text('Name:')
  await t.until('Name:')
  t.type('half\x04')
  const error = await rejected(() => answer, InputError)
  assert.is(error.exitCode, EXIT.badInput)
  assert.match(error.message, 'No answer: the input ended (Ctrl-D) at a prompt; nothing was changed.')
  await rejected(() => t.prompts.confirm('Sure?', false), InputError)

  const closed = terminal()
  const pending = closed.prompts.choice('Select site:', ['a.test', 'b.test'])
  await closed.until('Select site:')
  closed.end()
  assert.is((await rejected(() => pending, InputError)).exitCode, EXIT.badInput)
})

test('without a terminal (or with CI=true) nothing is asked: exit 2, nothing drawn', async () => {
  const previousCi = process.env.CI
  process.env.CI = 'true'
  const withCi = terminal({ canAsk: 'default' })
  const ciRefuses = await rejected(() => withCi.prompts.text('Name:'), InputError).finally(() => {
    if (previousCi === undefined) delete process.env.CI
    else process.env.CI = previousCi
  })
  assert.match(ciRefuses.message, 'No terminal to ask', 'the default rule: CI=true never asks, even on a terminal')
  assert.is(withCi.written(), '')
  for (const t of [terminal({ tty: false, canAsk: 'default' }), terminal({ canAsk: false })]) {
    for (const ask of [
      () => t.prompts.text('Name:'),
      () => t.prompts.confirm('Sure?', false),
      () => t.prompts.choice('Select site:', ['a.test']),
    ]) {
      const error = await rejected(ask, InputError)
      assert.is(error.exitCode, EXIT.badInput)
      assert.match(error.message, 'No terminal to ask')
    }
    assert.is(t.written(), '')
  }
})

test('the refusal names the answer, what is allowed, the hint and what was dropped', () => {
  assert.is(refusal('nope', { allowed: 'y or n' }, 0), '"nope" is not an answer here; allowed: y or n.')
  assert.is(
    refusal('0', { allowed: 'a positive integer', hint: 'it must be at least 1' }, 1),
    '"0" is not an answer here; allowed: a positive integer. Hint: it must be at least 1. The line typed after it was dropped: it was meant for a later question.',
  )
  assert.match(
    refusal('a\nb', { allowed: 'x' }, 3),
    /^"a\\nb" is not an answer here; allowed: x\. The 3 lines typed after it were dropped/,
  )
})

test.run()
