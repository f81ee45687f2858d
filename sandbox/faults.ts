// Fault injection for tests: root commands inside a host, and stopping, pausing or crashing its sshd or itself.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { isListening } from './addresses.ts'
import { SandboxError } from './errors.ts'
import { HOST_ENV } from './launch.ts'
import { hasNamespaces, pollUntil, signal } from './processes.ts'
import type { SandboxHost } from './state.ts'

export interface HostExecResult {
  stdout: string
  stderr: string
  exitCode: number
}

/** Runs argv as root inside the host (its mounts, hostname and processes), like a root shell on that server. */
export async function hostExec(
  host: SandboxHost,
  argv: string[],
  { input }: { input?: string } = {},
): Promise<HostExecResult> {
  const result = await execa(
    'nsenter',
    ['--target', String(host.initPid), '--mount', '--uts', '--pid', '--wd=/', '--', ...argv],
    {
      input,
      reject: false,
      env: HOST_ENV,
      extendEnv: false,
    },
  )
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? 1 }
}

async function mustExec(host: SandboxHost, argv: string[]): Promise<void> {
  const result = await hostExec(host, argv)
  if (result.exitCode !== 0)
    throw new SandboxError(
      `${argv.join(' ')} failed on ${host.name} (exit ${result.exitCode}): ${result.stderr.trim()}`,
    )
}

/** Stops the listening sshd: new connections are refused at once, open sessions live on. */
export async function stopSshd(host: SandboxHost): Promise<void> {
  await mustExec(host, ['pkill', '-TERM', '--pidfile', '/run/sshd.pid'])
  const stopped = await pollUntil(async () => !(await isListening(host.address, host.port)), { timeoutMs: 5000 })
  if (!stopped) throw new SandboxError(`sshd of ${host.name} still listens 5 s after SIGTERM`)
  await fs.rm(path.join(host.root, 'run/sshd.pid'), { force: true })
}

/** Starts sshd again (after stopSshd) and returns once it listens. */
export async function startSshd(host: SandboxHost): Promise<void> {
  const pidFile = path.join(host.root, 'run/sshd.pid')
  await fs.rm(pidFile, { force: true })
  await mustExec(host, ['/usr/sbin/sshd', '-f', '/etc/ssh/sshd_config', '-E', '/var/log/sshd.log'])
  // Generous: on a loaded machine sshd's start-up alone has taken more than 5 s.
  const started = await pollUntil(async () => (await fs.readFile(pidFile, 'utf8').catch(() => '')).trim() !== '', {
    timeoutMs: 30_000,
  })
  if (!started) throw new SandboxError(`sshd of ${host.name} wrote no /run/sshd.pid within 30 s`)
}

/** SIGSTOPs the listening sshd: connections hang until the client's ConnectTimeout, as with a dead network. */
export async function pauseSshd(host: SandboxHost): Promise<void> {
  await mustExec(host, ['pkill', '-STOP', '--pidfile', '/run/sshd.pid'])
}

export async function resumeSshd(host: SandboxHost): Promise<void> {
  await mustExec(host, ['pkill', '-CONT', '--pidfile', '/run/sshd.pid'])
}

/** Kills the host's PID 1, and so every process of the host, as a power cut would (files stay; `down` still works). */
export async function crashHost(host: SandboxHost): Promise<void> {
  if (await hasNamespaces(host.initPid, { pid: host.pidNamespace, mnt: host.mountNamespace }))
    signal(host.initPid, 'SIGKILL')
}

/**
 * Kills sshd and every process of its login sessions, as a dropped connection does where the session is torn down
 * with it (logind's KillUserProcesses, sudo's pty monitor): only what runs detached from the session survives.
 * Start sshd again with startSshd.
 */
export async function dropSshSessions(host: SandboxHost): Promise<void> {
  // The sessions are read before sshd dies: then its children are re-parented and no longer tell which were its.
  const script =
    'sids=$(for p in $(pgrep -x sshd); do ps -o sid= --ppid "$p"; done | sort -u); pkill -KILL -x sshd; for s in $sids; do [ "$s" -gt 0 ] && pkill -KILL -s "$s"; done; exit 0'
  await mustExec(host, ['sh', '-c', script])
}
