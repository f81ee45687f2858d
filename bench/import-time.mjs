// The "our modules" row of the bench's start-up breakdown: a fresh node loads zx (as `npx zx` does before the task
// runs), then the package's two entries every task imports; prints the milliseconds of that second import only.
import { performance } from 'node:perf_hooks'

await import('zx')
const started = performance.now()
await import('../dist/lib/index.js')
await import('../dist/lib/cli/index.js')
process.stdout.write(`${(performance.now() - started).toFixed(1)}\n`)
