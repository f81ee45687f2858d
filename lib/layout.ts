// The server contract: everything zx-supervisor puts on a server, declared once. Render, plan, read-state, activate,
// status, logs, delete and deploy all take paths, owners, modes, markers and discovery patterns from here; the remote
// scripts receive them as arguments. Adding a per-program file is one entry in PROGRAM_FILES plus one template.

/** Where a program's scripts live inside a release (and inside the app checkout). */
export const SCRIPTS_DIR = '.deployer/supervisors'
/** Staging directories on the server: one per sync, private to the login user, removed after activation. */
export const STAGE_PREFIX = '/var/tmp/zxs-stage-'
/** The server-wide lock that keeps two activations from interleaving. */
export const SERVER_LOCK = '/run/lock/zx-supervisor.lock'
/** zx-supervisor's own state on a server: root's, private. */
export const STATE_DIR = '/var/lib/zx-supervisor'
/**
 * Originals of adopted files, one directory per adopting sync, each file under its own absolute path:
 * `<ADOPTED_DIR>/<stamp>/etc/supervisor/conf.d/x.conf`. Kept so a migration can be undone; never removed by us.
 */
export const ADOPTED_DIR = `${STATE_DIR}/adopted`
/**
 * The directories of the contract (ManagedFileSpec.parents) that activations created, one path a line: only these are
 * removed, once empty, when the last file of ours leaves them. Root's, private, kept by activate.sh under the lock.
 */
export const CREATED_DIRECTORIES = `${STATE_DIR}/directories`
/** A kept original may hold environment values (secrets): root's only. */
export const KEPT_ORIGINAL = { owner: 'root', group: 'root', mode: '0600' } as const

/** Where one sync keeps the originals it adopts: named by the time it ran, plus a random part against collisions. */
export function adoptionDir(at: Date, random: string): string {
  return `${ADOPTED_DIR}/${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${random}`
}

export function keptOriginalPath(adoptionDirectory: string, file: string): string {
  return `${adoptionDirectory}${file}`
}

/**
 * Each activation runs detached from the SSH session in a directory of its own here (root's, 0700): its output, its
 * exit code, and `.lock`, held while it works. The next activation sweeps the finished ones nobody follows any more.
 */
export const ACTIVATION_RUNS = '/run/zx-supervisor/activations'
/** The inventory id when the file has no top-level `id:`. */
export const DEFAULT_INVENTORY_ID = 'default'

/** The name supervisor knows a program by, and the stem of its conf, logrotate and log files. */
export function fullName(domain: string, program: string): string {
  return `${domain}-${program}`
}

// --- Where supervisord keeps things: read from the server's own config (lib/supervisor/supervisor.py) -----------

/** A server's supervisord layout, from its config: nothing of it is assumed once the server has been read. */
export interface ServerLayout {
  /** The supervisord config file every supervisor call names. */
  config: string
  /** Where program confs go: the directory of its `[include] files = <dir>/*<ext>`, and the extension. */
  confDir: string
  confExt: string
  /** `unix:///run/supervisor.sock` or `http://host:port`. */
  serverurl: string
  /** Where program logs go: the directory of supervisord's own log. */
  logDir: string
  daemonLog: string
  pidFile: string
  /** The systemd unit or init script: `supervisor` (Debian, Ubuntu, Alpine) or `supervisord` (RHEL and kin). */
  service: string
}

/** Debian's and Ubuntu's supervisor package: what files are rendered for before a server has been read. */
export const DEBIAN_LAYOUT: ServerLayout = {
  config: '/etc/supervisor/supervisord.conf',
  confDir: '/etc/supervisor/conf.d',
  confExt: '.conf',
  serverurl: 'unix:///var/run/supervisor.sock',
  logDir: '/var/log/supervisor',
  daemonLog: '/var/log/supervisor/supervisord.log',
  pidFile: '/var/run/supervisord.pid',
  service: 'supervisor',
}

/** Placeholders the server substitutes with its own layout, so one read finds files wherever they live. */
export const LAYOUT_PLACEHOLDERS = { confDir: '{confDir}', confExt: '{confExt}', logDir: '{logDir}' } as const

/** The parts of a layout that decide paths and rendered content. */
export type PathLayout = Pick<ServerLayout, 'confDir' | 'confExt' | 'logDir'>

export function sameFileLayout(a: PathLayout, b: PathLayout): boolean {
  return a.confDir === b.confDir && a.confExt === b.confExt && a.logDir === b.logDir
}

export function programLogPath(layout: Pick<PathLayout, 'logDir'>, name: string): string {
  return `${layout.logDir}/${name}.log`
}

/** Program logs may hold what a worker printed (secrets included): root's, not world-readable, kept through rotation. */
export const PROGRAM_LOG = { owner: 'root', group: 'root', mode: '0640' } as const

/** The default root of a site on a server: `<sitesPath>/<domain>` (a site's `root:` overrides it). */
export function defaultSiteRoot(sitesPath: string, domain: string): string {
  return `${sitesPath}/${domain}`
}

export function currentPath(siteRoot: string): string {
  return `${siteRoot}/current`
}

export function sharedPath(siteRoot: string): string {
  return `${siteRoot}/shared`
}

export function releasesPath(siteRoot: string): string {
  return `${siteRoot}/releases`
}

/** Every directory sync or deploy creates for a site belongs to the site user, with this mode. */
export const SITE_DIRECTORY_MODE = '0755'

/**
 * The directories a site needs, parents first, each created only when missing: the sites path (and any directory
 * between it and the site root) when the site root lies under it, then the site root. All belong to the site user, so
 * a deploy logged in as that user can add releases next to what a sync created as root.
 */
export function siteDirectories(siteRoot: string, sitesPath: string): string[] {
  const parent = sitesPath.replace(/\/+$/, '')
  if (!siteRoot.startsWith(`${parent}/`)) return [siteRoot]
  const below = siteRoot
    .slice(parent.length + 1)
    .split('/')
    .filter(Boolean)
  return [parent, ...below.map((_, i) => `${parent}/${below.slice(0, i + 1).join('/')}`)]
}

/** What a deploy needs besides: the site's directories, then releases/ and shared/ in it. */
export function releaseDirectories(siteRoot: string, sitesPath: string): string[] {
  return [...siteDirectories(siteRoot, sitesPath), releasesPath(siteRoot), sharedPath(siteRoot)]
}

/** Where runner.sh looks for a program's script on the server. */
export function scriptPathOnServer(siteRoot: string, script: string): string {
  return `${currentPath(siteRoot)}/${SCRIPTS_DIR}/${script}`
}

/** What a file's path is computed from. */
export interface PathContext {
  domain: string
  siteRoot: string
  /** The server's parent of site roots (discovery of site files). */
  sitesPath: string
  layout: PathLayout
  /** Program files only. */
  program?: string
  fullName?: string
}

/**
 * How a file carries its ownership marker: a comment line (`;` or `#`), or, for JSON (which has no comments), a first
 * key `"zx-supervisor"` in its top-level object, so the marker travels with the bytes like a comment does.
 */
export type MarkerStyle = ';' | '#' | 'json'

/**
 * Directories a file needs that a server may not have: `top` and every directory below it down to the file's own.
 * Activation creates the missing ones (root's 0755 unless declared) and records them as ours; one is removed when the
 * last file leaves it and it is empty, only if an activation created it. Never name a directory of the system here.
 */
export interface ParentDirectories {
  top(context: Pick<PathContext, 'sitesPath' | 'layout'>): string
  owner?: 'root' | 'site-user'
  mode?: string
}

/** One kind of file zx-supervisor writes on a server. */
export interface ManagedFileSpec {
  /** Short name, also used in messages and JSON (`conf`, `logrotate`, `runner`). */
  kind: string
  /** One per program, one per site, or one per server (no site, no inventory id: SERVER_FILES). */
  scope: 'program' | 'site' | 'server'
  /** The handlebars template it is rendered from (looked up per site first); a program may override the conf's. */
  template: string
  path(context: PathContext): string
  /** The glob that finds every file of this kind on a server (leftovers included). */
  discover(context: Pick<PathContext, 'sitesPath' | 'layout'>): string
  /** How the ownership marker is carried in this file. */
  marker: MarkerStyle
  owner: 'root' | 'site-user'
  mode: string
  /** Directories the file needs that activation creates, and removes when left empty (none: its directory exists). */
  parents?: ParentDirectories
  /** A change to this file must be applied with `supervisorctl update <group>`. */
  updatesGroup: boolean
}

export const PROGRAM_FILES: ManagedFileSpec[] = [
  {
    kind: 'conf',
    scope: 'program',
    template: 'supervisor/program.conf',
    path: (c) => `${c.layout.confDir}/${c.fullName}${c.layout.confExt}`,
    discover: (c) => `${c.layout.confDir}/*${c.layout.confExt}`,
    marker: ';',
    owner: 'root',
    // Environment values may be secrets: supervisord reads confs as root, nobody else needs to.
    mode: '0600',
    updatesGroup: true,
  },
  {
    kind: 'logrotate',
    scope: 'program',
    template: 'supervisor/logrotate',
    path: (c) => `/etc/logrotate.d/supervisor-${c.fullName}.conf`,
    discover: () => '/etc/logrotate.d/supervisor-*.conf',
    marker: '#',
    owner: 'root',
    mode: '0644',
    updatesGroup: false,
  },
]

export const SITE_FILES: ManagedFileSpec[] = [
  {
    kind: 'runner',
    scope: 'site',
    template: 'runner.sh',
    path: (c) => `${c.siteRoot}/runner.sh`,
    discover: (c) => `${c.sitesPath}/*/runner.sh`,
    marker: '#',
    owner: 'site-user',
    mode: '0755',
    updatesGroup: false,
  },
]

export const MANAGED_FILES: ManagedFileSpec[] = [...SITE_FILES, ...PROGRAM_FILES]

/**
 * Server-wide files: no site, no inventory id in the marker (`# zx-supervisor file=<kind>`). Written by the first
 * activation that changes something on the server and finds the file missing (sync/activate.sh `serverfile`); never
 * rewritten once there, never pruned, never a leftover: they are not in MANAGED_FILES, so no plan or status sees them.
 */
export const SERVER_FILES: ManagedFileSpec[] = [
  {
    kind: 'audit-logrotate',
    scope: 'server',
    template: 'audit-logrotate',
    path: () => '/etc/logrotate.d/zx-supervisor',
    discover: () => '/etc/logrotate.d/zx-supervisor',
    marker: '#',
    owner: 'root',
    mode: '0644',
    updatesGroup: false,
  },
]

/** The marker line of a server-wide file. */
export function serverMarkerLine(spec: Pick<ManagedFileSpec, 'kind'>): string {
  return `# ${MARKER_TOKEN} file=${spec.kind}`
}

/** Every discovery glob for a server, in the contract's order (read-state tags each file it finds with the index). */
export function discoveryPatterns(
  sitesPath: string,
  layout: PathLayout = LAYOUT_PLACEHOLDERS,
  files: ManagedFileSpec[] = MANAGED_FILES,
): string[] {
  return files.map((spec) => spec.discover({ sitesPath, layout }))
}

/** A directory a file needs, as activation creates it. */
export interface ContractDirectory {
  path: string
  owner: string
  group: string
  mode: string
}

/**
 * The directories the contract declares for a file at `path`, parents first (`account`: the site user, for
 * directories declared `site-user`). Empty when the spec declares none.
 */
export function parentDirectories(
  spec: Pick<ManagedFileSpec, 'kind' | 'parents'>,
  path: string,
  context: Pick<PathContext, 'sitesPath' | 'layout'>,
  account = 'root',
): ContractDirectory[] {
  if (!spec.parents) return []
  const top = spec.parents.top(context).replace(/\/+$/, '')
  const dir = path.slice(0, path.lastIndexOf('/'))
  if (!top.startsWith('/') || (dir !== top && !dir.startsWith(`${top}/`))) {
    throw new Error(`lib/layout.ts: ${spec.kind}'s parents.top ${top} is not an absolute directory above ${path}`)
  }
  const owner = spec.parents.owner === 'site-user' ? account : 'root'
  const below = dir.slice(top.length).split('/').filter(Boolean)
  const paths = [top, ...below.map((_, i) => `${top}/${below.slice(0, i + 1).join('/')}`)]
  return paths.map((p) => ({ path: p, owner, group: owner, mode: spec.parents?.mode ?? '0755' }))
}

// --- The ownership marker -------------------------------------------------------------------------------------
// Line 1 of every file we write (line 2 when line 1 is a `#!` shebang), in the file's MarkerStyle:
//   `; zx-supervisor inventory=<id> site=<domain> program=<program>`   (program files)
//   `# zx-supervisor inventory=<id> site=<domain> file=<kind>`         (site files)
//   `{"zx-supervisor": "inventory=<id> site=<domain> program=<program>", ...`   (JSON: the object's first key)
// Markers written before inventories had ids have no `inventory=`: they count as the current inventory's.

/** The word every marker starts with; remote scripts use it to pick candidate files cheaply. */
export const MARKER_TOKEN = 'zx-supervisor'

export interface Marker {
  /** null: a marker written before inventories had ids. */
  inventory: string | null
  site: string
  /** Program files name their program; site files their kind. */
  program: string | null
  file: string | null
}

const MARKER_NAME = '[A-Za-z0-9._-]+'
const MARKER_OWNER = `site=(${MARKER_NAME})(?: program=(${MARKER_NAME})| file=(${MARKER_NAME}))`
const MARKER_LINE = new RegExp(`^[;#] ${MARKER_TOKEN}(?: inventory=(${MARKER_NAME}))? ${MARKER_OWNER}\\r?$`)
// The JSON key on line 1 as we write it, or on line 2 after a lone `{` (the file pretty-printed by hand).
const MARKER_KEY = new RegExp(
  `^\\s*\\{?\\s*"${MARKER_TOKEN}"\\s*:\\s*"(?:inventory=(${MARKER_NAME}) )?${MARKER_OWNER}"\\s*[,}]`,
)

/** The marker's text after the comment character (or as the JSON key's value, without the token). */
/** Who a marker names: the inventory, the site, and the program (or, for site files, the kind). */
export interface MarkerOwner {
  inventory: string
  site: string
  program?: string
}

function markerBody(spec: Pick<ManagedFileSpec, 'scope' | 'kind'>, owner: MarkerOwner): string {
  const what = spec.scope === 'program' ? `program=${owner.program}` : `file=${spec.kind}`
  return `inventory=${owner.inventory} site=${owner.site} ${what}`
}

/** The comment line that marks a file (comment styles only; see markFile for every style). */
export function markerLine(spec: Pick<ManagedFileSpec, 'scope' | 'kind'> & { marker: ';' | '#' }, owner: MarkerOwner) {
  return `${spec.marker} ${MARKER_TOKEN} ${markerBody(spec, owner)}`
}

/** Puts the marker on line 1, or on line 2 after a shebang (which must stay first). */
export function withMarker(content: string, marker: string): string {
  if (content.startsWith('#!')) {
    const end = content.indexOf('\n')
    return end === -1 ? `${content}\n${marker}\n` : `${content.slice(0, end + 1)}${marker}\n${content.slice(end + 1)}`
  }
  return `${marker}\n${content}`
}

/**
 * The rendered content with its owner's marker, carried as the spec says. A JSON file must render one object: the
 * marker becomes its first key on line 1; null when the content does not start with `{` (the template is wrong).
 */
export function markFile(
  spec: Pick<ManagedFileSpec, 'marker' | 'scope' | 'kind'>,
  content: string,
  owner: MarkerOwner,
): string | null {
  if (spec.marker !== 'json') return withMarker(content, markerLine({ ...spec, marker: spec.marker }, owner))
  const start = content.search(/\S/)
  if (content[start] !== '{') return null
  const rest = content.slice(start + 1)
  return `{"${MARKER_TOKEN}": "${markerBody(spec, owner)}"${/^\s*\}/.test(rest) ? '' : ','}${rest}`
}

/** The one parser of ownership markers: who wrote this file, or null when it carries no marker of ours. */
export function parseMarker(content: string): Marker | null {
  const [first = '', second = ''] = content.split('\n', 2)
  const match =
    MARKER_LINE.exec(first.startsWith('#!') ? second : first) ?? MARKER_KEY.exec(first.trim() === '{' ? second : first)
  if (!match?.[2]) return null
  return { inventory: match[1] ?? null, site: match[2], program: match[3] ?? null, file: match[4] ?? null }
}

/** The full name of the program a marker names, or null for a site file. */
export function markerProgram(marker: Marker): string | null {
  return marker.program ? fullName(marker.site, marker.program) : null
}

/** Who owns a file at a path we want, from our inventory's point of view. */
export type Ownership =
  | { kind: 'ours'; marker: Marker }
  | { kind: 'unmarked' }
  | { kind: 'other-inventory'; marker: Marker }

export function ownershipOf(content: string, inventoryId: string): Ownership {
  const marker = parseMarker(content)
  if (!marker) return { kind: 'unmarked' }
  if (marker.inventory === null || marker.inventory === inventoryId) return { kind: 'ours', marker }
  return { kind: 'other-inventory', marker }
}

/** "inventory shop, site a.test", "no zx-supervisor marker": for messages naming a file's owner. */
export function describeOwner(ownership: Ownership): string {
  if (ownership.kind === 'unmarked') return 'no zx-supervisor marker (written by hand or by another tool)'
  const { marker } = ownership
  return `inventory '${marker.inventory ?? DEFAULT_INVENTORY_ID}', site ${marker.site}${marker.program ? `, program ${marker.program}` : ''}`
}
