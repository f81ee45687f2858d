import { InputError } from '../errors.ts'
import type { Problem } from '../types.ts'
import { checkCommandLine } from '../values.ts'
import { failureBudget, parseShare, type Share } from './batches.ts'

// The rollout's own inputs, checked together before any server is contacted: every problem is reported at once,
// each naming its flag (exit 2).

export const RESTART_MODES = ['all', 'one-by-one', 'none'] as const
export type RestartMode = (typeof RESTART_MODES)[number]

export interface RolloutInput {
  batch: string
  canary?: number
  maxFail: string
  restart: string
  healthCmd?: string
}

export interface RolloutOptions {
  batch: Share
  canary?: number
  /** Failed servers allowed over the whole rollout before it stops. */
  maxFailures: number
  restart: RestartMode
  healthCmd?: string
}

export function checkRolloutOptions(input: RolloutInput, fleet: number): RolloutOptions {
  const problems: Problem[] = []
  const batch = parseShare(input.batch, '--batch', 1)
  if (!batch.ok) problems.push(batch.problem)
  const maxFail = parseShare(input.maxFail, '--max-fail', 0)
  if (!maxFail.ok) problems.push(maxFail.problem)
  if (input.canary !== undefined && input.canary > fleet) {
    problems.push({
      field: '--canary',
      value: String(input.canary),
      allowed: `at most the site's ${fleet} server(s)`,
      hint: 'the canary is the first batch; the rest follow in --batch sizes',
    })
  }
  if (!(RESTART_MODES as readonly string[]).includes(input.restart)) {
    problems.push({
      field: '--restart',
      value: input.restart,
      allowed: RESTART_MODES.join(', '),
      hint: 'all: every process at once; one-by-one: keeps numprocs-1 running; none: you restart them yourself',
    })
  }
  if (input.healthCmd !== undefined) {
    const healthCmd = checkCommandLine(input.healthCmd, '--health-cmd', { fromFlag: true })
    if (!healthCmd.ok) problems.push(healthCmd.problem)
  }
  if (problems.length || !batch.ok || !maxFail.ok) throw new InputError(problems)
  return {
    batch: batch.share,
    ...(input.canary !== undefined ? { canary: input.canary } : {}),
    maxFailures: failureBudget(maxFail.share, fleet),
    restart: input.restart as RestartMode,
    ...(input.healthCmd !== undefined ? { healthCmd: input.healthCmd } : {}),
  }
}
