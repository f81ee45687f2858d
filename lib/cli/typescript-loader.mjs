// .npmrc's node-options loads this file first in every node process npm starts for the project: it registers tsx so
// Node 20 can import lib/*.ts. It lives in the project, so tsx is found in the project's node_modules whatever the
// working directory is (a bare `--import=tsx` is resolved from the working directory).
try {
  await import('tsx')
} catch (error) {
  if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ERR_MODULE_NOT_FOUND') throw error
  const project = new URL('../..', import.meta.url).pathname
  process.stderr.write(
    `error: tsx is not installed in ${project} (Node 20 needs it to load lib/*.ts): run npm ci there\n`,
  )
  process.exit(2)
}
