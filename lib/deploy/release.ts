import fs from 'node:fs/promises'
import { auditEntry, auditOf } from '../audit.ts'
import { RemoteError } from '../errors.ts'
import { forEachServer } from '../fleet.ts'
import { siteRoot } from '../inventory/resolve.ts'
import { releaseDirectories, releasesPath, SITE_DIRECTORY_MODE } from '../layout.ts'
import { packageFile } from '../project.ts'
import type { Connection, Session } from '../remote/connection.ts'
import { lastLine } from '../remote/ssh-errors.ts'
import { supervisorScript } from '../supervisor/rpc.ts'
import type { Server, Site } from '../types.ts'
import { type CheckOptions, checkReleaseName, requireValid } from '../values.ts'
import { type DeployRollout, serversToReadBack } from './report.ts'

// A release in DeployerPHP's layout: <root>/releases/<name>, with <root>/current switched atomically to it.

/**
 * Uploads the app as releases/<release>. Every directory it creates for the site (sites path, site root, releases/,
 * shared/, the release) and every uploaded file belongs to the site user (`owner`), whoever logs in: created as root
 * with that owner, so a sites path a sync made as root never blocks it, and a root login leaves nothing root's.
 */
export async function uploadRelease(
  connection: Connection,
  input: { localDir: string; root: string; release: string; owner: string; sitesPath?: string },
): Promise<{ path: string }> {
  requireReleaseName(input.release, 'release')
  const releasePath = `${releasesPath(input.root)}/${input.release}`
  const dirs = releaseDirectories(input.root, input.sitesPath ?? input.root)
  const made = await connection.run(
    ['sh', '-c', CREATE_MISSING_DIRS, 'sh', input.owner, SITE_DIRECTORY_MODE, ...dirs],
    { privileged: true },
  )
  if (made.exitCode !== 0)
    throw new RemoteError(
      connection.server.name,
      `cannot create ${dirs.join(', ')} for ${input.owner}: ${lastLine(made.stderr)}`,
      made.stderr,
    )
  await connection.rsync(input.localDir, releasePath, { permissions: 'preserve' })
  const owned = await connection.run(
    [
      'find',
      releasePath,
      '!',
      '-user',
      input.owner,
      '-exec',
      'chown',
      '-h',
      `${input.owner}:${input.owner}`,
      '{}',
      '+',
    ],
    { privileged: true },
  )
  if (owned.exitCode !== 0)
    throw new RemoteError(
      connection.server.name,
      `cannot give ${releasePath} to ${input.owner}: ${lastLine(owned.stderr)}`,
      owned.stderr,
    )
  return { path: releasePath }
}

/** The release name, or an InputError naming `field` (the rulebook's rule): nothing is sent with a bad one. */
export function requireReleaseName(value: unknown, field: string, options?: CheckOptions): string {
  return requireValid(checkReleaseName, value, field, options)
}

/** The default release name: the UTC time to the second, e.g. 20240601120000. */
export function releaseTimestamp(now: Date): string {
  return now.toISOString().replace(/\D/g, '').slice(0, 14)
}

/** The release of a run: `--release` when given (checked, exit 2 naming the flag), else the UTC timestamp of `now`. */
export function releaseFromFlag(flag: unknown, now = new Date()): string {
  return requireReleaseName(flag ?? releaseTimestamp(now), '--release', { fromFlag: true })
}

const SWITCH_SCRIPT = packageFile('lib/deploy/switch-current.sh')
// Creates each missing directory, in order, owned by $1 (user and group) with mode $2; existing ones are left alone.
const CREATE_MISSING_DIRS =
  'o=$1 m=$2; shift 2; for d; do [ -d "$d" ] || install -d -o "$o" -g "$o" -m "$m" -- "$d" || exit 1; done'

/** Points current at the release with one rename, so a worker starting meanwhile sees the old or the new release. */
export async function switchCurrent(
  connection: Connection,
  input: { root: string; release: string },
): Promise<{ previous: string | null }> {
  requireReleaseName(input.release, 'release')
  const current = `${input.root}/current`
  const { previous } = await switchLink(
    connection,
    current,
    `releases/${input.release}`,
    `cannot switch ${current} to releases/${input.release}`,
    'switch',
  )
  return { previous }
}

/** Points current back where it pointed before a switch (`previous` as switchCurrent returned it; null: no current then). */
export async function restoreCurrent(
  connection: Connection,
  input: { root: string; previous: string | null },
): Promise<{ current: string | null }> {
  const current = `${input.root}/current`
  const failure =
    input.previous === null ? `cannot remove ${current}` : `cannot switch ${current} back to ${input.previous}`
  await switchLink(connection, current, input.previous, failure, 'rollback')
  return { current: input.previous }
}

/** switch-current.sh on the server: the temporary link is made, renamed and cleaned up there, never left by a cut-off client. */
async function switchLink(
  connection: Connection,
  current: string,
  target: string | null,
  failure: string,
  action: 'switch' | 'rollback',
): Promise<{ previous: string | null }> {
  const script = await fs.readFile(SWITCH_SCRIPT, 'utf8')
  // The script records the switch in the audit trail itself, on the server, right after it.
  const audit = auditEntry(auditOf(connection), connection.server.name, action, { release: target })
  const switched = await connection.run([
    'sh',
    '-c',
    script,
    'switch-current',
    current,
    target ?? '-',
    await supervisorScript(),
    audit,
  ])
  const said = /^previous(?: (.*)|-none)$/m.exec(switched.stdout)
  if (switched.exitCode !== 0 || !said)
    throw new RemoteError(
      connection.server.name,
      `${failure}: ${switched.stderr.trim() || `exit ${switched.exitCode}`}`,
    )
  return { previous: said[1] ?? null }
}

/**
 * The release uploaded last before `release` (as `releases/<name>`; null: none), for a deploy that finds current
 * already on its own release (the same deploy run again after an interrupt): that one is what a rollback goes back to.
 */
export async function releaseBefore(
  connection: Connection,
  input: { root: string; release: string },
): Promise<string | null> {
  const other = (await listReleases(connection, input.root)).find((r) => r.name !== input.release)
  return other ? `releases/${other.name}` : null
}

/** The release name current points to (null: no current yet). Reads only; `afterInterrupt`: for an interrupted run's summary. */
export async function readCurrentRelease(
  connection: Connection,
  input: { root: string; afterInterrupt?: boolean },
): Promise<string | null> {
  const link = await connection.run(
    ['readlink', '--', `${input.root}/current`],
    input.afterInterrupt ? { evenWhenInterrupted: true, timeoutMs: 10_000 } : {},
  )
  return link.exitCode === 0 ? releaseName(link.stdout.trim()) : null
}

/**
 * Where current points on each of `servers` for the site, by server name (null: no current; undefined: not read,
 * e.g. unreachable). Reads only.
 */
export async function readCurrentReleases(
  session: Session,
  servers: Server[],
  site: Site,
  options: { afterInterrupt?: boolean } = {},
): Promise<Map<string, string | null | undefined>> {
  const read = await forEachServer(servers, session, (server, connection) =>
    readCurrentRelease(connection, { root: siteRoot(server, site), ...options }),
  )
  return new Map(read.map((o) => [o.server.name, o.ok ? o.value : undefined]))
}

/**
 * At the end of a rollout: where current points on the servers whose release the run does not know (not deployed,
 * failed, or cut off by an interrupt). Reads only.
 */
export function readBackReleases(
  session: Session,
  site: Site,
  result: DeployRollout,
): Promise<Map<string, string | null | undefined>> {
  return readCurrentReleases(session, serversToReadBack(result), site, { afterInterrupt: result.interrupted })
}

/**
 * Removes all but the `keep` most recently uploaded releases; the ones named in `protect` (current, previous) always
 * stay. Upload order is the directory's change time: rsync sets a release's mtime from the local folder, so mtime
 * says nothing about when it arrived.
 */
export async function pruneReleases(
  connection: Connection,
  input: { root: string; keep: number; protect: (string | null)[] },
): Promise<{ removed: string[] }> {
  const releases = `${input.root}/releases`
  const protect = new Set(input.protect.flatMap((name) => (name ? [releaseName(name)] : [])))
  const newestFirst = await listReleases(connection, input.root)
  const removed = newestFirst
    .slice(input.keep)
    .map((r) => r.name)
    .filter((name) => !protect.has(name))
  if (!removed.length) return { removed }
  const deleted = await connection.run(['rm', '-rf', '--', ...removed.map((name) => `${releases}/${name}`)])
  if (deleted.exitCode !== 0)
    throw new RemoteError(
      connection.server.name,
      `cannot remove old releases (${removed.join(', ')}): ${deleted.stderr.trim()}`,
    )
  return { removed }
}

/** The release directories, newest upload first (the directory's change time: rsync sets mtime from the local folder). */
async function listReleases(connection: Connection, root: string): Promise<Array<{ uploaded: number; name: string }>> {
  const releases = `${root}/releases`
  const listed = await connection.run([
    'find',
    releases,
    '-mindepth',
    '1',
    '-maxdepth',
    '1',
    '-type',
    'd',
    '-printf',
    '%C@ %f\\n',
  ])
  if (listed.exitCode !== 0)
    throw new RemoteError(connection.server.name, `cannot list ${releases}: ${listed.stderr.trim()}`)
  return listed.stdout
    .split('\n')
    .flatMap((line) => {
      const match = /^(\d+(?:\.\d+)?) (.+)$/.exec(line.trim())
      const name = match?.[2]
      return name && checkReleaseName(name, 'release').ok ? [{ uploaded: Number(match?.[1]), name }] : []
    })
    .sort((a, b) => b.uploaded - a.uploaded || b.name.localeCompare(a.name))
}

/** `releases/r1` or `/home/deployer/sites/d/releases/r1` → `r1`. */
export function releaseName(link: string): string {
  return link.replace(/\/+$/, '').split('/').pop() ?? link
}
