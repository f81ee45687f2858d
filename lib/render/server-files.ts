import { AUDIT_LOG } from '../audit.ts'
import { SERVER_FILES } from '../layout.ts'
import { createRenderer, DEFAULT_TEMPLATES_DIR } from './templates.ts'

// The server-wide files of the contract (lib/layout.ts SERVER_FILES), rendered: they belong to no site and no
// inventory, so they are rendered from the shared templates only, with the server's fixed paths as their data.

export interface ServerFile {
  path: string
  owner: string
  group: string
  mode: string
  content: string
}

export function renderServerFiles(templatesDir: string = DEFAULT_TEMPLATES_DIR): ServerFile[] {
  const renderer = createRenderer({ templatesDir })
  return SERVER_FILES.map((spec) => ({
    path: spec.path({} as never),
    owner: 'root',
    group: 'root',
    mode: spec.mode,
    content: renderer.render({ name: spec.template, domain: null, data: { auditLog: AUDIT_LOG } }).content,
  }))
}
