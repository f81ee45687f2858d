// The proof a host is usable: a real key login with strict host key checking, as the tasks will do it.
import { execa } from 'execa'
import { SandboxError } from './errors.ts'
import { pollUntil } from './processes.ts'
import type { SandboxHost } from './state.ts'

/** ssh options that use only the sandbox's key and known_hosts (-F /dev/null: no user config gets in the way). */
export function sandboxSshArgs(host: SandboxHost): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    host.identityFile,
    '-p',
    String(host.port),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    `UserKnownHostsFile=${host.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=3',
    `${host.user}@${host.address}`,
  ]
}

/** Logs in (up to `tries` times) and expects "<hostname> <user>" back. */
export async function probeLogin(
  host: SandboxHost,
  { tries = 5, abort }: { tries?: number; abort?: AbortSignal } = {},
): Promise<void> {
  const expected = `${host.name} ${host.user}`
  let answer = ''
  let attempt = 0
  const ok = await pollUntil(
    async () => {
      attempt++
      const result = await execa('ssh', [...sandboxSshArgs(host), 'echo "$(hostname) $(id -un)"'], {
        reject: false,
        timeout: 10_000,
      })
      answer = result.exitCode === 0 ? result.stdout.trim() : `exit ${result.exitCode}: ${result.stderr.trim()}`
      return answer === expected || attempt >= tries
    },
    { timeoutMs: 60_000, everyMs: 100, abort },
  )
  if (!ok || answer !== expected) {
    throw new SandboxError(
      `login probe of ${host.name} (${host.user}@${host.address}) failed after ${attempt} tries: ` +
        `expected "${expected}", got "${answer}"`,
    )
  }
}
