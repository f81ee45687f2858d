import type { Connection } from '../remote/connection.ts'
import { restartOneByOne } from '../service/one-by-one.ts'
import { controlPrograms } from '../service/programs.ts'
import type { ServerSyncResult } from '../sync/sync-server.ts'
import type { RestartMode } from './options.ts'

// How the programs pick up the new release after `current` switched. A program whose conf the sync changed was
// already restarted as a whole group by supervisor's update (all its processes at once, whatever the mode): only
// the others are restarted here, all at once, one by one, or not at all.

export interface RestartProgram {
  /** The supervisor group, `D-P`. */
  name: string
  startSecs: number
}

export interface ReleaseRestart {
  mode: RestartMode
  /** Groups the sync's update restarted as a whole (conf added or changed). */
  bySync: string[]
  /** Groups restarted here. */
  restarted: string[]
  /** What supervisorctl said. */
  lines: string[]
  /** Set when a one-by-one restart stopped because a process did not come back (the rest keep their old pids). */
  stopped?: string
}

export async function restartForRelease(
  connection: Connection,
  input: { programs: RestartProgram[]; synced: ServerSyncResult; mode: RestartMode },
): Promise<ReleaseRestart> {
  const update = input.synced.activation?.update
  const bySync = new Set([...(update?.added ?? []), ...(update?.updated ?? [])])
  const rest = input.programs.filter((p) => !bySync.has(p.name))
  const base = { mode: input.mode, bySync: input.programs.map((p) => p.name).filter((name) => bySync.has(name)) }
  if (input.mode === 'none' || !rest.length) return { ...base, restarted: [], lines: [] }
  if (input.mode === 'all') {
    const done = await controlPrograms(
      connection,
      'restart',
      rest.map((p) => p.name),
    )
    return { ...base, restarted: rest.map((p) => p.name), lines: done.lines }
  }
  const rolled = await restartOneByOne(connection, rest)
  const stopped =
    rolled.untouched.length || rolled.failed.length
      ? (rolled.lines.at(-1) ?? `not restarted: ${rolled.untouched.join(', ')}`)
      : undefined
  return {
    ...base,
    restarted: rest.map((p) => p.name),
    lines: rolled.lines,
    ...(stopped ? { stopped: `one-by-one restart stopped: ${stopped}` } : {}),
  }
}
