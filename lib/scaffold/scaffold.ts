import { lstat, mkdir, open, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { SCRIPTS_DIR } from '../app/available-scripts.ts'
import { InputError } from '../errors.ts'
import { writeNewFile } from './write-new-file.ts'

// DeployerPHP's scaffold:supervisors: every top-level file of the templates folder is copied into
// <destination>/.deployer/supervisors/; whatever already has a file's name (a file, a directory, a link, even a
// dangling one) is skipped, never replaced. Unlike DeployerPHP the copies are executable: runner.sh refuses a
// script without the executable bit.

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
  /** Folder holding the example scripts (templates/scaffold). */
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
      throw destinationError(destination, `cannot write ${target}: ${errorReason(error)}${createdSoFar(files)}`)
    })
    files.push({ name: template.name, path: target, status })
  }
  await syncDirectory(dir)
  return { dir, files }
}

async function readTemplates(templatesDir: string): Promise<Template[]> {
  const entries = await readdir(templatesDir, { withFileTypes: true })
  const names = entries.filter((e) => e.isFile()).map((e) => e.name).sort()
  if (!names.length) throw new Error(`no scaffold scripts in ${templatesDir}`)
  return Promise.all(names.map(async (name) => ({ name, content: await readFile(path.join(templatesDir, name), 'utf8') })))
}

/** Creates <destination>/.deployer/supervisors (and the destination itself) when missing. */
async function prepareDirectory(destination: string): Promise<string> {
  const existing = await stat(destination).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw destinationError(destination, `cannot read ${destination}: ${errorReason(error)}`)
  })
  if (existing && !existing.isDirectory()) throw destinationError(destination, `${destination} exists and is not a directory; pass the app's root folder`)
  const dir = path.join(destination, SCRIPTS_DIR)
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw destinationError(destination, `cannot create ${dir}: ${errorReason(error)}`)
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
  return new InputError([{ field: '--destination', value: destination, allowed: 'a directory you can write (created when missing)', hint }])
}

function createdSoFar(files: ScaffoldedFile[]): string {
  const created = files.filter((f) => f.status === 'created').map((f) => f.name)
  return `; no file is left half-written${created.length ? `, and these were created complete: ${created.join(', ')}` : ''}`
}

function errorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  const reasons: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system',
    ENOENT: 'a parent path does not exist (a dangling link?)', ENOSPC: 'no space left on device',
    ENOTDIR: 'a parent path is not a directory', EEXIST: 'a file is in the way',
  }
  return (code && reasons[code]) || (error instanceof Error ? error.message : String(error))
}

/** The new names survive a crash only once the directory itself is on disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined)
  await handle?.sync().catch(() => undefined)
  await handle?.close()
}
