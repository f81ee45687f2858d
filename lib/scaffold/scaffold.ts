import { lstat, mkdir, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { syncDirectory, writeNewFile } from '../fs/atomic-write.ts'
import { fsErrorReason } from '../fs/error-reason.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import { PACKAGE_TEMPLATES_DIR } from '../project.ts'
import { shellQuote } from '../remote/quote.ts'

// DeployerPHP's scaffold:supervisors: every top-level file of the templates folder is copied into
// <destination>/.deployer/supervisors/; whatever already has a file's name (a file, a directory, a link, even a
// dangling one) is skipped, never replaced. Unlike DeployerPHP the copies are executable: runner.sh refuses a
// script without the executable bit. The destination must exist: a mistyped path is refused, not created.

/** Mode of every written script: runner.sh execs it directly. */
export const SCRIPT_MODE = 0o755

export interface ScaffoldedFile {
  name: string
  /** Absolute path of the script. */
  path: string
  status: 'created' | 'skipped'
}

export interface ScaffoldResult {
  /** Absolute <destination>/.deployer/supervisors. */
  dir: string
  files: ScaffoldedFile[]
}

export interface ScaffoldInput {
  /** Absolute path of the app folder (see resolveDestination). */
  destination: string
  /** The team's folder of example scripts (templates/scaffold); the package's fill in what it does not hold. */
  templatesDir: string
}

interface Template {
  name: string
  content: string
}

export async function scaffoldSupervisors({ destination, templatesDir }: ScaffoldInput): Promise<ScaffoldResult> {
  const templates = await readTemplates(templatesDir)
  const dir = await prepareDirectory(destination)
  const files: ScaffoldedFile[] = []
  for (const template of templates) {
    const target = path.join(dir, template.name)
    const status = await placeScript(target, template.content).catch((error: unknown) => {
      throw destinationError(destination, `cannot write ${target}: ${fsErrorReason(error)}${createdSoFar(files)}`)
    })
    files.push({ name: template.name, path: target, status })
  }
  await syncDirectory(dir)
  return { dir, files }
}

async function readTemplates(templatesDir: string): Promise<Template[]> {
  const packaged = path.join(PACKAGE_TEMPLATES_DIR, 'scaffold')
  const byName = new Map<string, string>()
  // The package's first, then the team's: a team's file replaces the package's of the same name.
  for (const dir of new Set([packaged, templatesDir])) {
    for (const name of await scriptNames(dir)) byName.set(name, path.join(dir, name))
  }
  if (!byName.size) throw new Error(`no scaffold scripts in ${templatesDir} or ${packaged}`)
  const names = [...byName.keys()].sort()
  return Promise.all(names.map(async (name) => ({ name, content: await readFile(byName.get(name) ?? name, 'utf8') })))
}

async function scriptNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []
    throw error
  })
  return entries.filter((e) => e.isFile()).map((e) => e.name)
}

/** Creates <destination>/.deployer/supervisors when missing, in a destination that must exist. */
async function prepareDirectory(destination: string): Promise<string> {
  const existing = await stat(destination).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw destinationError(
        destination,
        `${destination} does not exist; pass the app's root folder, or create it first: mkdir -p ${shellQuote(destination)}`,
      )
    throw destinationError(destination, `cannot read ${destination}: ${fsErrorReason(error)}`)
  })
  if (!existing.isDirectory())
    throw destinationError(destination, `${destination} exists and is not a directory; pass the app's root folder`)
  const dir = path.join(destination, SCRIPTS_DIR)
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw destinationError(destination, `cannot create ${dir}: ${fsErrorReason(error)}`)
  })
  return dir
}

async function placeScript(target: string, content: string): Promise<ScaffoldedFile['status']> {
  if (await occupied(target)) return 'skipped'
  // Something may appear between the check and the write: writeNewFile never replaces it either.
  return (await writeNewFile(target, content, SCRIPT_MODE)) ? 'created' : 'skipped'
}

/** lstat, not stat: a dangling symlink counts as taken. */
async function occupied(target: string): Promise<boolean> {
  try {
    await lstat(target)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

function destinationError(destination: string, hint: string): InputError {
  return new InputError([
    { field: '--destination', value: destination, allowed: 'an existing directory you can write', hint },
  ])
}

function createdSoFar(files: ScaffoldedFile[]): string {
  const created = files.filter((f) => f.status === 'created').map((f) => f.name)
  return `; no file is left half-written${created.length ? `, and these were created complete: ${created.join(', ')}` : ''}`
}
