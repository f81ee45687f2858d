import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { AuditContext } from '../audit.ts'
import { InterruptedError, RemoteError } from '../errors.ts'
import type { Server } from '../types.ts'
import { type CommandOptions, runCommand } from './command.ts'
import { createMasterNamer, masterAnswers, runControlDir, warmControlDir } from './control-path.ts'
import {
  configNamesUser,
  decideLogin,
  describeEndpoint,
  describeLogin,
  type Login,
  parseResolvedConfig,
} from './endpoint.ts'
import { remoteCommand, shellQuote } from './quote.ts'
import { readSshConfigText, type SshConfigFile, sshConfigArgs, sshConfigFilesRead } from './ssh-config.ts'
import { describeSshFailure, lastLine, sudoNeedsPassword, sudoPasswordError } from './ssh-errors.ts'

/** Seconds an idle master outlives a run that ended well, when neither flag, environment nor inventory says (Ansible's). */
export const DEFAULT_CONTROL_PERSIST_SECONDS = 60
/** Overrides the inventory's controlPersist: seconds, or 0/false (the test suite sets 0). */
export const CONTROL_PERSIST_ENV = 'ZXS_CONTROL_PERSIST'
// A run's own masters (no persistence) must outlive the pauses between its commands; closeAll ends them.
const RUN_MASTER_PERSIST_SECONDS = 60

export interface CommandResult {
  stdout: string
  stderr: string
  exitCode: number
}

export interface RunOptions {
  /** Run as root: `sudo -n` for a non-root login. */
  privileged?: boolean
  /** Called with each line of stdout as it arrives (the result still holds all of it). */
  onLine?: (line: string) => void
  /** Sent to the command's stdin. */
  input?: string
  timeoutMs?: number
  /** A read for the report of an interrupted run: it may start after the interrupt and is not cancelled by it. */
  evenWhenInterrupted?: boolean
}

/** Everything a step may do on a server. Exit codes come back as data; only a lost connection throws. */
export interface Connection {
  readonly server: Server
  /** Who the commands really run as, where (for `host: local`, this machine's user). */
  readonly login: Login
  /** The run the changes made over this connection are recorded under (lib/audit.ts); absent outside a task frame. */
  readonly audit?: AuditContext
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

/** Seconds an idle master outlives the run, or false: closed at exit. */
export type ControlPersist = number | false

export interface SessionOptions {
  /** ssh ConnectTimeout, seconds. */
  timeoutSeconds: number
  /** No prompts from ssh (passwords, new host keys): a run without a terminal must never hang. */
  batch: boolean
  /**
   * How long masters outlive a run that ends well (default false: closed at exit), or a function asked once, when
   * the first master opens.
   */
  controlPersist?: ControlPersist | (() => Promise<ControlPersist>)
  /** The ssh config every ssh and rsync call reads (-F); absent: OpenSSH's own (~/.ssh/config). */
  sshConfig?: SshConfigFile
  /** Called with every command line that is run (for --verbose). */
  onCommand?: (server: string, line: string) => void
  /** Called once per server with who it logs in as and where that came from (for --verbose). */
  onLogin?: (server: string, note: string) => void
  /** Called once per server with how its master came to be: opened, reused or replaced (for --verbose). */
  onMaster?: (server: string, note: string) => void
  /** Called when masters cannot be kept warm this run, with the reason. */
  onWarning?: (message: string) => void
  /**
   * Aborted (reason: the signal's name) when the run is interrupted: commands in flight are cancelled and reported as
   * interrupted, never as a lost connection; no connection and no command starts after it (but evenWhenInterrupted reads).
   */
  interrupted?: AbortSignal
  /** The run's audit context, carried by every connection so the steps that change a server can record it. */
  audit?: AuditContext
}

/**
 * One run's connections: one ControlMaster per server. closeAll ends them (also on Ctrl-C), except warm ones after a
 * run that ended well (`keepWarm`): those idle out by themselves, and the next run with the same settings reuses them.
 */
export interface Session {
  connect(server: Server): Promise<Connection>
  /** Closes this server's connection, if any: the next connect opens a fresh one (a long watch after a lost server). */
  forget?(server: Server): Promise<void>
  closeAll(options?: { keepWarm?: boolean }): Promise<void>
}

/** Where this run's masters live and how long they outlive it. */
interface MasterPlace {
  dir: string
  persist: ControlPersist
}

export function createSession(options: SessionOptions): Session {
  const open = new Map<string, Promise<Connection>>()
  const nameMaster = createMasterNamer()
  let place: Promise<MasterPlace> | undefined
  const openRemote = async (server: Server) => {
    const login = await resolveLogin(server, options)
    place ??= chooseMasterPlace(options)
    const { dir, persist } = await place
    const settings = [
      server.host,
      login.hostName,
      String(login.port),
      login.user,
      options.sshConfig?.path ?? '',
      String(persist),
    ]
    const name = await nameMaster(settings, connectionFiles(server, options.sshConfig))
    return openSsh(server, login, path.join(dir, name), persist, options)
  }
  return {
    connect(server) {
      let connection = open.get(server.name)
      if (!connection) {
        // No new connection after an interrupt; one already open may still serve a read for the summary.
        if (options.interrupted?.aborted) return Promise.reject(interruptedError(server, options.interrupted))
        connection = server.local ? Promise.resolve(localConnection(server, options)) : openRemote(server)
        open.set(server.name, connection)
        connection.catch(() => open.delete(server.name))
      }
      return connection
    },
    async forget(server) {
      const connection = open.get(server.name)
      open.delete(server.name)
      await connection?.then(
        (c) => c.close(),
        () => undefined,
      )
    },
    async closeAll({ keepWarm = false } = {}) {
      const connections = await Promise.allSettled(open.values())
      open.clear()
      const chosen = await place?.catch(() => undefined)
      if (keepWarm && chosen?.persist) return
      await Promise.all(connections.map((c) => (c.status === 'fulfilled' ? c.value.close() : undefined)))
      if (chosen?.persist === false) await fs.rm(chosen.dir, { recursive: true, force: true })
    },
  }
}

async function chooseMasterPlace(options: SessionOptions): Promise<MasterPlace> {
  const setting = options.controlPersist ?? false
  const persist = typeof setting === 'function' ? await setting() : setting
  if (persist !== false) {
    try {
      return { dir: await warmControlDir(), persist }
    } catch (error) {
      // Warm masters only save time: a directory that cannot hold them safely must not fail the run.
      options.onWarning?.(
        `SSH connections are closed at exit this run: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  }
  return { dir: await runControlDir(), persist: false }
}

/** The files ssh reads to make a connection: a change in one must not reuse a master made before it. */
function connectionFiles(server: Server, sshConfig: SshConfigFile | undefined): string[] {
  const home = os.homedir()
  return [
    ...(server.privateKeyPath
      ? [expandHome(server.privateKeyPath)]
      : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((key) => path.join(home, '.ssh', key))),
    server.knownHostsFile ? expandHome(server.knownHostsFile) : path.join(home, '.ssh', 'known_hosts'),
    ...sshConfigFilesRead(sshConfig),
    '/etc/ssh/ssh_known_hosts',
  ]
}

/** The settings of sshOptions that are not the server's own. */
export interface SshSettings {
  controlPath?: string
  timeoutSeconds: number
  batch: boolean
  sshConfig?: SshConfigFile
}

/**
 * ssh options shared by `ssh -G`, the master, every command and rsync's transport. -p and -l only when the inventory
 * sets them (else the ssh config decides), and -l root when nothing names a user (the login is not known yet for -G).
 */
export function sshOptions(server: Server, login: Login | undefined, settings: SshSettings): string[] {
  const args = [
    ...sshConfigArgs(settings.sshConfig),
    ...(settings.controlPath ? ['-o', `ControlPath=${settings.controlPath}`] : []),
    '-o',
    `ConnectTimeout=${settings.timeoutSeconds}`,
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
  ]
  if (server.port !== undefined) args.push('-p', String(server.port))
  if (server.username !== undefined) args.push('-l', server.username)
  else if (login?.userFrom === 'default') args.push('-l', login.user)
  if (settings.batch) args.push('-o', 'BatchMode=yes')
  if (server.privateKeyPath) args.push('-i', expandHome(server.privateKeyPath), '-o', 'IdentitiesOnly=yes')
  if (server.knownHostsFile) args.push('-o', `UserKnownHostsFile=${expandHome(server.knownHostsFile)}`)
  return args
}

type MasterOrigin = 'opened' | 'reused' | 'replaced'

/** Who the server's connection logs in as, from `ssh -G` with the same config file and options (nothing is sent). */
async function resolveLogin(server: Server, options: SessionOptions): Promise<Login> {
  const args = ['-G', ...sshOptions(server, undefined, options), '--', server.host]
  options.onCommand?.(server.name, `ssh ${args.join(' ')}`)
  const result = await runCommand('ssh', args, { timeoutMs: 5000 })
  if (result.exitCode !== 0) {
    const named = options.sshConfig ? ` (${options.sshConfig.path}, named by ${options.sshConfig.source})` : ''
    throw new RemoteError(
      server.name,
      `cannot resolve how to reach ${server.host}: ssh -G exited ${result.exitCode ?? 'on a timeout'}: ${lastLine(result.stderr)}; check the ssh config${named}`,
      result.stderr,
    )
  }
  const login = decideLogin(server, parseResolvedConfig(result.stdout), {
    localUser: localUserName(),
    configNamesUser:
      server.username === undefined && configNamesUser(server.host, readSshConfigText(options.sshConfig)),
  })
  options.onLogin?.(
    server.name,
    describeLogin(login, options.sshConfig ? `the ssh config ${options.sshConfig.path}` : 'the ssh config'),
  )
  return login
}

/** ssh's own default login user; a uid without a passwd entry (some containers) has none, and ssh then fails itself. */
function localUserName(): string {
  try {
    return os.userInfo().username
  } catch {
    return ''
  }
}

/**
 * Starts the master at controlPath, or joins the warm one there (ControlMaster=auto also clears a dead master's socket).
 * A warm master whose server went away (sshd restarted, host gone) still answers on its socket, so the join itself is
 * the test: when it fails, that master is closed and a fresh connection takes its place.
 */
async function startMaster(
  server: Server,
  login: Login,
  base: string[],
  controlPath: string,
  persist: ControlPersist,
  options: SessionOptions,
): Promise<MasterOrigin> {
  const control = (command: string) =>
    runCommand('ssh', [...base, '-O', command, '--', server.host], { timeoutMs: 5000 })
  // A run's own directory is fresh, so its master is always new (yes); a warm one may be there to join (auto).
  const master = [
    '-o',
    `ControlMaster=${persist === false ? 'yes' : 'auto'}`,
    '-o',
    `ControlPersist=${persist || RUN_MASTER_PERSIST_SECONDS}`,
    ...base,
    '--',
    server.host,
    'true',
  ]
  const start = (timeoutSeconds: number) => {
    options.onCommand?.(server.name, `ssh ${master.join(' ')}`)
    return runCommand('ssh', master, { timeoutMs: timeoutSeconds * 1000 })
  }
  // What `ssh -O check` tells, asked on the socket itself (one process less per server and run).
  const warm = persist !== false && (await masterAnswers(controlPath))
  // A live master answers `true` in milliseconds; one whose server is gone hangs until ServerAlive gives up.
  const first = await start(warm ? options.timeoutSeconds : options.timeoutSeconds + 5)
  if (first.exitCode === 0) return warm ? 'reused' : 'opened'
  if (warm) {
    await control('exit')
    const fresh = await start(options.timeoutSeconds + 5)
    if (fresh.exitCode === 0) return 'replaced'
    throw masterError(server, login, fresh.exitCode, fresh.stderr)
  }
  throw masterError(server, login, first.exitCode, first.stderr)
}

function masterError(server: Server, login: Login, exitCode: number | undefined, stderr: string): RemoteError {
  const reason =
    describeSshFailure(stderr, describeEndpoint(server, login)) ??
    `ssh exited ${exitCode ?? 'on a timeout'}: ${lastLine(stderr)}`
  return new RemoteError(server.name, reason, stderr, 'UNREACHABLE')
}

function describeMaster(origin: MasterOrigin, persist: ControlPersist, controlPath: string): string {
  const lifetime = persist === false ? 'closed at exit' : `kept warm ${persist} s after a run that ends well`
  if (origin === 'reused') return `SSH master reused, warm from an earlier run (${controlPath}; no new login)`
  if (origin === 'replaced')
    return `warm SSH master no longer answered (server restarted or gone): replaced by a new connection, ${lifetime} (${controlPath})`
  return `SSH master opened, ${lifetime} (${controlPath})`
}

async function openSsh(
  server: Server,
  login: Login,
  controlPath: string,
  persist: ControlPersist,
  options: SessionOptions,
): Promise<Connection> {
  const base = sshOptions(server, login, { ...options, controlPath })
  const origin = await startMaster(server, login, base, controlPath, persist, options)
  options.onMaster?.(server.name, describeMaster(origin, persist, controlPath))
  const client = ['-o', 'ControlMaster=no', ...base]
  let closed = false
  return {
    server,
    login,
    ...(options.audit ? { audit: options.audit } : {}),
    async run(argv, runOptions = {}) {
      const cancel = cancelOnInterrupt(server, options, runOptions)
      const line = remoteCommand(withPrivilege(login, argv, runOptions.privileged))
      options.onCommand?.(server.name, line)
      const result = await untilInterrupted(
        server,
        cancel,
        runCommand('ssh', [...client, '--', server.host, line], commandOptions(runOptions, cancel)),
      )
      return checkResult(server, login, result.exitCode ?? 255, result.stdout, result.stderr, result.timedOut)
    },
    sshCommand(argv, commandOptions = {}) {
      const line = remoteCommand(withPrivilege(login, argv, commandOptions.privileged))
      options.onCommand?.(server.name, line)
      return ['ssh', [...client, '--', server.host, line]]
    },
    async rsync(localDir, remoteDir, rsyncOptions = {}) {
      const transport = ['ssh', ...client].map(shellQuote).join(' ')
      const args = [
        ...rsyncPermissions(rsyncOptions.permissions),
        '-e',
        transport,
        `${localDir}/`,
        `${server.host}:${remoteDir}/`,
      ]
      const cancel = cancelOnInterrupt(server, options)
      options.onCommand?.(server.name, `rsync ${args.join(' ')}`)
      const result = await untilInterrupted(server, cancel, runCommand('rsync', args, cancel))
      if (result.exitCode !== 0) {
        const reason =
          describeSshFailure(result.stderr, describeEndpoint(server, login)) ??
          `rsync exited ${result.exitCode}: ${lastLine(result.stderr)}`
        throw new RemoteError(server.name, `upload failed: ${reason}`, result.stderr)
      }
    },
    async close() {
      if (closed) return
      closed = true
      // A warm master may be shared with another run: stop takes no new sessions and ends once theirs are done.
      await runCommand('ssh', [...base, '-O', persist === false ? 'exit' : 'stop', '--', server.host], {
        timeoutMs: 5000,
      })
    },
  }
}

/** The same steps on this machine, without SSH (`host: local`). */
function localConnection(server: Server, options: SessionOptions): Connection {
  const user = os.userInfo().username
  const login: Login = {
    host: server.host,
    hostName: server.host,
    port: 0,
    user,
    userFrom: 'default',
    portFrom: 'ssh config',
  }
  return {
    server,
    login,
    ...(options.audit ? { audit: options.audit } : {}),
    async run(argv, runOptions = {}) {
      const cancel = cancelOnInterrupt(server, options, runOptions)
      const full = withPrivilege(login, argv, runOptions.privileged, process.getuid?.() === 0)
      options.onCommand?.(server.name, remoteCommand(full))
      const [file, ...args] = full as [string, ...string[]]
      const result = await untilInterrupted(server, cancel, runCommand(file, args, commandOptions(runOptions, cancel)))
      return checkResult(server, login, result.exitCode ?? 1, result.stdout, result.stderr, result.timedOut)
    },
    sshCommand(argv, commandOptions = {}) {
      const [file, ...args] = withPrivilege(login, argv, commandOptions.privileged, process.getuid?.() === 0) as [
        string,
        ...string[],
      ]
      options.onCommand?.(server.name, remoteCommand([file, ...args]))
      return [file, args]
    },
    async rsync(localDir, remoteDir, rsyncOptions = {}) {
      const cancel = cancelOnInterrupt(server, options)
      const result = await untilInterrupted(
        server,
        cancel,
        runCommand('rsync', [...rsyncPermissions(rsyncOptions.permissions), `${localDir}/`, `${remoteDir}/`], cancel),
      )
      if (result.exitCode !== 0)
        throw new RemoteError(server.name, `copy failed: ${lastLine(result.stderr)}`, result.stderr)
    },
    async close() {},
  }
}

function throwIfInterrupted(server: Server, options: SessionOptions): void {
  if (options.interrupted?.aborted) throw interruptedError(server, options.interrupted)
}

/** The cancel signal for a command of this run (none for a summary's read); throws when the run is already interrupted. */
function cancelOnInterrupt(
  server: Server,
  options: SessionOptions,
  runOptions: RunOptions = {},
): { cancelSignal?: AbortSignal } {
  if (!options.interrupted || runOptions.evenWhenInterrupted) return {}
  throwIfInterrupted(server, options)
  return { cancelSignal: options.interrupted }
}

/**
 * The command's result, or InterruptedError as soon as the run is interrupted (runCommand has then killed the local
 * process). Not waited for: a multiplexed ssh hands its pipes to the master, which keeps them open until the remote
 * command ends; closeAll ends the master, and with it what is left of the command.
 */
function untilInterrupted<T>(
  server: Server,
  cancel: { cancelSignal?: AbortSignal },
  command: PromiseLike<T>,
): Promise<T> {
  const signal = cancel.cancelSignal
  if (!signal) return Promise.resolve(command)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(interruptedError(server, signal))
    signal.addEventListener('abort', onAbort, { once: true })
    command.then((result) => {
      signal.removeEventListener('abort', onAbort)
      // Ended by the interrupt (a Ctrl-C at a terminal also reaches ssh, which exits 255 like a lost connection).
      if (signal.aborted) onAbort()
      else resolve(result)
    }, reject)
  })
}

function interruptedError(server: Server, signal: AbortSignal): InterruptedError {
  return new InterruptedError(String(signal.reason ?? 'a signal'), server.name)
}

function withPrivilege(login: Login, argv: string[], privileged = false, isRoot = login.user === 'root'): string[] {
  return privileged && !isRoot ? ['sudo', '-n', '--', ...argv] : argv
}

function checkResult(
  server: Server,
  login: Login,
  exitCode: number,
  stdout: string,
  stderr: string,
  timedOut: boolean,
): CommandResult {
  if (timedOut) throw new RemoteError(server.name, `a command on ${server.name} did not finish in time`, stderr)
  if (sudoNeedsPassword(stderr)) throw sudoPasswordError(server.name, login.user)
  // Our remote commands never exit 255 themselves: it is ssh saying the connection failed or dropped.
  if (exitCode === 255 && !server.local) {
    const endpoint = describeEndpoint(server, login)
    throw new RemoteError(
      server.name,
      describeSshFailure(stderr, endpoint) ?? `the connection to ${endpoint} was lost (ssh exited 255)`,
      stderr,
      'UNREACHABLE',
    )
  }
  return { stdout, stderr, exitCode }
}

function rsyncPermissions(permissions: 'private' | 'preserve' = 'private'): string[] {
  return permissions === 'private' ? ['-rltp', '--chmod=Du=rwx,Dgo=,Fu=rw,Fgo='] : ['-rltp']
}

/** runCommand's options for one command of run(): its input, timeout, interrupt and line listener. */
function commandOptions(runOptions: RunOptions, cancel: { cancelSignal?: AbortSignal }): CommandOptions {
  return {
    ...(runOptions.input === undefined ? {} : { input: runOptions.input }),
    ...(runOptions.timeoutMs === undefined ? {} : { timeoutMs: runOptions.timeoutMs }),
    ...cancel,
    ...(runOptions.onLine ? { onLine: runOptions.onLine } : {}),
  }
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}
