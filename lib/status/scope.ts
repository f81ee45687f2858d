import { resolveScopeEnvironment, type UnknownEnvValue } from '../secrets.ts'
import { type DesiredState, renderDesiredStates } from '../sync/desired.ts'
import { resolveSyncScope, type SyncScope } from '../sync/scope.ts'
import type { Inventory, Server } from '../types.ts'

// What a read-only look at the fleet compares against (status, the dashboard): the servers of --domain/--server (every
// server without either) and each one's rendered desired state. A value this run cannot read is not compared (never
// reported as drift): it comes back in `unknown` for the task to say so.

export interface StatusScope {
  scope: SyncScope
  desiredFor: (server: Server) => DesiredState
  unknown: UnknownEnvValue[]
}

export function resolveStatusScope(
  inventory: Inventory,
  target: { domain?: string | undefined; server?: string | undefined },
  options: { env: NodeJS.ProcessEnv; templatesDir: string },
): StatusScope {
  const { domain, server } = target
  const scope = resolveSyncScope(inventory, { domain, server, all: !domain && !server })
  const { sitesOn, unknown } = resolveScopeEnvironment(inventory, scope, options.env, { mode: 'allow-unknown' })
  const desiredFor = renderDesiredStates({ templatesDir: options.templatesDir, ...scope, sitesOn })
  return { scope, desiredFor, unknown }
}
