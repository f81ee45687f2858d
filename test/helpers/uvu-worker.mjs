// One of the unit tier's parallel workers (test/run.mjs starts one per CPU). Each takes the next file of the list no
// other worker has claimed (a claim is a mkdir: atomic across processes), runs its tests with uvu, and ends with one
// uvu-style summary of every file it ran, which test/run.mjs adds up as it does for a single uvu run.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [claims = '', ...files] = process.argv.slice(2)
globalThis.UVU_DEFER = 1
const uvu = await import('uvu')
const SUMMARY = /\n {2}Total:\s+(\d+)\n {2}Passed:\s+(\d+)\n {2}Skipped:\s+(\d+)\n {2}Duration:[^\n]*\n*$/
const counts = { total: 0, passed: 0, skipped: 0 }
const started = Date.now()
const write = process.stdout.write.bind(process.stdout)

for (const file of files) {
  try {
    mkdirSync(path.join(claims, path.basename(file)))
  } catch {
    continue
  }
  globalThis.UVU_QUEUE = [[path.basename(file)]]
  globalThis.UVU_INDEX = 0
  await import(pathToFileURL(file).href)
  // uvu prints a summary per exec(): held back, counted, and replaced by one for the whole worker at the end.
  let text = ''
  process.stdout.write = (chunk) => {
    text += String(chunk)
    return true
  }
  try {
    await uvu.exec()
  } finally {
    process.stdout.write = write
  }
  const summary = SUMMARY.exec(text)
  counts.total += Number(summary?.[1] ?? 0)
  counts.passed += Number(summary?.[2] ?? 0)
  counts.skipped += Number(summary?.[3] ?? 0)
  write(`${summary ? text.slice(0, summary.index) : text}\n\n`)
}

const duration = `${Date.now() - started}ms`
write(
  `  Total:     ${counts.total}\n  Passed:    ${counts.passed}\n  Skipped:   ${counts.skipped}\n  Duration:  ${duration}\n`,
)
