// The package's entry (`import { ... } from 'zx-supervisor'`): every step a task or a team's pipeline composes, with
// typed inputs and results, and the task frame. The tasks themselves are in 'zx-supervisor/tasks' (they import this
// file), the terminal side of a task (questions, reports, progress) in 'zx-supervisor/cli'. No module of lib/ imports
// this file.

export { listAvailableScripts } from './app/available-scripts.ts'
export { reportDeploy, reportInterruptedDeploy, startDeployProgress } from './cli/deploy-report.ts'
export { RELEASE_FLAGS } from './cli/flags.ts'
export type { Output, RecapRow } from './cli/output.ts'
export type { FleetProgress } from './cli/progress.ts'
export { startFleetProgress } from './cli/progress.ts'
export type { Task, TaskContext, TaskOptions, TaskOutcome } from './cli/run-task.ts'
// The task frame: define a task of your own, with flags, output, one SSH session and exit codes.
export { defineTask, runIfMain } from './cli/run-task.ts'
export type { ControlOutcome, ControlTasks } from './dashboard/control.ts'
export { runControl } from './dashboard/control.ts'
export type { RequestFacts, Verdict } from './dashboard/guard.ts'
export { allowedHosts, checkRequest, newToken } from './dashboard/guard.ts'
export { DASHBOARD_LOG_LINES, followProgramLog } from './dashboard/logs.ts'
export type { ControlRequest, DashboardHandlers, DashboardServer, LogRequest } from './dashboard/server.ts'
export { parseControl, startDashboardServer } from './dashboard/server.ts'
export type {
  CellState,
  DashboardView,
  GridShape,
  ViewCell,
  ViewProcess,
  ViewProgram,
  ViewServer,
} from './dashboard/view.ts'
export { buildView, gridShape } from './dashboard/view.ts'
export type { WatchOptions } from './dashboard/watch.ts'
export { watchFleet } from './dashboard/watch.ts'
export { requireAppDir, requireScripts } from './deploy/app-dir.ts'
export { batchSize, failureBudget, planBatches } from './deploy/batches.ts'
export type { DeployEvent, ServerDeploy, ServerDeployInput } from './deploy/deploy-server.ts'
export { deployServer, releasePrograms } from './deploy/deploy-server.ts'
export type { SiteDeployInput } from './deploy/deploy-site.ts'
export { deploySite, siteDesiredStates } from './deploy/deploy-site.ts'
export type { GateOptions, GateResult } from './deploy/gate.ts'
export { passGate, runHealthCommand, waitUntilUp } from './deploy/gate.ts'
export { sameDeployCommand } from './deploy/interrupted.ts'
export type { RolloutOptions } from './deploy/options.ts'
export { checkRolloutOptions } from './deploy/options.ts'
// Releases and rolling deploys: one server's deploy and its steps, batches, the gate, rollback, the report.
export {
  pruneReleases,
  readBackReleases,
  readCurrentRelease,
  readCurrentReleases,
  releaseFromFlag,
  releaseTimestamp,
  requireReleaseName,
  restoreCurrent,
  switchCurrent,
  uploadRelease,
} from './deploy/release.ts'
export type { DeployReport, DeployRollout, InterruptedReport } from './deploy/report.ts'
export { deployFailed, deployReports, interruptedReports, serversToReadBack } from './deploy/report.ts'
export { restartForRelease } from './deploy/restart.ts'
export { groupsOnNewRelease, rollBackServer } from './deploy/rollback.ts'
export { rollOut } from './deploy/rollout.ts'
export { EXIT, InputError, InterruptedError, RemoteError, ZxsError } from './errors.ts'
export type { AppliedStep, FleetEvent, RecordApplied, ServerOutcome } from './fleet.ts'
export { forEachServer } from './fleet.ts'
// supervisor-import: read what a server's supervisor runs, map it to inventory entries, write them.
export { importIntoInventory, importYaml } from './import/edit.ts'
export { importServer } from './import/import-server.ts'
export type { ImportedProgram, ListedItem, ServerImport } from './import/map.ts'
export { listConflict, mapServerPrograms, mergeServerImports } from './import/map.ts'
export type { ServerPrograms } from './import/read-programs.ts'
export { readServerPrograms } from './import/read-programs.ts'
export { requireAppCheckout, wrapperPath, writeWrapperScripts } from './import/scripts.ts'
export type { LoadedInventory } from './inventory/load.ts'
// The inventory: load, resolve.
export { loadInventory, parseInventory } from './inventory/load.ts'
export { addProgram, removeProgram } from './inventory/program-edits.ts'
export {
  findProgram,
  findServer,
  findServers,
  findSite,
  serversOfSite,
  siteRoot,
  sitesOnServer,
  siteUser,
} from './inventory/resolve.ts'
export { saveInventory } from './inventory/save.ts'
// The server contract: paths, owners, modes, markers, discovery patterns.
export * as layout from './layout.ts'
export { fullName } from './layout.ts'
export { followLogs } from './logs/follow.ts'
export type { ServersFollowEnd, ServersFollowOptions } from './logs/follow-servers.ts'
export { followServers } from './logs/follow-servers.ts'
export type { LogFilter } from './logs/grep.ts'
export { checkLogFilter, whyNotExtendedRegex } from './logs/grep.ts'
export type { LogRead } from './logs/read.ts'
export { readLogs } from './logs/read.ts'
export {
  availableServices,
  checkLines,
  DEFAULT_LINES,
  findSiteOnServer,
  MAX_LINES,
  placeLogSources,
  resolveLogSources,
} from './logs/sources.ts'
export type { LogServers, LogTarget } from './logs/targets.ts'
export {
  availableServicesOn,
  checkFollowedServers,
  chooseSiteFlag,
  MAX_FOLLOWED_SERVERS,
  resolveLogServers,
  resolveLogTargets,
} from './logs/targets.ts'
// Where things are: the package's own files and the team's project (inventory/, templates/).
export { PACKAGE_DIR, PACKAGE_TEMPLATES_DIR, projectDir, projectTemplatesDir } from './project.ts'
export { redactEnvironment } from './redact.ts'
export type { CommandResult, Connection, Session } from './remote/connection.ts'
// The session and many servers at once.
export { createSession } from './remote/connection.ts'
export { renderProgramFiles, renderSiteFiles } from './render/program-files.ts'
export { resolveDestination } from './scaffold/destination.ts'
export { scaffoldSupervisors } from './scaffold/scaffold.ts'
export type { ResolvedSites, UnknownEnvValue } from './secrets.ts'
export {
  describeUnknownValue,
  resolveEnvironmentRefs,
  resolveProgramEnvironment,
  resolveScopeEnvironment,
  sameIgnoringUnknown,
} from './secrets.ts'
export { controlDaemon } from './service/daemon.ts'
export type { OneByOneResult, RollingGroup } from './service/one-by-one.ts'
export { restartOneByOne } from './service/one-by-one.ts'
export type { ProgramsResult } from './service/programs.ts'
// Programs and the daemon: control, wait, status, logs.
export { controlPrograms } from './service/programs.ts'
export { waitUntilRunning } from './service/wait.ts'
export { resolveStatusScope, type StatusScope } from './status/scope.ts'
export type { ProgramStatus, ServerStatus } from './status/summarize.ts'
export { summarizeStatus } from './status/summarize.ts'
export { layoutOf } from './supervisor/rpc.ts'
export type { ActivationResult } from './sync/activate.ts'
export { activatePlan, activationArgs, StaleStateError } from './sync/activate.ts'
export type { DesiredState } from './sync/desired.ts'
export { renderDesiredState, renderDesiredStates } from './sync/desired.ts'
export type { FileChange, SyncPlan } from './sync/plan.ts'
export { assertNothingRefused, filesToUpload, formatPlanDiff, planSync } from './sync/plan.ts'
export type { LiveState } from './sync/read-state.ts'
export { readLiveState } from './sync/read-state.ts'
export { planRollback, revertPlan } from './sync/rollback.ts'
export type { SyncScope } from './sync/scope.ts'
// Sync, step by step: desired state → live state → plan → stage → activate; or all four in one: syncServer.
export { resolveSyncScope } from './sync/scope.ts'
export type { StagedFiles } from './sync/stage.ts'
export { stageFiles } from './sync/stage.ts'
export type { ServerSyncResult, SyncServerOptions } from './sync/sync-server.ts'
export { syncServer } from './sync/sync-server.ts'
export type { EnvReference, EnvValue, Inventory, Problem, Program, RemoteFile, Server, Site } from './types.ts'
export { checkCommandLine, checkReleaseName, requireValid } from './values.ts'
