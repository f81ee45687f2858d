// When dist/ was last built, and the first of its sources changed since: test/run.mjs skips a build that is current,
// and test/helpers/use-build.mjs refuses to test one that is not. npm run build touches tsc's build info last (also
// when tsc had nothing to do), so the oldest of these three files dates the build.
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BUILD_OUTPUTS = ['dist/.build.tsbuildinfo', 'dist/.tasks.tsbuildinfo', 'dist/bundle/index.js']

/** @param {string} file relative to the project */
const mtime = (file) => statSync(path.join(ROOT, file), { throwIfNoEntry: false })?.mtimeMs ?? 0

/**
 * The first source (a `.ts`/`.mjs` file under DIRS, or one of FILES) newer than the build, relative to the project;
 * `dist/` when there is no complete build; null when the build is current.
 * @param {string[]} dirs @param {string[]} [files]
 */
export function sourceNewerThanBuild(dirs, files = []) {
  const built = Math.min(...BUILD_OUTPUTS.map(mtime))
  if (built === 0) return 'dist/'
  const sources = [...files]
  for (const dir of dirs)
    for (const file of readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }))
      if (/\.(ts|mjs)$/.test(file)) sources.push(path.join(dir, file))
  return sources.find((file) => mtime(file) >= built) ?? null
}
