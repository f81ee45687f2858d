import fs from 'node:fs/promises'
import { packageFile } from '../project.ts'
import type { CommandResult, Connection } from './connection.ts'

// Runs a remote script as root detached from the SSH session (lib/remote/detached.sh) and follows its output until
// it ends: one remote command, whose lines, exit code and stdout are the script's own. When the connection drops,
// only the following stops: the script finishes on the server by itself.

const DETACHED_SCRIPT = packageFile('lib/remote/detached.sh')

/** Exit code of detached.sh when the script ended without one (killed on the server). */
export const DETACHED_LOST = 70
/** Exit code of detached.sh when it could not make the script's run directory. */
export const DETACH_FAILED = 71

export async function runDetached(
  connection: Connection,
  runs: string,
  name: string,
  script: string,
  args: string[],
  options: { onLine?: (line: string) => void } = {},
): Promise<CommandResult> {
  const launcher = await fs.readFile(DETACHED_SCRIPT, 'utf8')
  return connection.run(['sh', '-s', '--', runs, name, script, ...args], {
    privileged: true,
    input: launcher,
    ...(options.onLine ? { onLine: options.onLine } : {}),
  })
}
