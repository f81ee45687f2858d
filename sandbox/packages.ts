// The Debian packages a sandbox host runs on, and installing the missing ones without starting any service.
import { promises as fs } from 'node:fs'
import { execa } from 'execa'
import { SandboxError, SandboxRequirementError } from './errors.ts'
import { withSandboxLock } from './lock.ts'
import type { Log } from './state.ts'

/**
 * iproute2 (ss) and procps (pgrep, pkill) are in most base images; checked anyway. tmux and chromium are for the tests
 * only (the terminal journey types into a real pane; the dashboard is tested in a headless browser), so `npm run demo`
 * leaves the machine ready for `npm test`.
 */
export const SANDBOX_PACKAGES = [
  'openssh-server',
  'openssh-client',
  'openssh-sftp-server',
  'supervisor',
  'rsync',
  'sudo',
  'iproute2',
  'procps',
  'logrotate',
  'tmux',
  'chromium',
  'fonts-dejavu-core',
]
const POLICY_RC = '/usr/sbin/policy-rc.d'
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' }

export function isRoot(): boolean {
  return process.getuid?.() === 0
}

export function installCommand(packages: string[]): string[] {
  return ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120', ...packages]
}

export async function missingSandboxPackages(packages = SANDBOX_PACKAGES): Promise<string[]> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not a template
  const query = await execa('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], { reject: false })
  if (query.code === 'ENOENT') {
    throw new SandboxRequirementError('the sandbox needs a Debian or Ubuntu machine (dpkg-query was not found)')
  }
  const installed = new Set(
    query.stdout
      .split('\n')
      .filter((line) => line.endsWith(' installed'))
      .map((line) => line.split(/[ :]/)[0]),
  )
  return packages.filter((name) => !installed.has(name))
}

/** Installs what is missing (as root, with apt-get); says what it installs through `log`. */
export async function ensureSandboxPackages({
  log,
  packages = SANDBOX_PACKAGES,
}: {
  log: Log
  packages?: string[]
}): Promise<{ installed: string[] }> {
  const missing = await missingSandboxPackages(packages)
  if (missing.length === 0) return { installed: [] }
  if (!isRoot()) {
    throw new SandboxRequirementError(
      `the sandbox needs root and these Debian packages, missing here: ${missing.join(' ')}. ` +
        `Run it as root (it installs them), or install them first: sudo ${installCommand(missing).join(' ')}`,
    )
  }
  return withSandboxLock(async () => {
    const stillMissing = await missingSandboxPackages(packages)
    if (stillMissing.length > 0) {
      log(`installing Debian packages: ${stillMissing.join(' ')} (apt-get update, then apt-get install)`)
      await withServiceStartsDenied(() => aptInstall(stillMissing))
    }
    return { installed: stillMissing }
  })
}

async function aptInstall(packages: string[]): Promise<void> {
  for (const [file, ...args] of [['apt-get', 'update', '-qq'], installCommand(packages)]) {
    const result = await execa(file ?? 'apt-get', args, { env: APT_ENV, reject: false })
    if (result.failed)
      throw new SandboxError(
        `${result.command} failed (exit ${result.exitCode})`,
        `${result.stdout}\n${result.stderr}`.trim(),
      )
  }
}

/** A package's postinst must not start a system sshd: one on 0.0.0.0:22 would block every 127.0.0.N:22. */
async function withServiceStartsDenied(fn: () => Promise<void>): Promise<void> {
  const created = await fs.writeFile(POLICY_RC, '#!/bin/sh\nexit 101\n', { flag: 'wx', mode: 0o755 }).then(
    () => true,
    () => false,
  )
  try {
    await fn()
  } finally {
    if (created) await fs.rm(POLICY_RC, { force: true })
  }
}
