import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { RemoteFile } from '../types.ts'
import type { Connection } from '../remote/connection.ts'

// Uploads the files a plan adds or changes into a fresh private directory on the server (rsync over the
// multiplexed connection). Nothing live is touched here; activation moves them into place.

export interface StagedFiles {
  remoteDir: string
  /** Destination path → file name inside remoteDir. */
  names: Map<string, string>
}

export async function stageFiles(connection: Connection, files: RemoteFile[]): Promise<StagedFiles> {
  const remoteDir = `/var/tmp/zxs-stage-${crypto.randomBytes(12).toString('hex')}`
  const names = new Map(files.map((file, index) => [file.path, `f${index}`]))
  // Private local copy: rendered confs may hold environment secrets.
  const localDir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-stage-'))
  try {
    await Promise.all(files.map((file) => fs.writeFile(path.join(localDir, names.get(file.path) as string), file.content, { mode: 0o600 })))
    await connection.rsync(localDir, remoteDir)
  } finally {
    await fs.rm(localDir, { recursive: true, force: true })
  }
  return { remoteDir, names }
}
