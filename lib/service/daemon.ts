import fs from 'node:fs/promises'
import { auditEntry, auditOf } from '../audit.ts'
import { RemoteError } from '../errors.ts'
import { packageFile } from '../project.ts'
import type { Connection } from '../remote/connection.ts'
import { layoutOf, supervisorScript } from '../supervisor/rpc.ts'

// The supervisord service itself (start/stop/restart), through systemd or the init script, with the end state
// verified on the server rather than taken from the init system's exit code.

export type ServiceAction = 'start' | 'stop' | 'restart'

export interface DaemonResult {
  manager: 'systemd' | 'init'
  before: 'active' | 'inactive'
  state: 'active' | 'inactive'
  /** start of a running daemon and stop of a stopped one change nothing; restart always does. */
  changed: boolean
}

const SERVICE_SCRIPT = packageFile('lib/service/service.sh')

export async function controlDaemon(
  connection: Connection,
  action: ServiceAction,
  options: { waitSeconds: number },
): Promise<DaemonResult> {
  const script = await fs.readFile(SERVICE_SCRIPT, 'utf8')
  const layout = await layoutOf(connection)
  // The script writes the audit line on the server when the daemon's state changed (supervisor.py audit-append).
  const audit = auditEntry(auditOf(connection), connection.server.name, 'service', { service: action })
  const result = await connection.run(
    [
      'sh',
      '-s',
      '--',
      action,
      String(options.waitSeconds),
      layout.pidFile,
      layout.service,
      layout.config,
      await supervisorScript(),
      audit,
    ],
    { privileged: true, input: script },
  )
  const field = (name: string) => new RegExp(`^${name} (\\S+)$`, 'm').exec(result.stdout)?.[1]
  const manager = field('MANAGER') === 'systemd' ? 'systemd' : 'init'
  const before = field('BEFORE') === 'active' ? 'active' : 'inactive'
  const state = field('STATE') === 'active' ? 'active' : 'inactive'
  if (result.exitCode !== 0) {
    const wanted = action === 'stop' ? 'inactive' : 'active'
    const said = result.stdout
      .split('\n')
      .filter((l) => !/^(MANAGER|BEFORE|STATE) /.test(l))
      .join('\n')
      .trim()
    throw new RemoteError(
      connection.server.name,
      `supervisord did not become ${wanted} within ${options.waitSeconds}s after ${action} (${manager}); it is ${state}${said ? `:\n${said}` : ''}`,
      result.stderr,
    )
  }
  return { manager, before, state, changed: action === 'restart' || before !== state }
}
