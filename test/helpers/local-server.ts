import type { Server } from '../../lib/types.ts'

/** A `host: local` server: steps run on this machine, no SSH (for unit tests of connections and streams). */
export const LOCAL_SERVER: Server = {
  name: 'here',
  host: 'local',
  port: 22,
  username: 'root',
  groups: [],
  siteUser: 'deployer',
  sitesPath: '/home/deployer/sites',
  local: true,
}
