import fs from 'node:fs/promises'
import path from 'node:path'
import { DEBIAN_LAYOUT, MANAGED_FILES, type ManagedFileSpec, parentDirectories } from '../../lib/layout.ts'
import type { SandboxHost } from '../../sandbox/index.ts'
import { recordStateCheck } from './figure.ts'
import { processesOn } from './sandbox.ts'

// A server's supervisor-related state, compared before and after a fault: every file the server contract's discovery
// patterns find (a site file of the given site only), the contract's own directories that exist, and which processes
// run (name and pid, so a restart shows).

export interface ServerState {
  files: Record<string, string>
  directories: string[]
  processes: string[]
}

/** The sandbox's sites path (the inventory default for its site user). */
const SITES_PATH = '/home/deployer/sites'

export async function serverState(
  host: SandboxHost,
  domain: string,
  options: { ignore?: string[]; contract?: ManagedFileSpec[] } = {},
): Promise<ServerState> {
  const files: Record<string, string> = {}
  const directories: string[] = []
  const context = { sitesPath: SITES_PATH, layout: DEBIAN_LAYOUT }
  for (const spec of options.contract ?? MANAGED_FILES) {
    const pattern = spec.discover(context)
    for (const found of await expand(host.root, pattern)) {
      if (options.ignore?.includes(path.basename(found)) || (spec.scope === 'site' && !found.includes(`/${domain}/`)))
        continue
      files[found.slice(1)] = await fs.readFile(path.join(host.root, found), 'utf8')
    }
    const fixed = pattern.slice(0, pattern.lastIndexOf('/', pattern.indexOf('*')))
    for (const dir of spec.parents ? parentDirectories(spec, `${fixed}/file`, context) : []) {
      if (!directories.includes(dir.path) && (await fs.stat(path.join(host.root, dir.path)).catch(() => null)))
        directories.push(dir.path)
    }
  }
  const processes = (await processesOn(host)).map((p) => `${p.name} ${p.pid ?? '-'}`)
  return { files: Object.fromEntries(Object.entries(files).sort()), directories: directories.sort(), processes }
}

/**
 * The files a discovery glob finds under a host's root. The last segment matches as a prefix, so a half-written
 * `x.conf.zxs-new` beside `x.conf` shows too.
 */
async function expand(root: string, pattern: string): Promise<string[]> {
  let found = ['']
  const segments = pattern.split('/').filter(Boolean)
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1
    const matches = new RegExp(
      `^${segment
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}${last ? '' : '$'}`,
    )
    const next: string[] = []
    for (const dir of found) {
      const entries = await fs.readdir(path.join(root, dir), { withFileTypes: true }).catch(() => [])
      for (const entry of entries) {
        if (matches.test(entry.name) && (last ? entry.isFile() : entry.isDirectory())) next.push(`${dir}/${entry.name}`)
      }
    }
    found = next
  }
  return found.sort()
}

function same(a: ServerState, b: ServerState, compareProcesses: boolean): boolean {
  return (
    JSON.stringify([a.files, a.directories]) === JSON.stringify([b.files, b.directories]) &&
    (!compareProcesses || JSON.stringify(a.processes) === JSON.stringify(b.processes))
  )
}

/** Records and returns whether the server ended fully in the old state or fully in the new one. */
export function oldOrNew(
  name: string,
  after: ServerState,
  old: ServerState,
  fresh: ServerState,
  options: { compareProcesses?: boolean } = {},
): 'old' | 'new' | 'mixed' {
  const compareProcesses = options.compareProcesses ?? true
  const verdict = same(after, old, compareProcesses) ? 'old' : same(after, fresh, compareProcesses) ? 'new' : 'mixed'
  recordStateCheck(name, verdict !== 'mixed')
  return verdict
}
