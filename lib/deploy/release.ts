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

/** Points current back where it pointed before a switch (`previous` as switchCurrent returned it; null: no current then). */
export async function restoreCurrent(connection: Connection, input: { root: string; previous: string | null }): Promise<{ current: string | null }> {
  const current = `${input.root}/current`
  if (input.previous === null) {
    const removed = await connection.run(['rm', '-f', '--', current])
    if (removed.exitCode !== 0) throw new RemoteError(connection.server.name, `cannot remove ${current}: ${removed.stderr.trim()}`)
    return { current: null }
  }
  const next = `${current}.zxs-next`
  const linked = await connection.run(['ln', '-sfn', '--', input.previous, next])
  const moved = linked.exitCode === 0 ? await connection.run(['mv', '-T', '--', next, current]) : linked
  if (moved.exitCode !== 0) throw new RemoteError(connection.server.name, `cannot switch ${current} back to ${input.previous}: ${moved.stderr.trim()}`)
  return { current: input.previous }
}

/** The release name current points to (null: no current yet). Reads only. */
export async function readCurrentRelease(connection: Connection, input: { root: string }): Promise<string | null> {
  const link = await connection.run(['readlink', '--', `${input.root}/current`])
  return link.exitCode === 0 ? releaseName(link.stdout.trim()) : null
}

/**
 * Removes all but the `keep` most recently uploaded releases; the ones named in `protect` (current, previous) always
 * stay. Upload order is the directory's change time: rsync sets a release's mtime from the local folder, so mtime
 * says nothing about when it arrived.
 */
export async function pruneReleases(connection: Connection, input: { root: string; keep: number; protect: (string | null)[] }): Promise<{ removed: string[] }> {
  const releases = `${input.root}/releases`
  const listed = await connection.run(['find', releases, '-mindepth', '1', '-maxdepth', '1', '-type', 'd', '-printf', '%C@ %f\\n'])
  if (listed.exitCode !== 0) throw new RemoteError(connection.server.name, `cannot list ${releases}: ${listed.stderr.trim()}`)
  const protect = new Set(input.protect.flatMap((name) => (name ? [releaseName(name)] : [])))
  const newestFirst = listed.stdout.split('\n').flatMap((line) => {
    const match = /^(\d+(?:\.\d+)?) ([A-Za-z0-9._-]+)$/.exec(line.trim())
    return match && !(match[2] as string).startsWith('.') ? [{ uploaded: Number(match[1]), name: match[2] as string }] : []
  }).sort((a, b) => b.uploaded - a.uploaded || b.name.localeCompare(a.name))
  const removed = newestFirst.slice(input.keep).map((r) => r.name).filter((name) => !protect.has(name))
  if (!removed.length) return { removed }
  const deleted = await connection.run(['rm', '-rf', '--', ...removed.map((name) => `${releases}/${name}`)])
  if (deleted.exitCode !== 0) throw new RemoteError(connection.server.name, `cannot remove old releases (${removed.join(', ')}): ${deleted.stderr.trim()}`)
  return { removed }
}

/** `releases/r1` or `/home/deployer/sites/d/releases/r1` → `r1`. */
export function releaseName(link: string): string {
  return link.replace(/\/+$/, '').split('/').pop() ?? link
}
