// Loaded by test/run.mjs (`node --import tsx --import ./test/helpers/use-build.mjs`): a test's import of lib/<x>.ts
// loads dist/lib/<x>.js, the shipped JavaScript, and so does a task the test imports by package name (whose entry is
// dist/bundle/, the same build in a few files), so each module exists once in a test process. Tasks a test spawns
// load dist/bundle/ as a team's do. A build older than lib/ is refused: npm run build (or npm run watch).
import { register } from 'node:module'
import { isMainThread } from 'node:worker_threads'
import { sourceNewerThanBuild } from './build-freshness.mjs'

const LIB = new URL('../../lib/', import.meta.url).href
const DIST_LIB = new URL('../../dist/lib/', import.meta.url).href
const DIST_BUNDLE = new URL('../../dist/bundle/', import.meta.url).href

if (isMainThread) {
  assertBuildIsFresh()
  register(import.meta.url)
}

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context)
  // The package entries (dist/bundle/index.js, dist/bundle/cli/index.js) are bundles of dist/lib/index.js and cli/.
  if (resolved.url.startsWith(DIST_BUNDLE))
    return { ...resolved, url: `${DIST_LIB}${resolved.url.slice(DIST_BUNDLE.length)}` }
  if (!resolved.url.startsWith(LIB) || !resolved.url.endsWith('.ts')) return resolved
  return { ...resolved, url: `${DIST_LIB}${resolved.url.slice(LIB.length, -'.ts'.length)}.js`, format: 'module' }
}

function assertBuildIsFresh() {
  const newer = sourceNewerThanBuild(['lib'])
  if (newer) throw new Error(`dist/ is older than ${newer} (or missing): run npm run build, then the tests`)
}
