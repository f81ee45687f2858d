import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

// A site on three servers nobody answers on (loopback ports where nothing listens: refused at once, and no traffic
// ever leaves the machine), with an app that has its program's script: for deploy runs that must stop at their flags.

const INVENTORY = `servers:
${[1, 2, 3].map((n) => `  - { name: web-${n}, host: 127.0.0.254, port: ${n + 1}, username: deployer }`).join('\n')}
sites:
  - domain: d.test
    server: [web-1, web-2, web-3]
    supervisors:
      - program: worker
        script: worker.sh
`

export interface UnreachableSite {
  dir: string
  /** deploy's flags for it, with a 1 s connection timeout and no SSH master left behind. */
  base: { inventory: string; domain: string; appDir: string; timeout: number; persist: boolean }
  remove(): Promise<void>
}

export async function unreachableSite(): Promise<UnreachableSite> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-deploy-flags-'))
  await fs.writeFile(path.join(dir, 'inventory.yml'), INVENTORY)
  await fs.mkdir(path.join(dir, 'app/.deployer/supervisors'), { recursive: true })
  const script = path.join(dir, 'app/.deployer/supervisors/worker.sh')
  await fs.writeFile(script, '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 })
  return {
    dir,
    base: {
      inventory: path.join(dir, 'inventory.yml'),
      domain: 'd.test',
      appDir: path.join(dir, 'app'),
      timeout: 1,
      persist: false,
    },
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  }
}
