import { PROGRAM_SCHEMA } from '../program-schema.ts'
import type { Connection } from '../remote/connection.ts'
import type { ProcessStatus } from '../supervisor/process.ts'
import type { DesiredState } from '../sync/desired.ts'
import { type LiveState, readLiveState } from '../sync/read-state.ts'
import { releaseName } from './release.ts'

// The gate a server must pass before the rollout goes on: every process of the site's programs RUNNING (within
// --wait) on the release `current` points to, then still RUNNING with the same pid for startsecs + --hold, then the
// health command (when given) exiting 0 in the release, as the site user. Each poll is one remote process
// (readLiveState with the process table), not one supervisorctl per process.

export interface GateProgram {
  /** The supervisor group, `D-P`. */
  name: string
  /** Processes the group must have; 0 when not known (a conf put back by a rollback). */
  numprocs: number
  startSecs: number
}

export interface UpOptions {
  /** What readLiveState reads alongside the process table (the site's files and current link). */
  desired: DesiredState
  programs: GateProgram[]
  /** The site's `current` link: processes must run the release it points to. */
  currentPath: string
  /** The release name current must point to; null: whatever it points to. */
  release: string | null
  /** Compare each process's release with current's (off for --restart none: processes keep their release). */
  checkRelease: boolean
  waitSeconds: number
  pollMs?: number
}

export interface GateOptions extends UpOptions {
  holdSeconds: number
  health?: HealthCommand
  onProgress?: (line: string) => void
}

export interface HealthCommand {
  command: string
  /** The site user: the command runs as this user (sudo -n -u when the login differs). */
  user: string
  /** The new release directory: the command runs there. */
  directory: string
}

export type GateResult = { passed: true; processes: ProcessStatus[]; at: Date } | { passed: false; reason: string }

/** What one look at the process table says: all up, still coming up, or failed for good. */
export type ProcessVerdict =
  | { kind: 'up'; processes: ProcessStatus[] }
  | { kind: 'waiting'; reason: string }
  | { kind: 'failed'; reason: string }

const DEFAULT_POLL_MS = 1000
/** supervisor's own startsecs when a program sets none. */
export const SUPERVISOR_DEFAULT_STARTSECS: number = PROGRAM_SCHEMA.startsecs.supervisorDefault

export async function passGate(connection: Connection, options: GateOptions): Promise<GateResult> {
  const up = await waitUntilUp(connection, options)
  if (!up.passed) return up
  const holdSeconds = Math.max(0, ...options.programs.map((p) => p.startSecs)) + options.holdSeconds
  options.onProgress?.(
    `gate: ${up.processes.length} process(es) RUNNING${options.checkRelease ? ` on ${options.release ?? 'the current release'}` : ''}; holding ${holdSeconds}s`,
  )
  const held = await hold(connection, options, up.processes, holdSeconds)
  if (held) return { passed: false, reason: held }
  if (options.health) {
    const health = await runHealthCommand(connection, options.health, options.waitSeconds)
    if (!health.ok) return { passed: false, reason: health.reason }
    options.onProgress?.(`gate: health command exited 0`)
  }
  return { passed: true, processes: up.processes, at: new Date() }
}

/** Polls until every process of the programs is RUNNING on the expected release, or says why not. */
export async function waitUntilUp(connection: Connection, options: UpOptions): Promise<GateResult> {
  const deadline = Date.now() + options.waitSeconds * 1000
  for (;;) {
    const verdict = judgeProcesses(await readLiveState(connection, options.desired, { withStatus: true }), options)
    if (verdict.kind === 'up') return { passed: true, processes: verdict.processes, at: new Date() }
    if (verdict.kind === 'failed') return { passed: false, reason: verdict.reason }
    if (Date.now() >= deadline)
      return { passed: false, reason: `${verdict.reason}: not RUNNING after ${options.waitSeconds}s` }
    await sleep(options.pollMs ?? DEFAULT_POLL_MS)
  }
}

export function judgeProcesses(
  live: LiveState,
  options: Pick<UpOptions, 'programs' | 'currentPath' | 'release' | 'checkRelease'>,
): ProcessVerdict {
  const current = live.currents.get(options.currentPath) ?? null
  if (
    options.checkRelease &&
    options.release !== null &&
    (current === null || releaseName(current) !== options.release)
  ) {
    return {
      kind: 'failed',
      reason: `current points to ${current === null ? 'nothing' : releaseName(current)}, not ${options.release} (another deploy?)`,
    }
  }
  const processes: ProcessStatus[] = []
  const waiting: string[] = []
  for (const program of options.programs) {
    const own = (live.processes ?? []).filter((p) => p.group === program.name)
    if (!own.length || own.length < program.numprocs)
      waiting.push(`${program.name}: ${own.length} of ${program.numprocs || 'its'} process(es)`)
    for (const process of own) {
      // FATAL stays FATAL until someone starts it by hand: no point waiting out --wait.
      if (process.state === 'FATAL')
        return {
          kind: 'failed',
          reason: `${process.process} fatal: not RUNNING, supervisor gave up starting it (${process.description || 'see its log'})`,
        }
      if (process.state !== 'RUNNING') waiting.push(`${process.process} ${process.state.toLowerCase()}`)
      else if (options.checkRelease && current !== null && isStale(process, current)) {
        return {
          kind: 'failed',
          reason: `${process.process} runs release ${releaseName(process.releasePath ?? process.cwd ?? '')}, not ${releaseName(current)} (not restarted?)`,
        }
      }
      processes.push(process)
    }
  }
  return waiting.length ? { kind: 'waiting', reason: waiting.join(', ') } : { kind: 'up', processes }
}

/** Why a process that was RUNNING is not the same process any more, or null while it holds. */
export function judgeHold(live: LiveState, held: ProcessStatus[]): string | null {
  const now = new Map((live.processes ?? []).map((p) => [p.name, p]))
  for (const before of held) {
    const process = now.get(before.name)
    if (!process) return `${before.process} disappeared during the hold`
    if (process.state !== 'RUNNING')
      return `${before.process} ${process.state.toLowerCase()} during the hold (was RUNNING, pid ${before.pid})`
    if (process.pid !== before.pid)
      return `${before.process} restarted during the hold (pid ${before.pid} → ${process.pid})`
  }
  return null
}

async function hold(
  connection: Connection,
  options: GateOptions,
  processes: ProcessStatus[],
  seconds: number,
): Promise<string | null> {
  const until = Date.now() + seconds * 1000
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS
  for (;;) {
    await sleep(Math.max(0, Math.min(pollMs, until - Date.now())))
    const broken = judgeHold(await readLiveState(connection, options.desired, { withStatus: true }), processes)
    if (broken) return broken
    if (Date.now() >= until) return null
  }
}

/** The health command in the release directory, as the site user; its exit code decides. */
export async function runHealthCommand(
  connection: Connection,
  health: HealthCommand,
  timeoutSeconds: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const asUser = health.user === loginUser(connection) ? [] : ['sudo', '-n', '-u', health.user, '--']
  const argv = [...asUser, 'sh', '-c', 'cd -- "$1" && exec sh -c "$2"', 'health', health.directory, health.command]
  // A hung command or a sudo that wants a password fails the gate like a non-zero exit.
  const result = await connection
    .run(argv, { timeoutMs: timeoutSeconds * 1000 })
    .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
  if (result instanceof Error)
    return { ok: false, reason: `health command failed: ${result.message}: ${health.command}` }
  if (result.exitCode === 0) return { ok: true }
  const said = (result.stderr.trim() || result.stdout.trim()).split('\n').pop()
  return { ok: false, reason: `health command exited ${result.exitCode}${said ? ` (${said})` : ''}: ${health.command}` }
}

// The process runs the release directory itself or a folder inside it (a worker that changed directory).
function isStale(process: ProcessStatus, current: string): boolean {
  const runs = process.releasePath ?? process.cwd
  return runs !== undefined && runs !== current && !runs.startsWith(`${current}/`)
}

function loginUser(connection: Connection): string {
  return connection.login.user
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
