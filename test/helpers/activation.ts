import { ACTIVATION_RUNS, SERVER_LOCK, STAGE_PREFIX } from '../../lib/layout.ts'
import { hostExec, type SandboxHost } from '../../sandbox/index.ts'
import { waitFor } from './run-task.ts'

// Where a sync stands on a sandbox server, read from the server's state (its locks and its remote commands), never
// from which process happens to run at one moment.

/** Nothing of a sync is at work: no remote command of ours (they all run under sudo), no activation holding its run lock. */
export async function nothingAtWork(host: SandboxHost): Promise<boolean> {
  const script = `pgrep -x sudo >/dev/null && exit 1; for l in ${ACTIVATION_RUNS}/*/.lock; do [ -e "$l" ] || continue; flock -n "$l" true || exit 1; done; exit 0`
  return (await hostExec(host, ['sh', '-c', script])).exitCode === 0
}

/** Waits until an activation has started on the server: it holds its staging directory's `.active` lock. */
export async function activationStarted(host: SandboxHost): Promise<void> {
  const script = `for d in ${STAGE_PREFIX}*; do [ -d "$d" ] && ! flock -n "$d/.active" true && exit 0; done; exit 1`
  await waitFor(
    'the activation started on the server',
    async () => (await hostExec(host, ['sh', '-c', script])).exitCode === 0,
    30_000,
  )
}

/** Holds the server's sync lock, as another sync would, until the returned function is called. */
export async function takeServerLock(host: SandboxHost): Promise<() => Promise<void>> {
  // The subshell becomes the sleep (exec) and is the only holder of the lock: killing it releases the lock.
  const started = await hostExec(host, [
    'sh',
    '-c',
    `(exec 9>${SERVER_LOCK}; flock 9; exec sleep 600) </dev/null >/dev/null 2>&1 & echo $!`,
  ])
  const pid = started.stdout.trim()
  await waitFor(
    'the server lock held',
    async () => (await hostExec(host, ['flock', '-n', SERVER_LOCK, 'true'])).exitCode !== 0,
  )
  return async () => {
    await hostExec(host, ['kill', pid])
  }
}
