import fs from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { writeNewFile } from '../fs/atomic-write.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import type { ImportedProgram, WrapperScript } from './map.ts'

// --write-scripts APP_DIR: a program whose command is not our runner gets a small `exec` wrapper in the app, so the
// runner can run it from the release. Never overwrites: a different file already there keeps its place and the
// program is not imported (the caller lists it).

export const WRAPPER_MODE = 0o755

export interface ScriptsWritten {
  /** Scripts written now, as paths. */
  written: string[]
  /** Programs whose script path already holds something else: not imported. */
  taken: Array<{ program: ImportedProgram; path: string }>
}

export async function writeWrapperScripts(appDir: string, programs: ImportedProgram[]): Promise<ScriptsWritten> {
  const result: ScriptsWritten = { written: [], taken: [] }
  for (const program of programs) {
    if (!program.script) continue
    const file = wrapperPath(appDir, program.script)
    await fs.mkdir(path.dirname(file), { recursive: true })
    if (await writeNewFile(file, program.script.content, WRAPPER_MODE)) result.written.push(file)
    else if ((await fs.readFile(file, 'utf8').catch(() => null)) !== program.script.content)
      result.taken.push({ program, path: file })
  }
  return result
}

/** --write-scripts: an existing directory (the app checkout), as an absolute path; exit 2 before any connection. */
export async function requireAppCheckout(dir: string, field = '--write-scripts'): Promise<string> {
  const absolute = path.resolve(dir)
  if (!(await fs.stat(absolute).catch(() => null))?.isDirectory())
    throw new InputError([
      { field, value: dir, allowed: 'an existing directory: the app checkout', hint: 'e.g. --write-scripts ../app' },
    ])
  return absolute
}

/** Where a program's wrapper goes in the app. */
export function wrapperPath(appDir: string, script: WrapperScript): string {
  return path.join(appDir, SCRIPTS_DIR, script.name)
}
