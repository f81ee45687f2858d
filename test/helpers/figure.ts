import fs from 'node:fs'

// The fault suite's figure: every case and every server-state check is recorded here, and test/run.mjs prints
// "faults: N cases tried, N passed, nothing lost" only when every state check held.

const FILE = process.env.ZXS_FAULT_FIGURE

export function recordCase(name: string, passed: boolean): void {
  if (FILE) fs.appendFileSync(FILE, `${JSON.stringify({ kind: 'case', name, passed })}\n`)
}

export function recordStateCheck(name: string, held: boolean): void {
  if (FILE) fs.appendFileSync(FILE, `${JSON.stringify({ kind: 'state', name, held })}\n`)
}

/** Wraps a test body: the case counts as passed only if the body finished without a failed assertion. */
export function counted<C>(name: string, body: (context: C) => Promise<void>): (context: C) => Promise<void> {
  return async (context) => {
    try {
      await body(context)
      recordCase(name, true)
    } catch (error) {
      recordCase(name, false)
      throw error
    }
  }
}
