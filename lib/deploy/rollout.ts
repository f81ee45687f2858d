// Batches in order: the servers of a batch deploy together, and the next batch starts only once every server of this
// one has passed its gate or been rolled back. Failed servers are counted over the whole rollout; past the budget
// (--max-fail) the rollout stops after the current batch, and the servers of later batches are never touched.
// An interrupt (the `interrupted` signal) stops it the same way: no batch starts after it.

export interface BatchDone<S, R> {
  /** 1-based, as printed. */
  number: number
  servers: S[]
  results: R[]
  /** Failed servers so far, this batch included. */
  failures: number
  /** The budget is spent: no later batch starts. */
  stopping: boolean
}

export interface RolloutResult<S, R> {
  batches: BatchDone<S, R>[]
  /** Servers of the batches that never started. */
  skipped: S[]
  /** The batch after which the rollout stopped (null: every batch ran). */
  stoppedAfter: number | null
  failures: number
  /** Stopped by the interrupt signal, during or after batch `stoppedAfter`. */
  interrupted: boolean
}

export async function rollOut<S, R>(
  batches: S[][],
  deployBatch: (servers: S[], number: number) => Promise<R[]>,
  options: {
    maxFailures: number
    failed: (result: R) => boolean
    onBatchDone?: (batch: BatchDone<S, R>) => void
    interrupted?: AbortSignal
  },
): Promise<RolloutResult<S, R>> {
  const done: BatchDone<S, R>[] = []
  let failures = 0
  for (const [index, servers] of batches.entries()) {
    if (options.interrupted?.aborted)
      return {
        batches: done,
        skipped: batches.slice(index).flat(),
        stoppedAfter: index || null,
        failures,
        interrupted: true,
      }
    const results = await deployBatch(servers, index + 1)
    failures += results.filter(options.failed).length
    const interrupted = Boolean(options.interrupted?.aborted)
    const batch = {
      number: index + 1,
      servers,
      results,
      failures,
      stopping: (interrupted || failures > options.maxFailures) && index < batches.length - 1,
    }
    done.push(batch)
    // A batch cut off by the interrupt is not "done": the caller's summary says where each of its servers was left.
    const stopHere = () => ({
      batches: done,
      skipped: batches.slice(index + 1).flat(),
      stoppedAfter: batch.number,
      failures,
      interrupted,
    })
    if (interrupted) return stopHere()
    options.onBatchDone?.(batch)
    if (batch.stopping) return stopHere()
  }
  return { batches: done, skipped: [], stoppedAfter: null, failures, interrupted: false }
}
