import type { Connection } from '../remote/connection.ts'
import { RemoteError } from '../errors.ts'

// A release in DeployerPHP's layout: <root>/releases/<name>, with <root>/current switched atomically to it.

export async function uploadRelease(connection: Connection, input: { localDir: string; root: string; release: string }): Promise<{ path: string }> {
  const releasePath = `${input.root}/releases/${input.release}`
  const made = await connection.run(['mkdir', '-p', '--', `${input.root}/releases`, `${input.root}/shared`])
  if (made.exitCode !== 0) throw new RemoteError(connection.server.name, `cannot create ${input.root}/releases: ${made.stderr.trim()}`)
  await connection.rsync(input.localDir, releasePath, { permissions: 'preserve' })
  return { path: releasePath }
}

/** Points current at the release with one rename, so a worker starting meanwhile sees the old or the new release. */
export async function switchCurrent(connection: Connection, input: { root: string; release: string }): Promise<{ previous: string | null }> {
  const current = `${input.root}/current`
  const previous = await connection.run(['readlink', '--', current])
  const next = `${current}.zxs-next`
  const linked = await connection.run(['ln', '-sfn', '--', `releases/${input.release}`, next])
  const moved = linked.exitCode === 0 ? await connection.run(['mv', '-T', '--', next, current]) : linked
  if (moved.exitCode !== 0) throw new RemoteError(connection.server.name, `cannot switch ${current} to releases/${input.release}: ${moved.stderr.trim()}`)
  return { previous: previous.exitCode === 0 ? previous.stdout.trim() : null }
}
