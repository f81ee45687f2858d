import { Writable } from 'node:stream'
import { createOutput, type Output } from '../../lib/cli/output.ts'

// An Output that records what a task printed, for running tasks in-process.

export interface Captured {
  output: Output
  stdout: () => string
  stderr: () => string
}

export function captureOutput(options: { json?: boolean; verbose?: boolean } = {}): Captured {
  const sink = () => {
    const chunks: string[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk))
        done()
      },
    })
    return { stream, text: () => chunks.join('') }
  }
  const out = sink()
  const err = sink()
  return {
    output: createOutput(
      { json: Boolean(options.json), quiet: false, verbose: Boolean(options.verbose) },
      { out: out.stream, err: err.stream },
    ),
    stdout: out.text,
    stderr: err.text,
  }
}
