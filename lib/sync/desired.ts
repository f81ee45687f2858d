import path from 'node:path'
import type { RemoteFile, Server, Site } from '../types.ts'
import { programFullName, renderProgramFiles, renderRunner } from '../render/program-files.ts'
import { createRenderer, type Renderer } from '../render/templates.ts'
import { siteRoot, siteUser } from '../inventory/resolve.ts'

// What one server should hold for the sites in scope, rendered locally before any connection is made,
// so a value that cannot be encoded stops the run before anything is sent anywhere.

export interface DesiredProgram {
  domain: string
  program: string
  /** `<domain>-<program>`: the supervisor group, conf and log name. */
  fullName: string
  /** Where runner.sh will look for the script on the server. */
  scriptPath: string
  numprocs: number
}

export interface DesiredDirectory {
  path: string
  owner: string
  group: string
  mode: string
}

export interface DesiredState {
  server: Server
  domains: string[]
  programs: DesiredProgram[]
  directories: DesiredDirectory[]
  files: RemoteFile[]
}

export function renderDesiredState(input: { templatesDir: string; server: Server; sites: Site[]; renderer?: Renderer }): DesiredState {
  const { templatesDir, server, sites } = input
  const renderer = input.renderer ?? createRenderer({ templatesDir })
  const state: DesiredState = { server, domains: [], programs: [], directories: [], files: [] }
  for (const site of sites) {
    state.domains.push(site.domain)
    const root = siteRoot(server, site)
    const user = siteUser(server, site)
    state.directories.push({ path: root, owner: user, group: user, mode: '0755' })
    state.files.push(renderRunner({ templatesDir, server, site, renderer }))
    for (const program of site.supervisors) {
      state.files.push(...renderProgramFiles({ templatesDir, server, site, program, renderer }))
      state.programs.push({
        domain: site.domain,
        program: program.program,
        fullName: programFullName(site, program),
        scriptPath: path.posix.join(root, 'current', '.deployer', 'supervisors', program.script),
        numprocs: program.numprocs,
      })
    }
  }
  return state
}

/** Renders every server's desired state up front (all input errors surface before any connection). */
export function renderDesiredStates(input: { templatesDir: string; servers: Server[]; sitesOn: (server: Server) => Site[] }): (server: Server) => DesiredState {
  const renderer = createRenderer({ templatesDir: input.templatesDir })
  const states = new Map(input.servers.map((server) => [server.name, renderDesiredState({ templatesDir: input.templatesDir, server, sites: input.sitesOn(server), renderer })]))
  return (server) => {
    const state = states.get(server.name)
    if (!state) throw new Error(`no desired state rendered for ${server.name}`)
    return state
  }
}
