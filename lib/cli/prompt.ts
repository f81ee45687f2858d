import readline from 'node:readline/promises'

// Prompts only on a terminal: without one (CI, pipes) a task must fail with a message naming the flag, never hang.

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && process.env.CI !== 'true'
}

async function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
  try {
    return (await rl.question(question)).trim()
  } finally {
    rl.close()
  }
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
