// Which distribution's supervisor layout a host imitates: where its supervisord config, include dir and socket live.
import { InputError } from '../lib/errors.ts'
import { alpineSupervisordConf, rhelSupervisordConf, supervisordConf } from './host-config.ts'

export const SANDBOX_LAYOUTS = ['debian', 'rhel', 'alpine'] as const
export type SandboxLayoutName = (typeof SANDBOX_LAYOUTS)[number]
export const DEFAULT_LAYOUT: SandboxLayoutName = 'debian'

export interface SandboxLayout {
  name: SandboxLayoutName
  /** The config the host's supervisord is started with (`-c`), as the distribution's service does. */
  config: string
  configText: () => string
  /** The socket supervisord binds: the host's readiness signal and `sandbox status`'s check. */
  socket: string
  /** Directories of the private tree the layout needs, relative to the host's `fs` (the include dir among them). */
  dirs: string[]
  /**
   * A config directly in /etc cannot be bind-mounted without a mount point in the machine's /etc (which would
   * become every Debian host's config: supervisord looks for /etc/supervisord.conf first). Such hosts get a
   * private /etc instead: an overlay over the machine's, its upper dir the host's `fs/etc`.
   */
  etcOverlay: boolean
  /** The machine's (Debian's) supervisor files this distribution does not have: hidden in the host's /etc overlay. */
  hidden: string[]
}

/** Debian's supervisor package; the machine's own /etc is shared, private dirs are bind-mounted over it. */
const DEBIAN: SandboxLayout = {
  name: 'debian',
  config: '/etc/supervisor/supervisord.conf',
  configText: supervisordConf,
  socket: '/run/supervisor.sock',
  dirs: ['etc/supervisor', 'etc/supervisor/conf.d'],
  etcOverlay: false,
  hidden: [],
}

/** The machine's Debian supervisor: its config dir, init script and defaults, which RHEL and Alpine hosts lack. */
const DEBIAN_SUPERVISOR_FILES = ['/etc/supervisor', '/etc/init.d/supervisor', '/etc/default/supervisor']

/** RHEL/EPEL's supervisor package (systemd's `supervisord -c /etc/supervisord.conf`). */
const RHEL: SandboxLayout = {
  name: 'rhel',
  config: '/etc/supervisord.conf',
  configText: rhelSupervisordConf,
  socket: '/run/supervisor/supervisor.sock',
  // EPEL's tmpfiles.d makes /run/supervisor at boot; supervisord does not create its socket's directory.
  dirs: ['etc/supervisord.d', 'run/supervisor'],
  etcOverlay: true,
  hidden: DEBIAN_SUPERVISOR_FILES,
}

/** Alpine's supervisor package (OpenRC's `supervisord -c /etc/supervisord.conf`). */
const ALPINE: SandboxLayout = {
  name: 'alpine',
  config: '/etc/supervisord.conf',
  configText: alpineSupervisordConf,
  socket: '/run/supervisord.sock',
  dirs: ['etc/supervisor.d'],
  etcOverlay: true,
  hidden: DEBIAN_SUPERVISOR_FILES,
}

const LAYOUTS: Record<SandboxLayoutName, SandboxLayout> = { debian: DEBIAN, rhel: RHEL, alpine: ALPINE }

/** The layout of a host; a host recorded before layouts existed is a Debian one. */
export function sandboxLayout(name: SandboxLayoutName | undefined): SandboxLayout {
  return LAYOUTS[name ?? DEFAULT_LAYOUT]
}

export function assertLayoutName(name: string): asserts name is SandboxLayoutName {
  if (!(SANDBOX_LAYOUTS as readonly string[]).includes(name)) {
    throw new InputError([
      {
        field: '--layout',
        value: name,
        allowed: SANDBOX_LAYOUTS.join(', '),
        hint: "the distribution whose supervisor layout the hosts imitate (config, include dir, socket); default 'debian'",
      },
    ])
  }
}
