// Loaded by test/run.mjs (`node --import tsx --import ./test/helpers/use-build.mjs`): a test's import of lib/<x>.ts
// loads dist/lib/<x>.js, the build a team runs and the tasks import by package name, so every test runs the shipped
// JavaScript and each module exists once. A build older than lib/ is refused: npm run build (or npm run watch).
import { readdirSync, statSync } from 'node:fs'
import { register } from 'node:module'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'

const LIB = new URL('../../lib/', import.meta.url).href
const DIST_LIB = new URL('../../dist/lib/', import.meta.url).href

if (isMainThread) {
  assertBuildIsFresh()
  register(import.meta.url)
}

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context)
  if (!resolved.url.startsWith(LIB) || !resolved.url.endsWith('.ts')) return resolved
  return { ...resolved, url: `${DIST_LIB}${resolved.url.slice(LIB.length, -'.ts'.length)}.js`, format: 'module' }
}

function assertBuildIsFresh() {
  const stamp = fileURLToPath(new URL('../../dist/.build.tsbuildinfo', import.meta.url))
  const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0
  const lib = fileURLToPath(LIB)
  const newer = readdirSync(lib, { recursive: true, encoding: 'utf8' }).find(
    (file) => file.endsWith('.ts') && statSync(`${lib}${file}`).mtimeMs > built,
  )
  if (newer) throw new Error(`dist/ is older than lib/${newer} (or missing): run npm run build, then the tests`)
}
