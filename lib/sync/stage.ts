import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import { RemoteError } from '../errors.ts'
import { STAGE_PREFIX } from '../layout.ts'
import { packageFile } from '../project.ts'
import type { Connection } from '../remote/connection.ts'
import type { RemoteFile } from '../types.ts'

// Uploads the files a plan adds or changes into a fresh private directory on the server, streamed over the
// multiplexed connection (no local copy of rendered content, which may hold secrets). The directory lives while
// its uploader holds its lock: release() ends it; an interrupted or killed run ends it too, and activation
// sweeps the ones whose lock nobody holds. Nothing live is touched here; activation moves the files into place.

export interface StagedFiles {
  remoteDir: string
  /** Destination path → file name inside remoteDir. */
  names: Map<string, string>
  /** Ends the upload session: the server removes the directory (after activation, if one is running). */
  release(): Promise<void>
}

const STAGE_SCRIPT = packageFile('lib/sync/stage.sh')

export async function stageFiles(connection: Connection, files: RemoteFile[]): Promise<StagedFiles> {
  const remoteDir = `${STAGE_PREFIX}${crypto.randomBytes(12).toString('hex')}`
  const names = new Map(files.map((file, index) => [file.path, `f${index}`]))
  const script = await fs.readFile(STAGE_SCRIPT, 'utf8')
  const [file, args] = connection.sshCommand(['sh', '-c', script, 'stage.sh', remoteDir])
  // Loaded here, not at the top: every task imports this module (through the package's entry), few upload.
  const { execa } = await import('execa')
  const holder = execa(file, args, { reject: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
  const body = files.map((f) => `${names.get(f.path)} ${Buffer.from(f.content).toString('base64')}\n`).join('')
  holder.stdin?.write(`${body}END\n`)
  const staged = await new Promise<boolean>((resolve) => {
    let seen = ''
    holder.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      if (seen.includes('STAGED\n')) resolve(true)
    })
    void holder.then(() => resolve(false))
  })
  const release = async () => {
    holder.stdin?.end()
    await holder
  }
  if (!staged) {
    await release()
    const result = await holder
    const needed = files.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0)
    throw new RemoteError(
      connection.server.name,
      uploadFailure(remoteDir, needed, String(result.stdout), String(result.stderr), result.exitCode),
      String(result.stderr),
    )
  }
  return { remoteDir, names, release }
}

const NOTHING_CHANGED = 'nothing was changed on the server (no staged file is left there)'

/** Why the upload failed, from stage.sh's `WRITE-FAILED PATH FREE_KIB REASON` line: a full disk says how much was needed. */
export function uploadFailure(
  remoteDir: string,
  neededBytes: number,
  stdout: string,
  stderr: string,
  exitCode: number | undefined,
): string {
  const failed = /^WRITE-FAILED (\S+) (\S+) ?(.*)$/m.exec(stdout)
  if (!failed)
    return `upload failed: ${(stderr || stdout).trim().split('\n').pop() || `exit ${exitCode}`}; ${NOTHING_CHANGED}`
  const [, where = remoteDir, freeKib = '-', reason = ''] = failed
  const free = /^\d+$/.test(freeKib) ? Number(freeKib) * 1024 : null
  if (/No space left on device/i.test(reason) || (free !== null && free < neededBytes)) {
    const freeText = free === null ? 'the free space there is unknown' : `${bytes(free)} are free there`
    return (
      `upload failed: the disk is full (ENOSPC) at ${remoteDir}: the upload needs ${bytes(neededBytes)}, ${freeText}; ${NOTHING_CHANGED}. ` +
      `Free space on that filesystem (df -h ${remoteDir.slice(0, remoteDir.lastIndexOf('/')) || '/'}), then run the sync again`
    )
  }
  return `upload failed: could not write ${where}: ${reason || 'no reason given'}; ${NOTHING_CHANGED}`
}

function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`
}
