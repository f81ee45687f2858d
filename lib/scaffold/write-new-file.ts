import { randomBytes } from 'node:crypto'
import { link, open, unlink, type FileHandle } from 'node:fs/promises'
import path from 'node:path'

// A new file appears complete or not at all, and never replaces anything: the content goes to a temp file
// beside it, then link() gives it its name, which fails (EEXIST) on any existing entry, a dangling symlink too.

/** Writes `content` to `target` with `mode` unless something exists there; true when written. */
export async function writeNewFile(target: string, content: string, mode: number): Promise<boolean> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await writeComplete(temp, content, mode)
    await link(temp, target)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (error as NodeJS.ErrnoException).syscall === 'link') return false
    throw error
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

/** The whole content on disk (fsync) with its final mode; the mode is set explicitly so the umask cannot narrow it. */
async function writeComplete(file: string, content: string, mode: number): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(file, 'wx', 0o600)
    await handle.writeFile(content, 'utf8')
    await handle.chmod(mode)
    await handle.sync()
  } finally {
    await handle?.close()
  }
}
