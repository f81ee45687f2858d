import readline from 'node:readline'
import { PassThrough, type Writable } from 'node:stream'
import { InputError, InterruptedError, showValue } from '../errors.ts'

// Questions on a terminal, drawn by @clack/prompts on stderr (stdout is for results and --json). Without a terminal
// (CI, pipes) nothing is asked: a task fails naming the flag, and a prompt reached anyway is an InputError, never a hang.
// The keys reach clack through one gate, which is where this project's rules live:
// - keys typed ahead or pasted wait in a queue and are handed over one at a time, so a block of answers answers the
//   questions that follow in order, each line one answer;
// - an answer the check refuses stays on screen with the rulebook's message, and the lines typed after it are dropped
//   (they were meant for later questions and would now land on the wrong ones);
// - a yes/no question is answered by Enter: y and n only pick, so "yes please" + Enter is Yes and nothing of it
//   reaches the next question (clack alone submits on the y and hands "es please" to whatever is asked next);
// - Ctrl-C is clack's cancel, turned into exit 130 here; Ctrl-D (which clack ignores) or the input ending is exit 2.

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && process.env.CI !== 'true'
}

/** What a question makes of an answer: the value, or what it allows instead (and a hint). */
export type Verdict<T> = { ok: true; value: T } | { ok: false; allowed: string; hint?: string }

export interface Prompts {
  /** Free text; Enter gives the fallback when there is one. */
  text(question: string, fallback?: string): Promise<string>
  /** Asks until check accepts the answer (Enter gives the fallback, which is checked too). */
  ask<T>(question: string, check: (answer: string) => Verdict<T> | Promise<Verdict<T>>, fallback?: string): Promise<T>
  /** Yes or No: y or n (or the arrows) pick, Enter answers; the fallback is picked at first. */
  confirm(question: string, fallback: boolean): Promise<boolean>
  /** An arrow-key menu; with more than SEARCH_ABOVE choices, typing narrows it (type-to-search). */
  choice(question: string, choices: string[]): Promise<string>
}

/** Choices up to this many are a plain menu; more get a search field. */
export const SEARCH_ABOVE = 8

type Key = { name?: string; sequence?: string; ctrl?: boolean; meta?: boolean; shift?: boolean }
type KeyPress = [string | undefined, Key]

export interface TerminalInput extends NodeJS.ReadableStream {
  isTTY?: boolean
  setRawMode?: (raw: boolean) => unknown
}

export interface PromptStreams {
  input: TerminalInput
  output: Writable
  /** Whether questions may be asked at all (default: the input is a terminal and CI is not "true"). */
  canAsk?: () => boolean
}

const LEFT: KeyPress = ['\x1b[D', { name: 'left', sequence: '\x1b[D' }]
const ENTER: KeyPress = ['\r', { name: 'return', sequence: '\r' }]

export function createPrompts({ input, output, canAsk = () => defaultCanAsk(input) }: PromptStreams): Prompts {
  const gate = createKeyGate(input)
  const guard = (question: string) => {
    if (!canAsk()) throw noTerminal(question)
    if (gate.ended()) throw inputEnded()
  }
  const common = (signal: AbortSignal) => ({ input: gate.stream, output: withWidth(output), signal })

  const ask = async <T>(
    question: string,
    check: (answer: string) => Verdict<T> | Promise<Verdict<T>>,
    fallback?: string,
  ): Promise<T> => {
    guard(question)
    const { text, isCancel } = await loadClack()
    let accepted: { value: T } | undefined
    const validate = (typed: string | undefined) => {
      const answer = (typed ?? '').trim()
      const settle = (verdict: Verdict<T>) => {
        if (verdict.ok) {
          accepted = { value: verdict.value }
          return undefined
        }
        accepted = undefined
        return refusal(answer, verdict, gate.dropQueuedLines())
      }
      const verdict = check(answer === '' && fallback !== undefined ? fallback : answer)
      return verdict instanceof Promise ? gate.holdWhile(verdict.then(settle)) : settle(verdict)
    }
    const result = await gate.run((signal) =>
      text({
        ...common(signal),
        message: question,
        ...(fallback === undefined || fallback === '' ? {} : { placeholder: fallback, defaultValue: fallback }),
        validate,
      }),
    )
    if (isCancel(result) || !accepted) throw cancelled(gate)
    return accepted.value
  }

  return {
    ask,
    text: (question, fallback) => ask(question, (answer) => ({ ok: true, value: answer }), fallback),
    async confirm(question, fallback) {
      guard(question)
      const { confirm, isCancel } = await loadClack()
      // clack's confirm toggles on every arrow and submits on y/n: here y and n only move to Yes or No.
      let current = fallback
      const translate = (str: string | undefined, key: Key): KeyPress[] => {
        if (key.name === 'return' || isCtrl(key, 'c')) return [[str, key]]
        if (key.name && ['left', 'right', 'up', 'down'].includes(key.name)) {
          current = !current
          return [[str, key]]
        }
        const letter = str?.toLowerCase()
        if ((letter === 'y' && !current) || (letter === 'n' && current)) {
          current = letter === 'y'
          return [LEFT]
        }
        return []
      }
      const result = await gate.run(
        (signal) => confirm({ ...common(signal), message: question, initialValue: fallback }),
        translate,
      )
      if (isCancel(result)) throw cancelled(gate)
      return result
    },
    async choice(question, choices) {
      guard(question)
      const { autocomplete, select, isCancel } = await loadClack()
      const options = choices.map((value) => ({ value, label: value }))
      const result = await gate.run((signal) =>
        choices.length > SEARCH_ABOVE
          ? autocomplete({
              ...common(signal),
              message: `${question} (type to search)`,
              options,
              maxItems: SEARCH_ABOVE,
              validate: (value) => {
                if (value !== undefined && !(Array.isArray(value) && !value.length)) return undefined
                gate.dropQueuedLines()
                return 'no choice matches what is typed; Backspace to widen the search'
              },
            })
          : select({ ...common(signal), message: question, options }),
      )
      if (isCancel(result) || typeof result !== 'string') throw cancelled(gate)
      return result
    },
  }
}

/**
 * @clack/prompts, loaded when a question is first asked: most runs ask none, and its import (with its four
 * dependencies) cost every task's start ~35 ms of CPU. Keys typed meanwhile wait in the gate, as between questions.
 */
function loadClack(): Promise<typeof import('@clack/prompts')> {
  clack ??= import('@clack/prompts')
  return clack
}
let clack: Promise<typeof import('@clack/prompts')> | undefined

/** The one place where clack's cancel becomes an exit code: the input ended (Ctrl-D) → 2, Ctrl-C → 130. */
function cancelled(gate: KeyGate): Error {
  return gate.ended() ? inputEnded() : new InterruptedError('SIGINT (Ctrl-C at a prompt)')
}

/** `"nope" is not an answer here; allowed: …. Hint: …. The 2 lines typed after it were dropped: …` */
export function refusal(answer: string, verdict: { allowed: string; hint?: string }, dropped: number): string {
  const hint = verdict.hint ? ` Hint: ${verdict.hint.replace(/\.$/, '')}.` : ''
  const lines =
    dropped === 1
      ? 'The line typed after it was dropped: it was meant for a later question.'
      : `The ${dropped} lines typed after it were dropped: they were meant for later questions.`
  const drop = dropped ? ` ${lines}` : ''
  return `${showValue(answer)} is not an answer here; allowed: ${verdict.allowed}.${hint}${drop}`
}

interface KeyGate {
  /** What clack reads: keys are emitted on it one at a time, only while a question waits for them. */
  stream: PassThrough & TerminalInput
  /** Runs one question; `translate` may change or drop each key first. */
  run<R>(
    prompt: (signal: AbortSignal) => Promise<R>,
    translate?: (str: string | undefined, key: Key) => KeyPress[],
  ): Promise<R>
  /** Keys stay queued while `pending` (an answer being checked) runs; the result is passed through. */
  holdWhile<R>(pending: Promise<R>): Promise<R>
  /** Forgets every key typed ahead; returns how many whole lines (Enter) that was. */
  dropQueuedLines(): number
  ended(): boolean
}

function createKeyGate(input: TerminalInput): KeyGate {
  const stream = Object.assign(new PassThrough(), {
    isTTY: true,
    setRawMode(raw: boolean) {
      if (input.isTTY) input.setRawMode?.(raw)
      return stream
    },
  })
  const queue: KeyPress[] = []
  let current: { abort: AbortController; translate?: (str: string | undefined, key: Key) => KeyPress[] } | undefined
  let held = 0
  let ended = false
  let listening = false

  // clack's prompt and its readline both listen for keypresses on the stream while a question is open.
  const open = () => current !== undefined && stream.listenerCount('keypress') > 0 && held === 0
  const pump = () => {
    while (queue.length && open()) {
      const [str, key] = queue.shift() as KeyPress
      if (isCtrl(key, 'd')) {
        end()
        return
      }
      // A line typed while the terminal was cooked arrives with \n: it is the same Enter.
      const typed: KeyPress = key.name === 'enter' ? ENTER : [str, key]
      const keys: KeyPress[] = current?.translate ? current.translate(...typed) : [typed]
      for (const [s, k] of keys) {
        if (!open()) break
        // Escape would be clack's cancel too: only Ctrl-C leaves a question.
        if (k.name === 'escape') continue
        stream.emit('keypress', s, k)
      }
    }
  }
  const onKey = (str: string | undefined, key: Key | undefined) => {
    // Pumped once the whole chunk is queued: a pasted block is one chunk, and what follows a refused line in it must
    // be in the queue to be dropped.
    if (!queue.length) queueMicrotask(pump)
    queue.push([str, key ?? { sequence: str }])
  }
  const end = () => {
    ended = true
    queue.length = 0
    current?.abort.abort()
  }
  readline.emitKeypressEvents(input)
  input.on('end', end)
  input.on('close', end)

  return {
    stream,
    async run(prompt, translate) {
      const abort = new AbortController()
      current = { abort, ...(translate ? { translate } : {}) }
      if (!listening) {
        input.on('keypress', onKey)
        listening = true
      }
      input.resume()
      // clack listens once prompt() has set the question up, synchronously: the queue can flow right after. Ctrl-D or
      // the input ending aborts the question, which clack answers with its cancel value.
      const asked = prompt(abort.signal)
      setImmediate(pump)
      try {
        return await asked
      } finally {
        current = undefined
        // Between questions the terminal is cooked again and nothing reads it: Ctrl-C is a real SIGINT while the task
        // works, typed keys wait in the terminal, and stdin keeps no process alive.
        input.removeListener('keypress', onKey)
        listening = false
        input.pause()
      }
    },
    async holdWhile(pending) {
      held += 1
      try {
        return await pending
      } finally {
        held -= 1
        setImmediate(pump)
      }
    },
    dropQueuedLines() {
      const lines = queue.filter(([, key]) => key.name === 'return' || key.name === 'enter').length
      queue.length = 0
      return lines
    },
    ended: () => ended,
  }
}

/**
 * The output as clack measures it: a terminal that reports no size (a pty nobody sized says 0 × 0) is taken as 80 × 24,
 * or clack would wrap every message at one character and redraw nothing (it redraws only the rows it can see).
 */
function withWidth(output: Writable): Writable {
  return new Proxy(output, {
    get(target, property) {
      if (property === 'columns') return (target as { columns?: number }).columns || 80
      if (property === 'rows') return (target as { rows?: number }).rows || 24
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function isCtrl(key: Key, name: string): boolean {
  return Boolean(key.ctrl && key.name === name)
}

function defaultCanAsk(input: TerminalInput): boolean {
  return Boolean(input.isTTY) && process.env.CI !== 'true'
}

const inputEnded = () => new InputError([], 'No answer: the input ended (Ctrl-D) at a prompt; nothing was changed.')

const noTerminal = (question: string) =>
  new InputError(
    [],
    `No terminal to ask ${JSON.stringify(question)} on (stdin is not a terminal, or CI=true): pass the flag that answers it; nothing was changed.`,
  )

let prompts: Prompts | undefined

function terminalPrompts(): Prompts {
  prompts ??= createPrompts({ input: process.stdin, output: process.stderr, canAsk: isInteractive })
  return prompts
}

export async function promptText(question: string, fallback?: string): Promise<string> {
  return terminalPrompts().text(question, fallback)
}

export async function promptAsk<T>(
  question: string,
  check: (answer: string) => Verdict<T> | Promise<Verdict<T>>,
  fallback?: string,
): Promise<T> {
  return terminalPrompts().ask(question, check, fallback)
}

export async function promptConfirm(question: string, fallback: boolean): Promise<boolean> {
  return terminalPrompts().confirm(question, fallback)
}

export async function promptChoice(question: string, choices: string[]): Promise<string> {
  return terminalPrompts().choice(question, choices)
}
