// `zx-supervisor init [DIR]`: lays out a team's ops repo (inventory, one short script per command, templates/ for
// overrides, .gitignore). It never replaces a file that exists, and writes nothing when DIR cannot be a folder.
import { lstat, mkdir, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { writeNewFile } from '../fs/atomic-write.ts'
import { fsErrorReason } from '../fs/error-reason.ts'
import { DEFAULT_INVENTORY, EXAMPLE_INVENTORY } from '../inventory/load.ts'
import { packageFile, projectAbove } from '../project.ts'
import { SHIPPED_TASKS, shortTaskScript } from './shipped-tasks.ts'

export interface NewFile {
  /** Relative to the project folder. */
  path: string
  content: string
  mode: number
}

export interface InitResult {
  dir: string
  files: Array<{ path: string; status: 'created' | 'skipped' }>
  /** False when no package.json at or above DIR depends on zx-supervisor: its tasks cannot import the package yet. */
  installed: boolean
}

/** Checks DIR, then writes every file init lays out that is not there yet. */
export async function initProject(dir: string): Promise<InitResult> {
  const root = path.resolve(dir)
  await assertCanBeFolder(dir, root)
  const files: InitResult['files'] = []
  for (const file of await initFiles()) {
    const target = path.join(root, file.path)
    await mkdir(path.dirname(target), { recursive: true })
    const created = (await exists(target)) ? false : await writeNewFile(target, file.content, file.mode)
    files.push({ path: file.path, status: created ? 'created' : 'skipped' })
  }
  await mkdir(path.join(root, 'templates'), { recursive: true })
  return { dir: root, files, installed: projectAbove(root) !== undefined }
}

/** What init writes, from the installed package's own files. */
export async function initFiles(): Promise<NewFile[]> {
  const example = await readFile(packageFile(EXAMPLE_INVENTORY), 'utf8')
  return [
    { path: DEFAULT_INVENTORY, content: teamInventory(example), mode: 0o644 },
    ...SHIPPED_TASKS.filter((task) => task.command).map((task) => ({
      path: `tasks/${task.name}.mjs`,
      content: shortTaskScript(task),
      mode: 0o755,
    })),
    { path: 'templates/README.md', content: templatesReadme(await packageTemplateNames()), mode: 0o644 },
    { path: '.gitignore', content: 'node_modules/\n', mode: 0o644 },
  ]
}

function teamInventory(example: string): string {
  return example.replace(
    /^# Copy this file to inventory\/inventory\.yml.*\n/m,
    '# The default inventory of this project; --inventory PATH or ZXS_INVENTORY choose another.\n',
  )
}

function templatesReadme(names: string[]): string {
  return [
    '# Template overrides',
    '',
    "Every file a sync writes is rendered from zx-supervisor's templates. A file here replaces the package's file of",
    'the same name for every site; `sites/<domain>/<name>` replaces it for one site. What is not here comes from the',
    'installed package, so an upgrade reaches every template you did not override.',
    '',
    "The package's templates (copy one from node_modules/zx-supervisor/templates/ to start from it):",
    '',
    ...names.map((name) => `- ${name}`),
    '',
  ].join('\n')
}

async function packageTemplateNames(): Promise<string[]> {
  const root = packageFile('templates')
  const entries = await readdir(root, { recursive: true, encoding: 'utf8' })
  return entries.filter((name) => name.endsWith('.hbs')).sort()
}

/** DIR must be a folder or nothing yet, and nothing above it a file (tests run as root: no permission checks). */
async function assertCanBeFolder(given: string, root: string): Promise<void> {
  for (let at = root; ; at = path.dirname(at)) {
    const entry = await lstat(at).catch((error: NodeJS.ErrnoException) => {
      // ENOTDIR: something above is a file, which the next round meets.
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined
      throw dirError(given, `cannot read ${at}: ${fsErrorReason(error)}`)
    })
    if (entry?.isDirectory() || (entry?.isSymbolicLink() && (await isFolder(at)))) return
    if (entry) {
      const where = at === root ? `${root} is a file` : `${at}, above it, is a file`
      throw dirError(given, `${where}; pass a folder (new or existing), e.g. npx zx-supervisor init ops`)
    }
    if (path.dirname(at) === at) return
  }
}

async function isFolder(at: string): Promise<boolean> {
  return (await stat(at).catch(() => undefined))?.isDirectory() ?? false
}

async function exists(target: string): Promise<boolean> {
  return (await lstat(target).catch(() => undefined)) !== undefined
}

function dirError(value: string, hint: string): InputError {
  return new InputError([{ field: 'DIR', value, allowed: 'a folder, new or existing', hint }])
}
