// The validated inventory model every step works on. Loading (lib/inventory/) is the only producer.
import type { ProgramValues } from './program-schema.ts'

export interface Server {
  name: string
  /** IP, hostname, an alias from the ssh config, or "local" to run on this machine without SSH. */
  host: string
  /** Only when the inventory sets it; otherwise the ssh config's Port, else 22. */
  port?: number
  /**
   * SSH login user, only when the inventory sets it; otherwise the ssh config's User, else root. Non-root logins run
   * privileged commands through `sudo -n` (the connection's `login.user` is the one that counts).
   */
  username?: string
  privateKeyPath?: string
  /** zx-supervisor addition: a known_hosts file for this server (host keys stay checked). */
  knownHostsFile?: string
  groups: string[]
  /** The user programs run as and who owns runner.sh (default "deployer"). */
  siteUser: string
  /** Parent of every site root on this server (default "/home/<siteUser>/sites"). */
  sitesPath: string
  /** True for `host: local` or `connection: local`. */
  local: boolean
  /** Overrides for a non-standard supervisor install; otherwise everything is read from the server's own config. */
  supervisor?: SupervisorOverrides
}

/** `supervisor: { config, include_dir, serverurl }` on a server. */
export interface SupervisorOverrides {
  /** The supervisord config file (absolute). */
  config?: string
  /** Where program confs go (absolute; one of the config's `[include]` directories). */
  includeDir?: string
  /** `unix:///path/to.sock` or `http://host:port`. */
  serverurl?: string
}

export type AutoRestart = boolean | 'unexpected'

/** A supervisor program of a site: the keys of lib/program-schema.ts, and its environment. */
export interface Program extends ProgramValues {
  /** Literal values, or references the control machine resolves at run time (lib/secrets.ts) before rendering. */
  environment: Record<string, EnvValue>
  /** Set by resolveEnvironmentRefs: the keys of `environment` whose value came from `{ from_env }` (never shown). */
  resolvedFromEnv?: string[]
}

/** A program as supervisor-create adds it to a site: `environment` is left out when it has no variables. */
export type ProgramEntry = Omit<Program, 'environment'> & { environment?: Record<string, EnvValue> }

/** `{ from_env: VAR }` in the inventory: the value is read from the operator's environment, so the file need not hold it. */
export interface EnvReference {
  fromEnv: string
}

export type EnvValue = string | EnvReference

export interface Site {
  domain: string
  /** Server names, normalised from `server: name` or `server: [a, b]`. */
  servers: string[]
  repo?: string
  branch?: string
  phpVersion?: string
  /** Overrides the server's siteUser for this site. */
  user?: string
  /** Overrides `<sitesPath>/<domain>` for this site. */
  root?: string
  supervisors: Program[]
}

export interface Inventory {
  /** Names this inventory in the ownership marker of every file it writes (top-level `id:`, default "default"). */
  id: string
  servers: Server[]
  sites: Site[]
  /** Top-level `controlPersist:` seconds an idle SSH master outlives a run that ended well, or false; absent: the default. */
  controlPersist?: number | false
  /** Top-level `sshConfig:` the ssh config file for every connection, as written (relative to the inventory's directory). */
  sshConfig?: string
}

/** One thing wrong with an input: where it is, what it was, what is allowed, how to fix it. */
export interface Problem {
  /** Path in the file (`sites[0].supervisors[1].numprocs`) or a flag (`--numprocs`). */
  field: string
  value: unknown
  allowed: string
  hint?: string
}

/** A file as it should be (or is) on a server. */
export interface RemoteFile {
  path: string
  content: string
  owner: string
  group: string
  mode: string
}
