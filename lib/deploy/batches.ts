import type { Problem } from '../types.ts'

// How a rollout is cut into batches, and how many failed servers it tolerates: pure, so the plan can be checked
// before any server is contacted and tested as a table.

/** A number of servers, given as a count (`3`) or as a share of the fleet (`25%`). */
export type Share = { count: number } | { percent: number }

/**
 * `N` or `N%` from a flag. `least` is the smallest count allowed (1 for a batch size, 0 for a failure budget);
 * a share is a whole percentage from `least` to 100.
 */
export function parseShare(
  text: string,
  field: string,
  least: 0 | 1,
): { ok: true; share: Share } | { ok: false; problem: Problem } {
  const percent = /^(\d{1,3})%$/.exec(text)
  if (percent && Number(percent[1]) >= least && Number(percent[1]) <= 100)
    return { ok: true, share: { percent: Number(percent[1]) } }
  if (/^\d{1,9}$/.test(text) && Number(text) >= least) return { ok: true, share: { count: Number(text) } }
  return {
    ok: false,
    problem: {
      field,
      value: text,
      allowed: `a whole number N ≥ ${least}, or a share of the site's servers N% from ${least}% to 100%`,
      hint: `for example ${field}=${least === 0 ? '1' : '2'} or ${field}=25%`,
    },
  }
}

/** A batch's size: a share of the fleet is rounded up, and a batch holds at least one server. */
export function batchSize(share: Share, fleet: number): number {
  const size = 'count' in share ? share.count : Math.ceil((fleet * share.percent) / 100)
  return Math.max(1, size)
}

/** How many servers may fail over the whole rollout: a share of the fleet is rounded down (never more than asked). */
export function failureBudget(share: Share, fleet: number): number {
  return 'count' in share ? share.count : Math.floor((fleet * share.percent) / 100)
}

/** The servers in the order they deploy: a canary batch first (when asked), then batches of `batch` servers. */
export function planBatches<T>(servers: T[], options: { batch: Share; canary?: number }): T[][] {
  const batches: T[][] = []
  let rest = servers
  if (options.canary) {
    batches.push(rest.slice(0, options.canary))
    rest = rest.slice(options.canary)
  }
  const size = batchSize(options.batch, servers.length)
  for (let start = 0; start < rest.length; start += size) batches.push(rest.slice(start, start + size))
  return batches
}
