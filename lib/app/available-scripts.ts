import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { SCRIPTS_DIR } from '../layout.ts'
import type { Site } from '../types.ts'

// The scripts a program may run: files under .deployer/supervisors/ of the app, from a local checkout (--app-dir)
// or from the site's pushed repo/branch (a shallow clone with the operator's own git credentials, like DeployerPHP).

export interface AvailableScripts {
  scripts: string[]
  /** Where they were read from, for messages. */
  source: string
}

export async function listAvailableScripts(site: Site, appDir?: string): Promise<AvailableScripts> {
  if (appDir) return { scripts: await listScripts(path.resolve(appDir)), source: path.resolve(appDir) }
  if (!site.repo || !site.branch) {
    throw new InputError([
      {
        field: '--app-dir',
        value: undefined,
        allowed: 'a local checkout of the app, because the site has no repo/branch in the inventory',
        hint: `pass --app-dir PATH, or set repo and branch for ${site.domain}`,
      },
    ])
  }
  const checkout = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-clone-'))
  try {
    // Loaded here, not at the top: every task imports this module (through the package's entry), few clone.
    const { execa } = await import('execa')
    const clone = await execa(
      'git',
      ['clone', '--quiet', '--depth', '1', '--branch', site.branch, '--single-branch', '--', site.repo, checkout],
      { reject: false, timeout: 60_000, stdin: 'ignore' },
    )
    if (clone.exitCode !== 0) {
      throw new InputError([
        {
          field: `sites[${site.domain}].repo`,
          value: `${site.repo}#${site.branch}`,
          allowed: 'a repository and branch git can clone from here',
          hint: `git said: ${clone.stderr.trim().split('\n').at(-1)}; or pass --app-dir PATH`,
        },
      ])
    }
    return { scripts: await listScripts(checkout), source: `${site.repo}#${site.branch}` }
  } finally {
    await fs.rm(checkout, { recursive: true, force: true })
  }
}

/** Every file under <dir>/<SCRIPTS_DIR>, recursively, as sorted relative paths. */
async function listScripts(dir: string): Promise<string[]> {
  const base = path.join(dir, SCRIPTS_DIR)
  const entries = await fs.readdir(base, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(base, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort()
}

/** The scripts no program of the site runs yet: one program per script per site, as DeployerPHP. */
export function unusedScripts(site: Site, scripts: string[]): string[] {
  const used = new Set(site.supervisors.map((program) => program.script))
  return scripts.filter((script) => !used.has(script))
}
