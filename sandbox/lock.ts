// One machine-wide lock, so parallel `up`s (test files) never pick the same address or race useradd/apt-get.
import { execa } from 'execa'
import { SandboxError } from './errors.ts'

export const LOCK_FILE = '/run/lock/zx-supervisor-sandbox.lock'
const WAIT_SECONDS = 120

/**
 * Runs fn while holding an exclusive flock(1) on LOCK_FILE. A `flock … cat` child holds the lock and
 * lets go when its stdin closes, also when this process dies, so the lock never outlives its owner.
 */
export async function withSandboxLock<T>(fn: () => Promise<T>): Promise<T> {
  const holder = execa(
    'flock',
    ['--exclusive', '--wait', String(WAIT_SECONDS), LOCK_FILE, 'sh', '-c', 'echo locked && exec cat >/dev/null'],
    { stdin: 'pipe', reject: false },
  )
  try {
    await lockTaken(holder)
    return await fn()
  } finally {
    holder.stdin?.end()
    await holder
  }
}

function lockTaken(holder: ReturnType<typeof execa>): Promise<void> {
  return new Promise((resolve, reject) => {
    holder.stdout?.once('data', () => resolve())
    holder.then((result) =>
      reject(
        new SandboxError(
          `could not take the sandbox lock ${LOCK_FILE} within ${WAIT_SECONDS} s: ${result.stderr || result.shortMessage}`,
        ),
      ),
    )
  })
}
