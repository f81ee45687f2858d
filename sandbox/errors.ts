import { EXIT, ZxsError } from '../lib/errors.ts'

/** A host did not come up, or the machine got in the way. Exit 1; `details` holds the host's logs. */
export class SandboxError extends ZxsError {
  details: string
  constructor(message: string, details = '') {
    super(message)
    this.name = 'SandboxError'
    this.details = details
  }
}

/** This machine cannot run a sandbox as things are (not root, packages missing, not Debian). Exit 2. */
export class SandboxRequirementError extends ZxsError {
  override exitCode: number = EXIT.badInput
  constructor(message: string) {
    super(message)
    this.name = 'SandboxRequirementError'
  }
}

/** Fails with the reason the signal was aborted with (e.g. an InterruptedError from the task). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason
}
