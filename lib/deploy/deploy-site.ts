import { forEachServer, type ServerOutcome } from '../fleet.ts'
import { serversOfSite } from '../inventory/resolve.ts'
import type { Session } from '../remote/connection.ts'
import { DEFAULT_TEMPLATES_DIR } from '../render/templates.ts'
import { resolveEnvironmentRefs } from '../secrets.ts'
import { type DesiredState, renderDesiredStates } from '../sync/desired.ts'
import type { Inventory, Server, Site } from '../types.ts'
import { type DeployEvent, deployServer, type ServerDeploy, type ServerDeployInput } from './deploy-server.ts'
import type { RolloutOptions } from './options.ts'
import { type DeployRollout, deployFailed } from './report.ts'
import { type BatchDone, rollOut } from './rollout.ts'

// A site's rolling deploy: the batches in order, the servers of a batch together, each by deployServer; past
// --max-fail failed servers, or after an interrupt, no later batch starts.

export interface SiteDeployInput extends Omit<ServerDeployInput, 'batch' | 'desired' | 'applied' | 'onEvent'> {
  rollout: RolloutOptions
  batches: Server[][]
  /** Each server's desired state, rendered before any connection (siteDesiredStates). */
  desiredFor: (server: Server) => DesiredState
  onBatchStarted?: (servers: Server[], number: number) => void
  onBatchDone?: (batch: BatchDone<Server, ServerOutcome<ServerDeploy>>) => void
  onServerEvent?: (server: string, event: DeployEvent) => void
}

export function deploySite(session: Session, input: SiteDeployInput): Promise<DeployRollout> {
  const { batches, desiredFor, onBatchStarted, onBatchDone, onServerEvent, ...steps } = input
  const deployBatch = (servers: Server[], batch: number) => {
    onBatchStarted?.(servers, batch)
    return forEachServer(
      servers,
      session,
      (server, connection, applied) => {
        const onEvent = (event: DeployEvent) => onServerEvent?.(server.name, event)
        return deployServer(connection, { ...steps, batch, desired: desiredFor(server), applied, onEvent })
      },
      servers.length,
    )
  }
  const options = { maxFailures: input.rollout.maxFailures, interrupted: input.interrupted, failed: deployFailed }
  return rollOut(batches, deployBatch, { ...options, ...(onBatchDone ? { onBatchDone } : {}) })
}

/**
 * The desired state of each of the site's servers for a deploy (this site only; `{ from_env }` values read from
 * `env`, every one required), rendered up front so every input error surfaces before a connection.
 */
export function siteDesiredStates(
  inventory: Inventory,
  site: Site,
  env: NodeJS.ProcessEnv,
  templatesDir = DEFAULT_TEMPLATES_DIR,
): (server: Server) => DesiredState {
  const { sites } = resolveEnvironmentRefs(inventory, [site], env, { mode: 'require' })
  const servers = serversOfSite(inventory, site)
  return renderDesiredStates({
    templatesDir,
    inventoryId: inventory.id,
    servers,
    sitesOn: () => sites,
    wholeServer: false,
  })
}
