// Where SSH masters live and what their sockets are called: warm masters in a directory private to this user, each
// named by a hash of everything that decides its connection, so a changed setting never reuses an old master.
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

// A UNIX socket path holds at most 108 bytes on Linux (104 on macOS), and ssh first binds "<path>.<16 random chars>".
const SOCKET_PATH_MAX = 104 - 1 - '.0123456789abcdef'.length
const NAME_LENGTH = 24
const DIR_MAX = SOCKET_PATH_MAX - 1 - NAME_LENGTH

/**
 * The private directory for masters that outlive a run: $XDG_RUNTIME_DIR/zxs, else ~/.cache/zx-supervisor/cm, else
 * <tmp>/zxs-cm-<uid> (the first whose socket paths fit). Created 0700; wider permissions are narrowed; a directory
 * that is a symlink or belongs to another user is refused (thrown: the run then closes its masters at exit).
 */
export async function warmControlDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = [
    ...((await runtimeDirOf(env)) ? [path.join(env.XDG_RUNTIME_DIR as string, 'zxs')] : []),
    path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'zx-supervisor', 'cm'),
    path.join(os.tmpdir(), `zxs-cm-${process.getuid?.() ?? 0}`),
    path.join('/tmp', `zxs-cm-${process.getuid?.() ?? 0}`),
  ]
  const dir = candidates.find((candidate) => candidate.length <= DIR_MAX)
  if (!dir) throw new Error(`no directory short enough for SSH control sockets (tried ${candidates.join(', ')})`)
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  await assertPrivate(dir)
  return dir
}

/** A fresh directory for this run's masters only, removed with them at exit. */
export async function runControlDir(): Promise<string> {
  const base = os.tmpdir().length + '/zxs-XXXXXX'.length <= DIR_MAX ? os.tmpdir() : '/tmp'
  return fs.mkdtemp(path.join(base, 'zxs-'))
}

/** Socket names from settings and the files ssh reads for them; files are looked at once per namer. */
export function createMasterNamer(): (settings: string[], files: string[]) => Promise<string> {
  const stamps = new Map<string, Promise<string>>()
  const stampOf = (file: string) => {
    let stamp = stamps.get(file)
    if (!stamp) {
      stamp = fileStamp(file)
      stamps.set(file, stamp)
    }
    return stamp
  }
  return async (settings, files) => {
    const identity = JSON.stringify([settings, await Promise.all(files.map(stampOf))])
    return createHash('sha256').update(identity).digest('hex').slice(0, NAME_LENGTH)
  }
}

/** Changes whenever the file is written, replaced, re-permissioned, created or removed; its content is never read. */
async function fileStamp(file: string): Promise<string> {
  const stat = await fs.stat(file, { bigint: true }).catch(() => undefined)
  return stat ? `${file}:${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}` : `${file}:-`
}

/** Only a runtime dir of this user counts: sudo may pass on another user's $XDG_RUNTIME_DIR. */
async function runtimeDirOf(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!env.XDG_RUNTIME_DIR || !path.isAbsolute(env.XDG_RUNTIME_DIR)) return false
  const stat = await fs.lstat(env.XDG_RUNTIME_DIR).catch(() => undefined)
  return Boolean(stat?.isDirectory() && stat.uid === process.getuid?.())
}

async function assertPrivate(dir: string): Promise<void> {
  const stat = await fs.lstat(dir)
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?); remove it`)
  if (stat.uid !== process.getuid?.()) throw new Error(`${dir} belongs to uid ${stat.uid}, not to this user; remove it`)
  // Anyone who can reach a master's socket can run commands on its server as us.
  if (stat.mode & 0o077) await fs.chmod(dir, 0o700)
}

// OpenSSH's multiplexing protocol (PROTOCOL.mux): a master greets every client that connects to its socket with
// a length-prefixed MUX_MSG_HELLO (uint32 length, uint32 type 1, uint32 version).
const MUX_MSG_HELLO = 1

/**
 * Whether a live master listens on the socket: it greets us within timeoutMs. The same answer as `ssh -O check`,
 * without starting a process: a socket a dead master left refuses the connection, a missing one does not exist.
 */
export function masterAnswers(socketPath: string, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: socketPath })
    let received = Buffer.alloc(0)
    const done = (answer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 8) done(received.readUInt32BE(4) === MUX_MSG_HELLO)
    })
    socket.on('error', () => done(false))
    socket.on('close', () => done(false))
  })
}
