import fs from 'node:fs/promises'
import { RemoteError } from '../errors.ts'
import type { ServerLayout } from '../layout.ts'
import { packageFile } from '../project.ts'
import type { Connection } from '../remote/connection.ts'
import { layoutOptions, runSupervisorScript, supervisorScript } from '../supervisor/rpc.ts'

// What a server's supervisor holds, for supervisor-import: one remote process (lib/import/read-programs.py, with
// lib/supervisor/supervisor.py as its module) reads every config file and asks supervisord what runs. Read only.

const READ_PROGRAMS_SCRIPT = packageFile('lib/import/read-programs.py')

export type SectionKind = 'program' | 'group' | 'eventlistener' | 'fcgi-program' | 'other'

/** One `[kind:name]` section of a config file, its options as written (keys lowercased). */
export interface ConfSection {
  section: string
  kind: SectionKind
  name: string
  options: Record<string, string>
  /** program: the command as supervisor splits it (shlex), or why it cannot. */
  argv?: string[]
  argvError?: string
  /** program: directories at or above its directory and command that hold a `current` entry. */
  currentLinks?: string[]
  /** program: `environment=` as supervisor reads it (%% undone, quotes stripped), or why it cannot be read. */
  environmentPairs?: Array<[string, string]>
  environmentError?: string
}

export interface ConfFile {
  path: string
  /** Why the file was not read (too large, a symlink out of the include directory, unparsable). */
  error?: string
  sections?: ConfSection[]
  /** The file's first two lines (where an ownership marker would be). */
  head?: string
}

export interface RunningProcess {
  group: string
  name: string
  statename: string
  pid: number
}

export interface ServerPrograms {
  layout: ServerLayout
  files: ConfFile[]
  processes: RunningProcess[]
  daemon: { running: boolean; message?: string }
}

/** The script sent to python3: supervisor.py registered as the module zxs_supervisor, then read-programs.py. */
export async function readProgramsSource(): Promise<string> {
  const [library, script] = await Promise.all([supervisorScript(), fs.readFile(READ_PROGRAMS_SCRIPT, 'utf8')])
  // A JSON string is a valid Python string literal: the module's source travels as data, never as shell text.
  return [
    'import sys, types',
    "_zxs = types.ModuleType('zxs_supervisor')",
    `exec(compile(${JSON.stringify(library)}, 'supervisor.py', 'exec'), _zxs.__dict__)`,
    "sys.modules['zxs_supervisor'] = _zxs",
    script,
  ].join('\n')
}

export async function readServerPrograms(connection: Connection): Promise<ServerPrograms> {
  const document = await runSupervisorScript(
    connection,
    'programs',
    layoutOptions(connection.server),
    await readProgramsSource(),
  )
  return parseServerPrograms(connection.server.name, document)
}

/** Checks the document's shape: a document without its parts is an error, never "no programs". */
export function parseServerPrograms(server: string, document: Record<string, unknown>): ServerPrograms {
  if (!document.layout || !Array.isArray(document.files) || !Array.isArray(document.processes) || !document.daemon)
    throw new RemoteError(
      server,
      'the server sent an incomplete list of programs (output cut short?)',
      JSON.stringify(document).slice(0, 500),
    )
  return document as unknown as ServerPrograms
}
