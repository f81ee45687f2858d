import fs from 'node:fs/promises'
import os from 'node:os'
import type { Connection } from '../remote/connection.ts'
import { RemoteError } from '../errors.ts'
import { parseUpdate, type UpdateResult } from '../supervisorctl.ts'
import type { SyncPlan } from './plan.ts'
import type { StagedFiles } from './stage.ts'
import { MARKER_TOKEN, SERVER_LOCK, STAGE_PREFIX, discoveryPatterns } from '../layout.ts'

// Runs activate.sh on the server: lock, check, back up, swap in, let supervisor judge (reread), restore if it
// rejects, then `supervisorctl update` only the groups that changed. The server ends fully old or fully new.

export interface ActivationResult {
  update: UpdateResult
  output: string
}

/** Another sync changed this scope's files between our read and our activation; nothing was changed: plan again. */
export class StaleStateError extends RemoteError {
  constructor(server: string, output: string) {
    super(server, `another sync changed this site's files on the server while this one was planning; nothing was changed (${output.split('\n')[0]})`, output)
    this.name = 'StaleStateError'
  }
}

const ACTIVATE_SCRIPT = new URL('./activate.sh', import.meta.url)

export async function activatePlan(connection: Connection, plan: SyncPlan, staged: StagedFiles, options: { lockWaitSeconds: number }): Promise<ActivationResult> {
  const args = [staged.remoteDir, String(options.lockWaitSeconds), SERVER_LOCK, STAGE_PREFIX, loginUser(connection), MARKER_TOKEN]
  for (const pattern of discoveryPatterns(plan.server.sitesPath)) args.push('pattern', pattern)
  for (const [path, sha256] of plan.expected) args.push('expect', path, sha256 ?? '-')
  for (const dir of plan.directories) args.push('dir', dir.path, dir.owner, dir.group, dir.mode)
  for (const change of plan.changes) {
    if (change.after) args.push('put', staged.names.get(change.path) as string, change.path, change.after.owner, change.after.group, change.after.mode)
    else args.push('remove', change.path)
  }
  for (const group of plan.groups) args.push('group', group)
  const script = await fs.readFile(ACTIVATE_SCRIPT, 'utf8')
  let result
  try {
    result = await connection.run(['sh', '-s', '--', ...args], { privileged: true, input: script })
  } catch (error) {
    if (error instanceof RemoteError) {
      error.message += '; the server finishes or rolls back the activation on its own (it ignores the hang-up): check with supervisor-status, then run supervisor-sync again'
    }
    throw error
  }
  const server = connection.server.name
  const output = result.stdout.trim()
  const tail = output.split('\n').slice(1).join('\n')
  switch (result.exitCode) {
    case 0:
      return { update: parseUpdate(output), output }
    case 65:
      throw new RemoteError(server, `supervisor rejected the configuration already on the server before our change; nothing was changed:\n${tail}`, output)
    case 66:
      throw new RemoteError(server, `supervisor rejected the new configuration; the previous files were restored and running programs were not touched:\n${tail}`, output)
    case 67:
      throw new RemoteError(server, `the new configuration is in place but "supervisorctl update" failed:\n${output}`, output)
    case 68:
      throw new RemoteError(server, `could not write ${output.split('\n').find((l) => l.startsWith('WRITE-FAILED'))?.slice(13) ?? 'a file'} (read-only or full disk?); the previous files were restored:\n${output}`, output)
    case 76:
      throw new StaleStateError(server, output)
    case 75:
      throw new RemoteError(server, `another sync holds this server's lock (waited ${options.lockWaitSeconds}s); nothing was changed. Try again when it is done.`, output)
    default:
      throw new RemoteError(server, `activation failed (exit ${result.exitCode}); check the server with supervisor-status, then run supervisor-sync again:\n${output}\n${result.stderr}`.trim(), output)
  }
}

/** Who owns this run's staging directories on the server (for `host: local`, the user running the task). */
function loginUser(connection: Connection): string {
  return connection.server.local ? os.userInfo().username : connection.server.username
}
