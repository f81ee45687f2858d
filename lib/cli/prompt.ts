import readline from 'node:readline'
import { InputError } from '../errors.ts'

// Prompts only on a terminal: without one (CI, pipes) a task must fail with a message naming the flag, never hang.
// One line reader serves the whole run, as in any line-reading terminal program: answers typed ahead or pasted
// wait in a queue for the questions that follow.

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && process.env.CI !== 'true'
}

interface LineReader {
  next(question: string): Promise<string>
}

let reader: LineReader | undefined

function lineReader(): LineReader {
  reader ??= createLineReader(process.stdin, process.stderr)
  return reader
}

function createLineReader(input: NodeJS.ReadStream, output: NodeJS.WriteStream): LineReader {
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
  const setRaw = (raw: boolean) => { if (input.isTTY) input.setRawMode(raw) }
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
      const answer = new Promise<string>((resolve, reject) => { waiting = { resolve, reject } })
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
  }
}

const inputEnded = () => new InputError([], 'No answer: the input ended (Ctrl-D) at a prompt; nothing was changed.')

async function ask(question: string): Promise<string> {
  return (await lineReader().next(question)).trim()
}

export async function promptText(question: string, fallback?: string): Promise<string> {
  const answer = await ask(`${question}${fallback === undefined ? '' : ` [${fallback}]`} `)
  return answer === '' && fallback !== undefined ? fallback : answer
}

export async function promptConfirm(question: string, fallback: boolean): Promise<boolean> {
  const answer = (await ask(`${question} ${fallback ? '[Y/n]' : '[y/N]'} `)).toLowerCase()
  return answer === '' ? fallback : answer === 'y' || answer === 'yes'
}

/** A numbered choice; the answer is a number or one of the choices typed out. */
export async function promptChoice(question: string, choices: string[]): Promise<string> {
  process.stderr.write(`${question}\n${choices.map((c, i) => `  ${i + 1}) ${c}`).join('\n')}\n`)
  for (;;) {
    const answer = await ask('> ')
    const picked = /^\d+$/.test(answer) ? choices[Number(answer) - 1] : choices.find((c) => c === answer)
    if (picked) return picked
    process.stderr.write(`Pick 1-${choices.length}.\n`)
  }
}
