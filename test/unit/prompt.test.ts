import { PassThrough } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createPrompts, parseChoice, parseYesNo, refusal } from '../../lib/cli/prompt.ts'
import { inputErrorAsync } from '../helpers/input-error.ts'

// The prompt layer on plain streams: which answers count, asking again, and what typed-ahead lines answer.

const YES_NO: Array<[string, boolean, boolean | 'asked again']> = [
  ['y', false, true],
  ['Y', false, true],
  ['yes', false, true],
  ['YES', false, true],
  ['Yes', false, true],
  ['  y  ', false, true],
  ['n', true, false],
  ['N', true, false],
  ['no', true, false],
  ['NO', true, false],
  ['No', true, false],
  ['', true, true],
  ['', false, false],
  ['   ', true, true],
  ['nope', true, 'asked again'],
  ['yes please', true, 'asked again'],
  ['yep', false, 'asked again'],
  ['nah', true, 'asked again'],
  ['y es', true, 'asked again'],
  ['ye', true, 'asked again'],
  ['1', true, 'asked again'],
  ['true', true, 'asked again'],
  ['0', false, 'asked again'],
  ['no!', true, 'asked again'],
]

for (const [answer, fallback, expected] of YES_NO) {
  test(`[${fallback ? 'Y/n' : 'y/N'}] ${JSON.stringify(answer)} → ${expected}`, () => {
    const verdict = parseYesNo(answer, fallback)
    if (expected === 'asked again') {
      assert.not.ok(verdict.ok)
      if (!verdict.ok)
        assert.is(verdict.allowed, `y, yes, n or no (any case), or Enter for the default (${fallback ? 'Yes' : 'No'})`)
    } else {
      assert.equal(verdict, { ok: true, value: expected })
    }
  })
}

test('a choice is a number in range or a choice typed out; anything else is asked again', () => {
  const choices = ['a.test', 'b.test']
  assert.equal(parseChoice('2', choices), { ok: true, value: 'b.test' })
  assert.equal(parseChoice('a.test', choices), { ok: true, value: 'a.test' })
  for (const bad of ['0', '3', 'c.test', '1 2', '']) assert.not.ok(parseChoice(bad, choices).ok, bad)
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

/** Prompts on a pair of plain streams; type() sends keys, and until() waits for what the prompts wrote. */
function terminal() {
  const input = new PassThrough()
  const output = new PassThrough()
  let written = ''
  output.on('data', (chunk: Buffer) => {
    written += chunk.toString()
  })
  const count = (text: string) => written.split(text).length - 1
  return {
    prompts: createPrompts(input, output),
    type: (keys: string) => input.write(keys),
    end: () => input.end(),
    written: () => written,
    /** Resolves once `text` was written `times` times; fails after a deadline. */
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

test('an unclear answer is asked again until a clear one comes; it is never taken as No', async () => {
  const t = terminal()
  const answer = t.prompts.confirm('Restart on exit?', true)
  await t.until('Restart on exit? [Y/n] ')
  t.type('yes please\n')
  await t.until('Restart on exit? [Y/n] ', 2)
  t.type('nope\n')
  await t.until('Restart on exit? [Y/n] ', 3)
  t.type('YES\n')
  assert.is(await answer, true)
  assert.match(
    t.written(),
    '"yes please" is not an answer here; allowed: y, yes, n or no (any case), or Enter for the default (Yes).',
  )
  assert.match(t.written(), '"nope" is not an answer here')
})

test('a block of lines typed ahead answers the next questions, one line each (Enter = the default)', async () => {
  const t = terminal()
  t.type('n\n\n60\n')
  assert.is(await t.prompts.confirm('Start on supervisord start?', true), false)
  assert.is(await t.prompts.confirm('Restart on exit?', true), true)
  assert.is(await t.prompts.text('Stop wait seconds:', '3600'), '60')
  assert.match(
    t.written(),
    'Restart on exit? [Y/n] \nStop wait seconds: [3600] 60\n',
    'an answer taken from the queue is shown after its question',
  )
})

const PASTED_AFTER_A_REFUSED_ANSWER: Array<[string, string, number]> = [
  ['at the question itself', 'nope\nn\n\n60\n', 3],
  ['typed ahead of the question', 'nope\nn\n', 1],
]

for (const [name, pasted, dropped] of PASTED_AFTER_A_REFUSED_ANSWER) {
  test(`lines pasted after a refused answer are dropped, never given to the question asked again or the next (${name})`, async () => {
    const t = terminal()
    if (name.startsWith('typed ahead')) t.type(pasted)
    const first = t.prompts.confirm('Start on supervisord start?', true)
    await t.until('Start on supervisord start? [Y/n] ')
    if (!name.startsWith('typed ahead')) t.type(pasted)
    await t.until(`typed after it ${dropped === 1 ? 'was' : 'were'} dropped`)
    await t.until('Start on supervisord start? [Y/n] ', 2)
    t.type('y\n')
    assert.is(await first, true)
    const second = t.prompts.confirm('Restart on exit?', true)
    await t.until('Restart on exit? [Y/n] ')
    t.type('n\n')
    assert.is(await second, false)
    assert.match(
      t.written(),
      dropped === 1 ? 'The line typed after it was dropped' : `The ${dropped} lines typed after it were dropped`,
    )
  })
}

test('a half-typed line after a refused answer is kept: finished later, it is checked like any answer, never a silent default', async () => {
  const t = terminal()
  const answer = t.prompts.confirm('Start on supervisord start?', true)
  await t.until('Start on supervisord start? [Y/n] ')
  t.type('nope\nn\nhal')
  await t.until('Start on supervisord start? [Y/n] ', 2)
  t.type('f\n')
  await t.until('Start on supervisord start? [Y/n] ', 3)
  t.type('n\n')
  assert.is(await answer, false)
  assert.match(t.written(), 'The line typed after it was dropped')
  assert.match(t.written(), '"half" is not an answer here')
})

test('ask re-asks until the check accepts; Enter gives the fallback, which is checked too', async () => {
  const t = terminal()
  const positive = (answer: string) =>
    /^[1-9]\d*$/.test(answer)
      ? { ok: true as const, value: Number(answer) }
      : { ok: false as const, allowed: 'a positive integer', hint: 'digits only' }
  const numprocs = t.prompts.ask('Number of processes:', positive, '1')
  await t.until('Number of processes: [1] ')
  t.type('two\n')
  await t.until('Number of processes: [1] ', 2)
  t.type('\n')
  assert.is(await numprocs, 1)
  assert.match(t.written(), '"two" is not an answer here; allowed: a positive integer. Hint: digits only.')
})

test('a choice answered out of range is asked again', async () => {
  const t = terminal()
  const site = t.prompts.choice('Select site:', ['a.test', 'b.test'])
  await t.until('> ')
  t.type('3\n')
  await t.until('> ', 2)
  t.type('b.test\n')
  assert.is(await site, 'b.test')
  assert.match(t.written(), 'Select site:\n  1) a.test\n  2) b.test\n')
  assert.match(
    t.written(),
    '"3" is not an answer here; allowed: a number from 1 to 2, or one of the choices typed out.',
  )
})

test('the input ending at a question is an InputError (exit 2), also while asking again', async () => {
  const t = terminal()
  const answer = t.prompts.confirm('Sure?', false)
  await t.until('Sure? [y/N] ')
  t.type('maybe\n')
  await t.until('Sure? [y/N] ', 2)
  t.end()
  const error = await inputErrorAsync(() => answer)
  assert.match(error.message, 'No answer: the input ended (Ctrl-D) at a prompt')
})

test.run()
