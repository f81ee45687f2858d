import type { CommandResult, Connection, RunOptions } from '../../lib/remote/connection.ts'
import type { Server } from '../../lib/types.ts'
import { server } from './inventory-data.ts'

// A server, and a connection to it that needs no SSH, for unit tests of the steps: run() answers from a script and
// every command is recorded with its options.

export const WEB_1: Server = server('web-1')

export interface SentCommand {
  argv: string[]
  options?: RunOptions | undefined
}

/**
 * A connection to SERVER whose run() answers with `answer(argv)` over exit 0 and no output. `sent` lists each argv
 * (an rsync as `['rsync', local, remote]`), `calls` each run() with its options.
 */
export function fakeConnection(
  answer: (argv: string[]) => Partial<CommandResult> | Promise<Partial<CommandResult>> = () => ({}),
  server: Server = WEB_1,
) {
  const sent: string[][] = []
  const calls: SentCommand[] = []
  const connection: Connection = {
    server,
    login: {
      host: server.host,
      hostName: server.host,
      port: 22,
      user: 'deployer',
      userFrom: 'inventory',
      portFrom: 'ssh config',
    },
    async run(argv, options) {
      sent.push(argv)
      calls.push({ argv, options })
      return { stdout: '', stderr: '', exitCode: 0, ...(await answer(argv)) }
    },
    async rsync(localDir, remoteDir) {
      sent.push(['rsync', localDir, remoteDir])
    },
    sshCommand() {
      throw new Error('not used')
    },
    async close() {},
  }
  return { connection, sent, calls }
}
