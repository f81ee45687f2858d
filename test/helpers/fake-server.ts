import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import * as assert from 'uvu/assert'
import { validateInventory } from '../../lib/inventory/validate.ts'
import { DEBIAN_LAYOUT, MANAGED_FILES, parseMarker, type ServerLayout } from '../../lib/layout.ts'
import { resolveEnvironmentRefs } from '../../lib/secrets.ts'
import type { ProcessStatus } from '../../lib/supervisor/process.ts'
import { type DesiredState, renderDesiredState } from '../../lib/sync/desired.ts'
import type { LiveFile, LiveState } from '../../lib/sync/read-state.ts'
import type { RemoteFile } from '../../lib/types.ts'

// Desired and live states without a server: what the pure core (planSync, summarizeStatus, formatPlanDiff) takes.
// A live file is built the way read-state builds it, so the tests see what a real read would hand them.

export const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url))

/** A site of the fake inventory, as written in inventory.yml (validation fills in the defaults). */
export interface FakeSite {
  domain: string
  supervisors: Array<Record<string, unknown> & { program: string }>
}

/**
 * What the inventory wants on server web-1 for these sites (Debian's layout until the live one is given). A
 * `{ from_env }` value is read from `env`; one it lacks is rendered as unknown, as in a plan that changes nothing.
 */
export function desiredOn(
  sites: FakeSite[],
  options: { inventoryId?: string; wholeServer?: boolean; env?: NodeJS.ProcessEnv } = {},
): DesiredState {
  const { inventory, problems } = validateInventory({
    servers: [{ name: 'web-1', host: '127.0.0.9' }],
    sites: sites.map((site) => ({
      domain: site.domain,
      server: 'web-1',
      supervisors: site.supervisors.map((p) => ({ script: `${p.program}.sh`, ...p })),
    })),
  })
  assert.equal(problems, [])
  const server = inventory.servers[0]
  if (!server) throw new Error('the fake inventory has no server')
  const resolved = resolveEnvironmentRefs(inventory, inventory.sites, options.env ?? {}, { mode: 'allow-unknown' })
  return renderDesiredState({
    templatesDir: TEMPLATES,
    inventoryId: options.inventoryId ?? 'default',
    server,
    sites: resolved.sites,
    wholeServer: options.wholeServer ?? true,
  })
}

/**
 * A file as read-state reports it. `discovered`: a contract pattern found it (so it may be a leftover); false for a
 * file found only because it sits at a path we want.
 */
export function liveFile(file: RemoteFile & { kind?: string }, discovered = true): LiveFile {
  const spec = discovered ? (MANAGED_FILES.find((s) => s.kind === file.kind) ?? null) : null
  const { path, content, owner, group, mode } = file
  return {
    path,
    content,
    owner,
    group,
    mode,
    marker: parseMarker(content),
    spec,
    sha256: createHash('sha256').update(content).digest('hex'),
  }
}

export interface FakeLive {
  files?: Array<RemoteFile & { kind?: string }>
  layout?: ServerLayout
  /** Group → available | changed | disappeared: what supervisor's reread would apply. */
  pending?: Record<string, string>
  daemon?: LiveState['daemon']
  reread?: { ok: boolean; message: string }
  processes?: ProcessStatus[]
  /** `current` link → the release directory it points to. */
  currents?: Record<string, string | null>
  missingScripts?: string[]
}

/** What a server holds now: by default a running supervisord with Debian's layout and nothing of ours. */
export function liveState(fake: FakeLive = {}): LiveState {
  return {
    layout: fake.layout ?? DEBIAN_LAYOUT,
    files: new Map((fake.files ?? []).map((f) => [f.path, liveFile(f)])),
    missingScripts: fake.missingScripts ?? [],
    daemon: fake.daemon ?? { running: true },
    reread: { ...(fake.reread ?? { ok: true, message: '' }), pending: new Map(Object.entries(fake.pending ?? {})) },
    currents: new Map(Object.entries(fake.currents ?? {})),
    ...(fake.processes ? { processes: fake.processes } : {}),
  }
}

/** A server that holds exactly what the desired state renders (the state a sync leaves behind). */
export function syncedFiles(desired: DesiredState): Array<RemoteFile & { kind: string }> {
  return desired.files.map(({ path, content, owner, group, mode, kind }) => ({
    path,
    content,
    owner,
    group,
    mode,
    kind,
  }))
}

/** One supervisor process of a group, numbered as supervisor names them (`<group>_00`). */
export function processOf(group: string, n: number, state = 'RUNNING'): ProcessStatus {
  const process = `${group}_${String(n).padStart(2, '0')}`
  return { name: `${group}:${process}`, group, process, state, description: '' }
}
