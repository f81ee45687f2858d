import path from 'node:path'
import { listAvailableScripts } from '../app/available-scripts.ts'
import { InputError } from '../errors.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import type { Site } from '../types.ts'

// The local folder a deploy uploads as the release: given, and holding every program's script, before anything is sent.

/** The folder as an absolute path, or an InputError naming `field` when none was given. */
export function requireAppDir(dir: unknown, field = '--app-dir'): string {
  if (typeof dir !== 'string' || dir === '') {
    throw new InputError([
      { field, value: dir, allowed: 'the folder to upload as the release', hint: `e.g. ${field} ./build` },
    ])
  }
  return path.resolve(dir)
}

/** Every program's script must be in the release before anything is uploaded or switched. */
export async function requireScripts(site: Site, appDir: string, field = '--app-dir'): Promise<void> {
  const { scripts } = await listAvailableScripts(site, appDir)
  const missing = site.supervisors.filter((p) => !scripts.includes(p.script))
  if (!missing.length) return
  throw new InputError(
    missing.map((p) => ({
      field,
      value: appDir,
      allowed: `an app with ${SCRIPTS_DIR}/${p.script} (program ${p.program})`,
      hint: 'add the script to the app, or remove the program with supervisor-delete; nothing was uploaded',
    })),
  )
}
