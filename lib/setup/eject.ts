// `zx-supervisor eject <task>`: copies the package's full checklist of a task into the team's tasks/, where it is
// theirs to fork. It replaces only the short script init wrote (nothing of the team's is lost), never anything else.
import { lstat, mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { replaceFile, writeNewFile } from '../fs/atomic-write.ts'
import { packageFile } from '../project.ts'
import { SHIPPED_TASKS, type ShippedTask, shortTaskScript } from './shipped-tasks.ts'

export interface EjectResult {
  task: string
  path: string
  /** created: a new file; replaced: init's short script made way; skipped: a file of the team's is there. */
  status: 'created' | 'replaced' | 'skipped'
  reason?: string
}

/** The shipped task of that name; InputError (exit 2) listing the tasks otherwise. */
export function findShippedTask(name: string): ShippedTask {
  const task = SHIPPED_TASKS.find((t) => t.name === name)
  if (task) return task
  const names = SHIPPED_TASKS.map((t) => t.name)
  throw new InputError([
    { field: 'TASK', value: name, allowed: names.join(', '), hint: 'npx zx-supervisor eject --list describes them' },
  ])
}

/** The ejected copy: the package's tasks/<name>.mjs as it is, with a header saying where it came from. */
export async function ejectedScript(task: ShippedTask, version: string): Promise<string> {
  const source = await readFile(packageFile(`tasks/${task.name}.mjs`), 'utf8')
  const [shebang, ...rest] = source.split('\n')
  const header = [
    '// @ts-check',
    `// Ejected from zx-supervisor ${version} (tasks/${task.name}.mjs): this checklist is yours now, and upgrades of the`,
    '// package no longer change it. It imports only the public entries zx-supervisor and zx-supervisor/cli.',
  ]
  return [shebang, ...header, ...rest].join('\n')
}

/** Writes the task's checklist to <projectDir>/tasks/<name>.mjs. */
export async function ejectTask(name: string, projectDir: string, version: string): Promise<EjectResult> {
  const task = findShippedTask(name)
  const content = await ejectedScript(task, version)
  const target = path.join(projectDir, 'tasks', `${task.name}.mjs`)
  const result = { task: task.name, path: target }
  const current = await lstat(target).catch(() => undefined)
  if (!current) {
    await mkdir(path.dirname(target), { recursive: true })
    if (await writeNewFile(target, content, 0o755)) return { ...result, status: 'created' }
  }
  const existing = current?.isFile() ? await readFile(target, 'utf8') : undefined
  if (existing !== shortTaskScript(task)) {
    const reason = `${target} exists and is not the short script init wrote: it is left as it is; move it away to eject`
    return { ...result, status: 'skipped', reason }
  }
  await replaceFile(target, content, existing)
  return { ...result, status: 'replaced' }
}
