import type { Problem } from './types.ts'

export const EXIT = { ok: 0, failed: 1, badInput: 2, notRunning: 3, interrupted: 130 } as const

/** Base of every error a task turns into a message and an exit code. */
export class ZxsError extends Error {
  exitCode: number = EXIT.failed
}

/** Bad flags or inventory: nothing has been written or sent anywhere yet. Exit 2. */
export class InputError extends ZxsError {
  override exitCode: number = EXIT.badInput
  problems: Problem[]
  constructor(problems: Problem[], intro?: string) {
    super([intro, ...problems.map(formatProblem)].filter(Boolean).join('\n'))
    this.name = 'InputError'
    this.problems = problems
  }
}

/**
 * Why a server could not be worked on, as status, recaps and --json name it: no SSH connection, a sudo that wants a
 * password (the server answered: it needs a sudoers rule, not a network fix), or anything else that failed there.
 */
export type ServerFailure = 'UNREACHABLE' | 'SUDO-PASSWORD' | 'FAILED'

/** A server refused, failed or could not be reached. Exit 1. */
export class RemoteError extends ZxsError {
  server: string
  detail: string
  failure: ServerFailure
  constructor(server: string, message: string, detail = '', failure: ServerFailure = 'FAILED') {
    super(message)
    this.name = 'RemoteError'
    this.server = server
    this.detail = detail
    this.failure = failure
  }
}

export function failureOf(error: unknown): ServerFailure {
  return error instanceof RemoteError ? error.failure : 'FAILED'
}

/** The run was stopped by SIGINT/SIGTERM (on `server`: a command there was cut off or not started). Exit 130. */
export class InterruptedError extends ZxsError {
  override exitCode: number = EXIT.interrupted
  server: string | undefined
  constructor(signal: string, server?: string) {
    super(`interrupted by ${signal}`)
    this.name = 'InterruptedError'
    this.server = server
  }
}

export function formatProblem(p: Problem): string {
  const hint = p.hint ? ` Hint: ${p.hint}` : ''
  return `${p.field}: got ${showValue(p.value)}; allowed: ${p.allowed}.${hint}`
}

/** Shows a bad value so that newlines, NULs and invisible characters are visible. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)
  return typeof value === 'string' ? shown : `${shown.slice(1, -1)} (${Array.isArray(value) ? 'list' : typeof value})`
}
