import { siteRoot, siteUser } from '../inventory/resolve.ts'
import {
  currentPath,
  DEBIAN_LAYOUT,
  fullName,
  type PathLayout,
  SITE_DIRECTORY_MODE,
  sameFileLayout,
  scriptPathOnServer,
  siteDirectories,
} from '../layout.ts'
import { type RenderedFile, renderProgramFiles, renderSiteFiles } from '../render/program-files.ts'
import { createRenderer, type Renderer } from '../render/templates.ts'
import type { Server, Site } from '../types.ts'

// What one server should hold for the sites in scope, rendered locally before any connection is made,
// so a value that cannot be encoded stops the run before anything is sent anywhere.

export interface DesiredProgram {
  domain: string
  program: string
  /** `<domain>-<program>`: the supervisor group, conf and log name. */
  fullName: string
  /** Where runner.sh will look for the script on the server. */
  scriptPath: string
  /** The site's `current` link: the release its processes should run. */
  currentPath: string
  numprocs: number
  /** supervisor-import's `imported_from`: the server file the program came from (removed by an --adopt sync). */
  importedFrom?: string
}

export interface DesiredDirectory {
  path: string
  owner: string
  group: string
  mode: string
}

export interface DesiredState {
  server: Server
  /** Written into every marker; only files whose marker names it (or no inventory) are ours to change. */
  inventoryId: string
  /** The sites this run manages on the server. */
  domains: string[]
  /**
   * The run covers every site the inventory places on this server (--server, --all): our files of any other site
   * are leftovers to remove. A --domain run leaves other sites alone.
   */
  wholeServer: boolean
  programs: DesiredProgram[]
  directories: DesiredDirectory[]
  files: RenderedFile[]
  /** The supervisord layout the files were rendered for. */
  layout: PathLayout
  /** The same state rendered for another layout (once the server's own is known). */
  forLayout(layout: PathLayout): DesiredState
}

export interface DesiredInput {
  templatesDir: string
  inventoryId: string
  server: Server
  sites: Site[]
  wholeServer: boolean
  layout?: PathLayout
  renderer?: Renderer
}

export function renderDesiredState(input: DesiredInput): DesiredState {
  const { templatesDir, server, sites, inventoryId, layout = DEBIAN_LAYOUT } = input
  const renderer = input.renderer ?? createRenderer({ templatesDir })
  const state: DesiredState = {
    server,
    inventoryId,
    domains: [],
    wholeServer: input.wholeServer,
    programs: [],
    directories: [],
    files: [],
    layout,
    forLayout: (other) =>
      sameFileLayout(other, layout) ? state : renderDesiredState({ ...input, renderer, layout: other }),
  }
  for (const site of sites) {
    state.domains.push(site.domain)
    const root = siteRoot(server, site)
    const user = siteUser(server, site)
    for (const dir of siteDirectories(root, server.sitesPath)) {
      if (!state.directories.some((d) => d.path === dir))
        state.directories.push({ path: dir, owner: user, group: user, mode: SITE_DIRECTORY_MODE })
    }
    state.files.push(...renderSiteFiles({ templatesDir, server, site, inventoryId, layout, renderer }))
    for (const program of site.supervisors) {
      state.files.push(...renderProgramFiles({ templatesDir, server, site, program, inventoryId, layout, renderer }))
      state.programs.push({
        domain: site.domain,
        program: program.program,
        fullName: fullName(site.domain, program.program),
        scriptPath: scriptPathOnServer(root, program.script),
        currentPath: currentPath(root),
        numprocs: program.numprocs,
        ...(program.imported_from ? { importedFrom: program.imported_from } : {}),
      })
    }
  }
  return state
}

/** Renders every server's desired state up front (all input errors surface before any connection). */
export function renderDesiredStates(input: {
  templatesDir: string
  inventoryId: string
  servers: Server[]
  sitesOn: (server: Server) => Site[]
  wholeServer: boolean
}): (server: Server) => DesiredState {
  const renderer = createRenderer({ templatesDir: input.templatesDir })
  const states = new Map(
    input.servers.map((server) => [
      server.name,
      renderDesiredState({ ...input, server, sites: input.sitesOn(server), renderer }),
    ]),
  )
  return (server) => {
    const state = states.get(server.name)
    if (!state) throw new Error(`no desired state rendered for ${server.name}`)
    return state
  }
}
