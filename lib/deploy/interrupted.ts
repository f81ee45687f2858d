import type { FlagSpec, ParsedFlags } from '../cli/flags.ts'
import { InterruptedError } from '../errors.ts'
import { shellQuote } from '../remote/quote.ts'

// Where an interrupted deploy left each server, from the step it was at when the interrupt came (and, for a step
// whose effect the client cannot know, where `current` points now), and the command that finishes the deploy.

/** The step of one server's deploy in flight, or reached last (set as each step starts). */
export type DeployStep = 'connect' | 'upload' | 'switch' | 'gate' | 'prune' | 'rollback'

/**
 * not-started: nothing was done there. upload-cut-off: part of the release may be there, current unchanged.
 * uploaded: the release is there, current unchanged. switched: current on the new release, not gated (the conf sync,
 * restart or gate was cut off: programs may still run the old release). deployed: the gate had passed. failed: it had
 * failed and its rollback was cut off.
 */
export type InterruptedOutcome = 'not-started' | 'upload-cut-off' | 'uploaded' | 'switched' | 'deployed' | 'failed'

/** `current`: the release current points to now, when read back (undefined: not read). */
export function interruptedOutcome(
  step: DeployStep,
  release: string,
  current: string | null | undefined,
): InterruptedOutcome {
  switch (step) {
    case 'connect':
      return 'not-started'
    case 'upload':
      return 'upload-cut-off'
    // The switch is one rename on the server, done or not: current says which.
    case 'switch':
      return current === release ? 'switched' : 'uploaded'
    case 'gate':
      return 'switched'
    case 'prune':
      return 'deployed'
    case 'rollback':
      return 'failed'
  }
}

/** The recap note: the release current points to, then what happened. */
export function describeInterrupted(
  outcome: InterruptedOutcome,
  release: string,
  current: string | null | undefined,
  reason?: string,
): string {
  const runs = current === undefined ? '' : `${current ?? 'no release'} `
  switch (outcome) {
    case 'not-started':
      return `${runs}(not started)`
    case 'upload-cut-off':
      return `${runs}(interrupted: upload of ${release} cut off; current not switched)`
    case 'uploaded':
      return `${runs}(interrupted: ${release} uploaded, current not switched)`
    case 'switched':
      return `${runs}(interrupted: switched, not gated)`
    case 'deployed':
      return `${runs}(new)`
    case 'failed':
      return `${runs}(failed: ${reason ?? 'see above'}; interrupted during its rollback)`
  }
}

/** Our own interrupt, not a failure: the run's signal fired (a Ctrl-C at a terminal also makes ssh exit 255 first). */
export function isInterrupt(error: unknown, interrupted: AbortSignal): boolean {
  return error instanceof InterruptedError || interrupted.aborted
}

/**
 * The command that finishes the deploy: the flags as given, with the site, the folder and the release pinned to what
 * was deployed (a site or folder answered at a prompt included), so the uploaded release is reused and the servers
 * already switched stay on it.
 */
export function sameDeployCommand(
  script: string,
  specs: FlagSpec[],
  flags: ParsedFlags,
  given: Set<string>,
  deployed: { domain: string; appDir: string; release: string },
): string {
  const pinned: Record<string, string> = {
    domain: deployed.domain,
    'app-dir': deployed.appDir,
    release: deployed.release,
  }
  const args: string[] = []
  for (const spec of specs) {
    const value = spec.name in pinned ? pinned[spec.name] : given.has(spec.name) ? flags[spec.name] : undefined
    if (value === undefined || value === null) continue
    if (value === true) args.push(`--${spec.name}`)
    else if (value === false) args.push(`--no-${spec.name}`)
    else args.push(`--${spec.name}`, shellQuote(String(value)))
  }
  return ['npx', 'zx', script, ...args].join(' ')
}
