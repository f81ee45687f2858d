import type { Connection } from '../remote/connection.ts'
import type { ProcessStatus } from '../supervisor/process.ts'
import { controlProcesses, readProcesses } from '../supervisor/rpc.ts'
import { type ProgramsResult, readLoadedGroups } from './programs.ts'

// A restart that keeps capacity: the processes of each group are restarted one at a time, and the next one is stopped
// only once the new process is RUNNING (supervisor counted its startsecs) and has kept the same pid for startsecs more.
// A process that does not come back stops the rollout: the ones not yet restarted keep running as they were.

export interface RollingGroup {
  /** The supervisor group, `D-P`. */
  name: string
  /** The program's startsecs: how long a new process must keep its pid before the next one is stopped. */
  startSecs: number
}

export interface RestartedProcess {
  name: string
  oldPid?: number
  newPid: number
}

export interface OneByOneResult extends ProgramsResult {
  restarted: RestartedProcess[]
  /** Processes left as they were because an earlier one did not come back (empty when every restart held). */
  untouched: string[]
}

export async function restartOneByOne(connection: Connection, groups: RollingGroup[]): Promise<OneByOneResult> {
  const before = await readLoadedGroups(
    connection,
    groups.map((g) => g.name),
  )
  const queue = groups.flatMap((group) =>
    before.filter((p) => p.group === group.name).map((process) => ({ group, process })),
  )
  const restarted: RestartedProcess[] = []
  const lines: string[] = []
  let stoppedAt = -1
  for (const [index, { group, process }] of queue.entries()) {
    const attempt = await restartAndHold(connection, process, group.startSecs)
    lines.push(...attempt.lines)
    if (attempt.newPid === undefined) {
      stoppedAt = index
      break
    }
    restarted.push({ name: process.name, ...(process.pid ? { oldPid: process.pid } : {}), newPid: attempt.newPid })
  }
  const { processes } = await readProcesses(
    connection,
    groups.map((g) => g.name),
  )
  const stoppedGroup = stoppedAt >= 0 ? queue[stoppedAt]?.group.name : undefined
  const failed = groups
    .map((g) => g.name)
    .filter((name) => name === stoppedGroup || processes.some((p) => p.group === name && p.state !== 'RUNNING'))
  const untouched = stoppedAt >= 0 ? queue.slice(stoppedAt + 1).map((q) => q.process.name) : []
  return { processes, lines, failed, changed: restarted.length, restarted, untouched }
}

/** Restarts one process; newPid is set only when the new process is RUNNING and kept its pid for startSecs. */
async function restartAndHold(
  connection: Connection,
  process: ProcessStatus,
  startSecs: number,
): Promise<{ lines: string[]; newPid?: number }> {
  // A restart returns once the process is RUNNING (startsecs passed) or has failed to start, as supervisorctl's does.
  const said = await controlProcesses(connection, 'restart', { processes: [process.name] })
  const lines = said.lines
  const started = said.processes.find((p) => p.name === process.name)
  if (started?.state !== 'RUNNING' || !started.pid) {
    return {
      lines: [
        ...lines,
        `${process.name}: ${started?.state ?? 'gone'} after restart; stopping the one-by-one restart here`,
      ],
    }
  }
  await new Promise((resolve) => setTimeout(resolve, startSecs * 1000))
  const held = await statusOf(connection, process.name)
  if (held?.state !== 'RUNNING' || held.pid !== started.pid) {
    const now = held ? `${held.state}${held.pid ? ` pid ${held.pid}` : ''}` : 'gone'
    return {
      lines: [
        ...lines,
        `${process.name}: pid ${started.pid} did not stay up for ${startSecs}s (now ${now}); stopping the one-by-one restart here`,
      ],
    }
  }
  return { lines: [...lines, `${process.name}: RUNNING pid ${held.pid}, held ${startSecs}s`], newPid: held.pid }
}

async function statusOf(connection: Connection, name: string): Promise<ProcessStatus | undefined> {
  return (await readProcesses(connection, [name.split(':')[0] as string])).processes.find((p) => p.name === name)
}
