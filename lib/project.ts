// Where things are: the installed package's own files (templates, remote scripts) wherever npm put it, and the team's
// project (its inventory and template overrides) wherever the task is run from.
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACKAGE_NAME = 'zx-supervisor'

interface PackageJson {
  name?: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

/** The installed package's folder: node_modules/zx-supervisor, a pnpm store, a global install, or this repository. */
export const PACKAGE_DIR: string = packageDirAbove(path.dirname(fileURLToPath(import.meta.url)))

/** A file that ships with the package, by its path inside it (`templates`, `lib/sync/activate.sh`). */
export function packageFile(relative: string): string {
  return path.join(PACKAGE_DIR, relative)
}

/** The templates that ship with zx-supervisor (a team's own templates/ overrides them file by file). */
export const PACKAGE_TEMPLATES_DIR: string = packageFile('templates')

let project: string | undefined

/**
 * The team's project: the nearest folder upward from the script being run (else the working directory) whose
 * package.json depends on zx-supervisor or is zx-supervisor itself; its inventory/ and templates/ are the defaults.
 */
export function projectDir(): string {
  project ??= findProjectDir(runningScript() ?? process.cwd())
  return project
}

/** The team's templates folder (it may be empty or missing: every template falls back to the package's). */
export function projectTemplatesDir(): string {
  return path.join(projectDir(), 'templates')
}

/** The project folder for a script or folder: see projectDir(). Without such a package.json, the folder itself. */
export function findProjectDir(start: string): string {
  const from = isFile(start) ? path.dirname(path.resolve(start)) : path.resolve(start)
  return projectAbove(from) ?? from
}

/** The nearest folder from DIR upward whose package.json depends on zx-supervisor or is zx-supervisor. */
export function projectAbove(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const json = readPackageJson(at)
    if (json && (json.name === PACKAGE_NAME || usesPackage(json))) return at
    if (path.dirname(at) === at) return undefined
  }
}

// zx and node put their own entry points (node_modules/zx/build/cli.js) before the script in argv.
function runningScript(): string | undefined {
  return process.argv.slice(1).find((arg) => !arg.includes(`${path.sep}node_modules${path.sep}`) && isFile(arg))
}

function usesPackage(json: PackageJson): boolean {
  return Boolean(json.dependencies?.[PACKAGE_NAME] ?? json.devDependencies?.[PACKAGE_NAME])
}

function packageDirAbove(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (readPackageJson(dir)?.name === PACKAGE_NAME) return dir
  }
  throw new Error(`no package.json named ${PACKAGE_NAME} above ${start}: the package is incomplete; reinstall it`)
}

function readPackageJson(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson
  } catch {
    return undefined
  }
}

function isFile(candidate: string): boolean {
  try {
    return statSync(candidate).isFile()
  } catch {
    return false
  }
}
