import type { Program, Server, Site } from '../../lib/types.ts'

// Small inventories for unit tests, as the loader returns them (every default filled in).

export const server = (name: string, groups: string[] = []): Server => ({
  name,
  host: '127.0.0.9',
  port: 22,
  username: 'deployer',
  groups,
  siteUser: 'deployer',
  sitesPath: '/home/deployer/sites',
  local: false,
})

export const program = (name: string): Program => ({
  program: name,
  script: `${name}.sh`,
  autostart: true,
  autorestart: true,
  stopwaitsecs: 3600,
  numprocs: 1,
  environment: {},
})

export const site = (domain: string, servers: string[], programs: string[]): Site => ({
  domain,
  servers,
  supervisors: programs.map(program),
})
