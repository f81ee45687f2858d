import fs from 'node:fs/promises'
import path from 'node:path'
import { writeNewFile } from '../fs/atomic-write.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import type { ImportedProgram } from './map.ts'

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
    const file = path.join(appDir, SCRIPTS_DIR, program.script.name)
    await fs.mkdir(path.dirname(file), { recursive: true })
    if (await writeNewFile(file, program.script.content, WRAPPER_MODE)) result.written.push(file)
    else if ((await fs.readFile(file, 'utf8').catch(() => null)) !== program.script.content)
      result.taken.push({ program, path: file })
  }
  return result
}
