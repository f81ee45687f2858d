import crypto from 'node:crypto'
import os from 'node:os'
import { hasUrlCredentials, isSecretName, REDACTED } from './redact.ts'

// The audit trail: who changed what on a server, one JSON line per change in /var/log/zx-supervisor/audit.log there.
// The client prepares the line's fields here (a pure function of the run and the change); the remote process that
// makes the change adds the time, its result and a short reason, and appends the line when the change ends
// (lib/supervisor/supervisor.py audit-append), so a line exists even when the client died half-way.

/** Where the lines go on every server (root 0640, in a root 0750 directory). */
export const AUDIT_DIR = '/var/log/zx-supervisor'
export const AUDIT_LOG = `${AUDIT_DIR}/audit.log`
/** A line is written with one write(2) under this size, so concurrent appends never interleave. */
export const AUDIT_LINE_MAX_BYTES = 4000
/** What the client's part may take: the server adds time, result and a reason (cut to 200 characters). */
export const AUDIT_ENTRY_MAX_BYTES = 3400
/** Items kept per list before it is cut (and marked truncated). */
const LIST_MAX = 50
/** Characters kept of one flag value. */
const VALUE_MAX = 200
/** The task name of steps a forked script calls directly, outside a task frame. */
export const SCRIPT_TASK = 'script'

export type AuditFlagValue = string | boolean | string[]

/** One task run, as every line it writes names it. */
export interface AuditContext {
  /** Random, one per run: the lines of one deploy (switch, sync, restart, rollback) share it. */
  runId: string
  /** The local user and machine that ran the task. */
  user: string
  host: string
  task: string
  /** The flags given on the command line, with their values; secret-looking ones redacted. Never environment values. */
  flags: Record<string, AuditFlagValue>
  inventoryId: string | null
}

/** Which change a line records. */
export type AuditAction = 'sync' | 'start' | 'stop' | 'restart' | 'switch' | 'rollback' | 'service'

export interface AuditChange {
  /** Paths written or removed. */
  files?: string[]
  groups?: { updated?: string[]; restarted?: string[]; stopped?: string[]; started?: string[] }
  /** Where `current` points after a deploy switch or rollback. */
  release?: string | null
  /** supervisord itself: the action asked. */
  service?: string
}

export interface AuditContextInput {
  task: string
  flags: Record<string, unknown>
  /** The flags typed (the rest are defaults and are left out). */
  given?: Iterable<string>
  inventoryId?: string | null
  runId?: string
  user?: string
  host?: string
}

/** The context of one run: pure but for the defaults (a random run id, os.userInfo, os.hostname). */
export function createAuditContext(input: AuditContextInput): AuditContext {
  const given = input.given ? new Set(input.given) : undefined
  const flags: Record<string, AuditFlagValue> = {}
  for (const [name, value] of Object.entries(input.flags)) {
    if (name === '_' || value === undefined || value === null) continue
    if (given && !given.has(name)) continue
    // minimist's camelCase twins and aliases of a flag already recorded carry nothing new.
    if (/[A-Z]/.test(name) || name.length === 1) continue
    const recorded = auditFlagValue(name, value)
    if (recorded !== undefined) flags[name] = recorded
  }
  return {
    runId: input.runId ?? crypto.randomBytes(6).toString('hex'),
    user: input.user ?? localUser(),
    host: input.host ?? os.hostname(),
    task: input.task,
    flags,
    inventoryId: input.inventoryId ?? null,
  }
}

/** A flag's value as a line records it: secret-looking names and URLs with credentials redacted, long values cut. */
export function auditFlagValue(name: string, value: unknown): AuditFlagValue | undefined {
  if (typeof value === 'boolean') return value
  if (Array.isArray(value)) return value.map((item) => auditScalar(name, item))
  if (typeof value === 'string' || typeof value === 'number') return auditScalar(name, value)
  return undefined
}

function auditScalar(name: string, value: unknown): string {
  const text = String(value)
  // `--set DB_PASSWORD=x` names its secret in the value.
  const assigned = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(text)?.[1]
  if (isSecretName(name) || hasUrlCredentials(text) || (assigned && isSecretName(assigned))) return REDACTED
  return text.length > VALUE_MAX ? `${text.slice(0, VALUE_MAX - 3)}...` : text
}

let scriptContext: AuditContext | undefined

/** A connection's context, or (steps called from a forked script, outside a task frame) one for this process. */
export function auditOf(connection: { audit?: AuditContext | undefined }): AuditContext {
  if (connection.audit) return connection.audit
  scriptContext ??= createAuditContext({ task: SCRIPT_TASK, flags: {} })
  return scriptContext
}

/**
 * The client's part of one line, as the JSON the remote writer completes (time first; result and reason last).
 * Lists are cut to fit AUDIT_ENTRY_MAX_BYTES, and `truncated: true` says so.
 */
export function auditEntry(context: AuditContext, server: string, action: AuditAction, change: AuditChange): string {
  const build = (listMax: number, flags: Record<string, AuditFlagValue>) => {
    let truncated = false
    const cut = (list: string[] | undefined) => {
      if (!list) return undefined
      if (list.length <= listMax) return list
      truncated = true
      return list.slice(0, listMax)
    }
    const groups = change.groups
      ? Object.fromEntries(
          Object.entries(change.groups)
            .filter(([, list]) => list?.length)
            .map(([key, list]) => [key, cut(list)]),
        )
      : undefined
    const changed = {
      ...(change.files?.length ? { files: cut(change.files) } : {}),
      ...(groups && Object.keys(groups).length ? { groups } : {}),
      ...(change.release !== undefined ? { release: change.release } : {}),
      ...(change.service ? { service: change.service } : {}),
    }
    return JSON.stringify({
      run: context.runId,
      user: context.user,
      host: context.host,
      task: context.task,
      flags,
      inventory: context.inventoryId,
      server,
      action,
      change: changed,
      ...(truncated ? { truncated: true } : {}),
    })
  }
  for (let listMax = LIST_MAX; listMax >= 1; listMax = Math.floor(listMax / 2)) {
    const entry = build(listMax, context.flags)
    if (Buffer.byteLength(entry) <= AUDIT_ENTRY_MAX_BYTES) return entry
  }
  // Still too long (hundreds of long flags): the flags go, and the line says it lost something.
  const entry = JSON.parse(build(1, {})) as Record<string, unknown>
  return JSON.stringify({ ...entry, truncated: true })
}

function localUser(): string {
  try {
    return os.userInfo().username
  } catch {
    // A uid without a passwd entry (some containers).
    return String(process.getuid?.() ?? 'unknown')
  }
}

/** The last line of a server's audit trail, as status shows it. */
export interface LastChange {
  time: string
  user: string
  host: string
  task: string
  action: string
  run: string
  result: 'ok' | 'failed'
  reason?: string
}

/** supervisor.py's parsed last line (or null: no trail, or its last line was not JSON); anything malformed is null. */
export function parseLastChange(raw: unknown): LastChange | null {
  if (!raw || typeof raw !== 'object') return null
  const line = raw as Record<string, unknown>
  const text = (key: string) => (typeof line[key] === 'string' ? (line[key] as string) : '?')
  if (typeof line.time !== 'string') return null
  return {
    time: text('time'),
    user: text('user'),
    host: text('host'),
    task: text('task'),
    action: text('action'),
    run: text('run'),
    result: line.result === 'failed' ? 'failed' : 'ok',
    ...(typeof line.reason === 'string' ? { reason: line.reason } : {}),
  }
}

/** `2026-12-05T14:02:11Z alice@laptop supervisor-sync (sync): ok`, or failed with its reason. */
export function describeLastChange(change: LastChange | null | undefined): string {
  if (!change) return 'no change recorded'
  const result = change.result === 'failed' ? `failed${change.reason ? ` (${change.reason})` : ''}` : 'ok'
  return `${change.time} ${change.user}@${change.host} ${change.task} (${change.action}): ${result}`
}
