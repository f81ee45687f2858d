import fs from 'node:fs/promises'
import path from 'node:path'
import type { SandboxHost } from '../../sandbox/index.ts'
import { processesOn } from './sandbox.ts'
import { recordStateCheck } from './figure.ts'

// A server's supervisor-related state, compared before and after a fault: the conf.d and logrotate files, the
// site's runner.sh, and which processes run (name and pid, so a restart shows).

export interface ServerState {
  files: Record<string, string>
  processes: string[]
}

export async function serverState(host: SandboxHost, domain: string, options: { ignore?: string[] } = {}): Promise<ServerState> {
  const files: Record<string, string> = {}
  const read = async (dir: string, keep: (name: string) => boolean) => {
    for (const name of (await fs.readdir(path.join(host.root, dir)).catch(() => [])).sort()) {
      if (!keep(name) || options.ignore?.includes(name)) continue
      files[`${dir}/${name}`] = await fs.readFile(path.join(host.root, dir, name), 'utf8')
    }
  }
  await read('etc/supervisor/conf.d', () => true)
  await read('etc/logrotate.d', (name) => name.startsWith('supervisor-'))
  await read(`home/deployer/sites/${domain}`, (name) => name === 'runner.sh')
  const processes = (await processesOn(host)).map((p) => `${p.name} ${p.pid ?? '-'}`)
  return { files, processes }
}

function same(a: ServerState, b: ServerState, compareProcesses: boolean): boolean {
  return JSON.stringify(a.files) === JSON.stringify(b.files) && (!compareProcesses || JSON.stringify(a.processes) === JSON.stringify(b.processes))
}

/** Records and returns whether the server ended fully in the old state or fully in the new one. */
export function oldOrNew(name: string, after: ServerState, old: ServerState, fresh: ServerState, options: { compareProcesses?: boolean } = {}): 'old' | 'new' | 'mixed' {
  const compareProcesses = options.compareProcesses ?? true
  const verdict = same(after, old, compareProcesses) ? 'old' : same(after, fresh, compareProcesses) ? 'new' : 'mixed'
  recordStateCheck(name, verdict !== 'mixed')
  return verdict
}
