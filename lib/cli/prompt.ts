import readline from 'node:readline'
import { InputError, showValue } from '../errors.ts'

// Prompts only on a terminal: without one (CI, pipes) a task must fail with a message naming the flag, never hang.
// One line reader serves the whole run, as in any line-reading terminal program: each line is one answer, and lines
// typed ahead or pasted wait in a queue for the questions that follow. Only an answer the question allows counts;
// anything else is refused and asked again, and whatever was typed after the refused line is dropped: it was meant
// for later questions, and the question asked again would shift it onto the wrong ones.

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
  /** [Y/n] or [y/N]: y, yes, n or no in any case, Enter for the fallback; anything else is asked again. */
  confirm(question: string, fallback: boolean): Promise<boolean>
  /** A numbered choice; the answer is a number or one of the choices typed out. */
  choice(question: string, choices: string[]): Promise<string>
}

interface LineReader {
  next(question: string): Promise<string>
  /** Forgets every whole line typed ahead; returns how many lines that was. */
  dropTypedAhead(): number
}

export function createPrompts(
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown },
  output: NodeJS.WritableStream,
): Prompts {
  const reader = createLineReader(input, output)
  const ask = async <T>(
    question: string,
    check: (answer: string) => Verdict<T> | Promise<Verdict<T>>,
    fallback?: string,
  ): Promise<T> => {
    const shown = `${question}${fallback === undefined ? '' : ` [${fallback}]`} `
    for (;;) {
      const typed = (await reader.next(shown)).trim()
      const verdict = await check(typed === '' && fallback !== undefined ? fallback : typed)
      if (verdict.ok) return verdict.value
      output.write(`${refusal(typed, verdict, reader.dropTypedAhead())}\n`)
    }
  }
  return {
    ask,
    text: (question, fallback) => ask(question, (answer) => ({ ok: true, value: answer }), fallback),
    confirm: (question, fallback) =>
      ask(`${question} ${fallback ? '[Y/n]' : '[y/N]'}`, (answer) => parseYesNo(answer, fallback)),
    async choice(question, choices) {
      output.write(`${question}\n${choices.map((c, i) => `  ${i + 1}) ${c}`).join('\n')}\n`)
      return ask('>', (answer) => parseChoice(answer, choices))
    },
  }
}

/** A clear yes or no, or the fallback for an empty answer; nothing else ("nope", "yes please") counts as either. */
export function parseYesNo(answer: string, fallback: boolean): Verdict<boolean> {
  const word = answer.trim().toLowerCase()
  if (word === '') return { ok: true, value: fallback }
  if (word === 'y' || word === 'yes') return { ok: true, value: true }
  if (word === 'n' || word === 'no') return { ok: true, value: false }
  return { ok: false, allowed: `y, yes, n or no (any case), or Enter for the default (${fallback ? 'Yes' : 'No'})` }
}

export function parseChoice(answer: string, choices: string[]): Verdict<string> {
  const picked = /^\d+$/.test(answer) ? choices[Number(answer) - 1] : choices.find((c) => c === answer)
  return picked === undefined
    ? { ok: false, allowed: `a number from 1 to ${choices.length}, or one of the choices typed out` }
    : { ok: true, value: picked }
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

function createLineReader(
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown },
  output: NodeJS.WritableStream,
): LineReader {
  const queued: string[] = []
  let waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined
  let ended = false
  const rl = readline.createInterface({ input, output })
  rl.on('line', (line) => {
    const question = waiting
    waiting = undefined
    if (question) question.resolve(line)
    else queued.push(line)
  })
  // The terminal is raw while a question waits, so Ctrl-C arrives here as a key: make it the signal it is elsewhere.
  rl.on('SIGINT', () => {
    output.write('\n')
    process.kill(process.pid, 'SIGINT')
  })
  rl.on('close', () => {
    ended = true
    const question = waiting
    waiting = undefined
    if (!question) return
    output.write('\n')
    question.reject(inputEnded())
  })
  // Between questions the terminal is cooked again: Ctrl-C is a real SIGINT while the task works.
  const setRaw = (raw: boolean) => {
    if (input.isTTY) input.setRawMode?.(raw)
  }
  rl.pause()
  setRaw(false)

  return {
    async next(question) {
      const typedAhead = queued.shift()
      if (typedAhead !== undefined) {
        output.write(`${question}${typedAhead}\n`)
        return typedAhead
      }
      if (ended) throw inputEnded()
      const answer = new Promise<string>((resolve, reject) => {
        waiting = { resolve, reject }
      })
      setRaw(true)
      rl.setPrompt(question)
      rl.prompt()
      try {
        return await answer
      } finally {
        rl.pause()
        setRaw(false)
      }
    },
    dropTypedAhead() {
      const dropped = queued.length
      queued.length = 0
      // A half-typed line stays, shown on the question asked again: its Enter is still to come, and an Enter alone
      // would silently take the default. Only the message needs a line of its own.
      if (rl.line) output.write('\n')
      return dropped
    },
  }
}

const inputEnded = () => new InputError([], 'No answer: the input ended (Ctrl-D) at a prompt; nothing was changed.')

let prompts: Prompts | undefined

function terminalPrompts(): Prompts {
  prompts ??= createPrompts(process.stdin, process.stderr)
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
