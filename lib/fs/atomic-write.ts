// Files that appear complete or not at all: the content goes to a private temp file beside the target (fsync'd, with
// its final mode), which then takes the target's name in one step — rename() to replace a file, link() to create one
// without ever replacing anything.
import { randomBytes } from 'node:crypto'
import { type FileHandle, link, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises'
import path from 'node:path'

/** The file no longer holds what the caller read: replacing it now would lose someone else's change. */
export class FileChangedError extends Error {
  readonly path: string
  constructor(file: string) {
    super(`${file} changed on disk since it was read`)
    this.name = 'FileChangedError'
    this.path = file
  }
}

/**
 * Replaces `file` with `content`, only while it still holds `expected` (a missing file counts as holding '').
 * A symlink is written through, to its target. The file keeps its mode (and, when run as root, its owner); a new
 * file is 0600. Throws FileChangedError, or the file system's own error.
 */
export async function replaceFile(file: string, content: string, expected: string): Promise<void> {
  const target = await realpath(file).catch(() => file)
  await assertHolds(target, expected, file)
  const current = await stat(target).catch(() => undefined)
  const owner = current && process.getuid?.() === 0 ? { uid: current.uid, gid: current.gid } : undefined
  const temp = await writeTempBeside(target, content, current ? current.mode & 0o777 : 0o600, owner)
  try {
    await assertHolds(target, expected, file)
    await rename(temp, target)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await syncDirectory(path.dirname(target))
}

/** Writes `content` to `target` with `mode` unless something exists there (a dangling symlink too); true when written. */
export async function writeNewFile(target: string, content: string, mode: number): Promise<boolean> {
  const temp = await writeTempBeside(target, content, mode)
  try {
    await link(temp, target)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

/** Makes new names and renames in `dir` durable; some file systems refuse to open a directory, which is fine. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined)
  await handle?.sync().catch(() => undefined)
  await handle?.close()
}

/**
 * The whole content in a new temp file next to `target`, on disk, with `mode` set explicitly (the umask cannot narrow
 * it) and private while it is written. Returns its path; the caller gives it its name or removes it.
 */
async function writeTempBeside(
  target: string,
  content: string,
  mode: number,
  owner?: { uid: number; gid: number },
): Promise<string> {
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  )
  let handle: FileHandle | undefined
  try {
    handle = await open(temp, 'wx', 0o600)
    await handle.writeFile(content, 'utf8')
    if (owner) await handle.chown(owner.uid, owner.gid)
    await handle.chmod(mode)
    await handle.sync()
    await handle.close()
    return temp
  } catch (error) {
    await handle?.close().catch(() => undefined)
    if (handle) await unlink(temp).catch(() => undefined)
    throw error
  }
}

async function assertHolds(target: string, expected: string, shownAs: string): Promise<void> {
  const current = await readFile(target, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return ''
    throw error
  })
  if (current !== expected) throw new FileChangedError(shownAs)
}
