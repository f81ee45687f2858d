import { execa } from 'execa'
import os from 'node:os'
import path from 'node:path'
import fs from 'node:fs/promises'
import type { Server } from '../types.ts'
import { RemoteError } from '../errors.ts'
import { remoteCommand, shellQuote } from './quote.ts'
import { describeEndpoint } from './endpoint.ts'
import { describeSshFailure, lastLine, sudoNeedsPassword, sudoPasswordMessage } from './ssh-errors.ts'

export interface CommandResult {
  stdout: string
  stderr: string
  exitCode: number
}

export interface RunOptions {
  /** Run as root: `sudo -n` for a non-root login. */
  privileged?: boolean
  /** Sent to the command's stdin. */
  input?: string
  timeoutMs?: number
}

/** Everything a step may do on a server. Exit codes come back as data; only a lost connection throws. */
export interface Connection {
  readonly server: Server
  run(argv: string[], options?: RunOptions): Promise<CommandResult>
  /**
   * Copies the contents of a local directory to a remote directory, over the same multiplexed connection.
   * `private` makes every copy readable by the login user only (staged confs may hold secrets); `preserve` keeps modes.
   */
  rsync(localDir: string, remoteDir: string, options?: { permissions?: 'private' | 'preserve' }): Promise<void>
  /**
   * The local [file, args] that runs argv on the server over this connection (for `host: local`, argv itself), for
   * steps that must drive the process themselves, e.g. to stream its output. Reported to onCommand like run.
   */
  sshCommand(argv: string[], options?: { privileged?: boolean }): [string, string[]]
  close(): Promise<void>
}

export interface SessionOptions {
  /** ssh ConnectTimeout, seconds. */
  timeoutSeconds: number
  /** No prompts from ssh (passwords, new host keys): a run without a terminal must never hang. */
  batch: boolean
  /** Called with every command line that is run (for --verbose). */
  onCommand?: (server: string, line: string) => void
}

/** One run's connections: one ControlMaster per server, all closed by closeAll (also on Ctrl-C). */
export interface Session {
  connect(server: Server): Promise<Connection>
  closeAll(): Promise<void>
}

export function createSession(options: SessionOptions): Session {
  const open = new Map<string, Promise<Connection>>()
  let controlDir: Promise<string> | undefined
  return {
    connect(server) {
      let connection = open.get(server.name)
      if (!connection) {
        controlDir ??= fs.mkdtemp(path.join(os.tmpdir(), 'zxs-'))
        connection = server.local ? Promise.resolve(localConnection(server, options)) : controlDir.then((dir) => openSsh(server, dir, options))
        open.set(server.name, connection)
        connection.catch(() => open.delete(server.name))
      }
      return connection
    },
    async closeAll() {
      const connections = await Promise.allSettled(open.values())
      open.clear()
      await Promise.all(connections.map((c) => (c.status === 'fulfilled' ? c.value.close() : undefined)))
      if (controlDir) await fs.rm(await controlDir, { recursive: true, force: true })
    },
  }
}

/** ssh options shared by the master, every command and rsync's transport. */
function sshOptions(server: Server, controlDir: string, options: SessionOptions): string[] {
  const args = [
    '-o', `ControlPath=${controlDir}/%C`,
    '-o', `ConnectTimeout=${options.timeoutSeconds}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-p', String(server.port),
    '-l', server.username,
  ]
  if (options.batch) args.push('-o', 'BatchMode=yes')
  if (server.privateKeyPath) args.push('-i', expandHome(server.privateKeyPath), '-o', 'IdentitiesOnly=yes')
  if (server.knownHostsFile) args.push('-o', `UserKnownHostsFile=${expandHome(server.knownHostsFile)}`)
  return args
}

async function openSsh(server: Server, controlDir: string, options: SessionOptions): Promise<Connection> {
  const base = sshOptions(server, controlDir, options)
  const master = ['-o', 'ControlMaster=yes', '-o', 'ControlPersist=60', ...base, '--', server.host, 'true']
  options.onCommand?.(server.name, `ssh ${master.join(' ')}`)
  const started = await execa('ssh', master, { reject: false, stdin: 'ignore', timeout: (options.timeoutSeconds + 5) * 1000 })
  if (started.exitCode !== 0) {
    const reason = describeSshFailure(started.stderr, describeEndpoint(server)) ?? `ssh exited ${started.exitCode}: ${lastLine(started.stderr)}`
    throw new RemoteError(server.name, reason, started.stderr)
  }
  const client = ['-o', 'ControlMaster=no', ...base]
  let closed = false
  return {
    server,
    async run(argv, runOptions = {}) {
      const line = remoteCommand(withPrivilege(server, argv, runOptions.privileged))
      options.onCommand?.(server.name, line)
      const result = await execa('ssh', [...client, '--', server.host, line], {
        reject: false,
        input: runOptions.input,
        stdin: runOptions.input === undefined ? 'ignore' : undefined,
        timeout: runOptions.timeoutMs,
      })
      return checkResult(server, result.exitCode ?? 255, result.stdout, result.stderr, result.timedOut)
    },
    sshCommand(argv, commandOptions = {}) {
      const line = remoteCommand(withPrivilege(server, argv, commandOptions.privileged))
      options.onCommand?.(server.name, line)
      return ['ssh', [...client, '--', server.host, line]]
    },
    async rsync(localDir, remoteDir, rsyncOptions = {}) {
      const transport = ['ssh', ...client].map(shellQuote).join(' ')
      const args = [...rsyncPermissions(rsyncOptions.permissions), '-e', transport, `${localDir}/`, `${server.host}:${remoteDir}/`]
      options.onCommand?.(server.name, `rsync ${args.join(' ')}`)
      const result = await execa('rsync', args, { reject: false, stdin: 'ignore' })
      if (result.exitCode !== 0) {
        const reason = describeSshFailure(result.stderr, describeEndpoint(server)) ?? `rsync exited ${result.exitCode}: ${lastLine(result.stderr)}`
        throw new RemoteError(server.name, `upload failed: ${reason}`, result.stderr)
      }
    },
    async close() {
      if (closed) return
      closed = true
      await execa('ssh', ['-o', `ControlPath=${controlDir}/%C`, '-p', String(server.port), '-l', server.username, '-O', 'exit', '--', server.host], { reject: false, stdin: 'ignore', timeout: 5000 })
    },
  }
}

/** The same steps on this machine, without SSH (`host: local`). */
function localConnection(server: Server, options: SessionOptions): Connection {
  return {
    server,
    async run(argv, runOptions = {}) {
      const full = withPrivilege(server, argv, runOptions.privileged, process.getuid?.() === 0)
      options.onCommand?.(server.name, remoteCommand(full))
      const [file, ...args] = full as [string, ...string[]]
      const result = await execa(file, args, { reject: false, input: runOptions.input, stdin: runOptions.input === undefined ? 'ignore' : undefined, timeout: runOptions.timeoutMs })
      return checkResult(server, result.exitCode ?? 1, result.stdout, result.stderr, result.timedOut)
    },
    sshCommand(argv, commandOptions = {}) {
      const [file, ...args] = withPrivilege(server, argv, commandOptions.privileged, process.getuid?.() === 0) as [string, ...string[]]
      options.onCommand?.(server.name, remoteCommand([file, ...args]))
      return [file, args]
    },
    async rsync(localDir, remoteDir, rsyncOptions = {}) {
      const result = await execa('rsync', [...rsyncPermissions(rsyncOptions.permissions), `${localDir}/`, `${remoteDir}/`], { reject: false })
      if (result.exitCode !== 0) throw new RemoteError(server.name, `copy failed: ${lastLine(result.stderr)}`, result.stderr)
    },
    async close() {},
  }
}

function withPrivilege(server: Server, argv: string[], privileged = false, isRoot = server.username === 'root'): string[] {
  return privileged && !isRoot ? ['sudo', '-n', '--', ...argv] : argv
}

function checkResult(server: Server, exitCode: number, stdout: string, stderr: string, timedOut: boolean): CommandResult {
  if (timedOut) throw new RemoteError(server.name, `a command on ${server.name} did not finish in time`, stderr)
  if (sudoNeedsPassword(stderr)) throw new RemoteError(server.name, sudoPasswordMessage(server.name, server.username), stderr)
  // Our remote commands never exit 255 themselves: it is ssh saying the connection failed or dropped.
  if (exitCode === 255 && !server.local) {
    const endpoint = describeEndpoint(server)
    throw new RemoteError(server.name, describeSshFailure(stderr, endpoint) ?? `the connection to ${endpoint} was lost (ssh exited 255)`, stderr)
  }
  return { stdout, stderr, exitCode }
}

function rsyncPermissions(permissions: 'private' | 'preserve' = 'private'): string[] {
  return permissions === 'private' ? ['-rltp', '--chmod=Du=rwx,Dgo=,Fu=rw,Fgo='] : ['-rltp']
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}
