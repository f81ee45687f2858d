// The "our modules" row of the bench's start-up breakdown: a fresh node loads zx (as `npx zx` does before the task
// runs), then the package's two entries every task imports (by name: dist/bundle/); prints the milliseconds of that second import only.
import { performance } from 'node:perf_hooks'

await import('zx')
const started = performance.now()
await import('zx-supervisor')
await import('zx-supervisor/cli')
process.stdout.write(`${(performance.now() - started).toFixed(1)}\n`)
