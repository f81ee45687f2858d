import { RemoteError } from '../errors.ts'

// Turns OpenSSH's and sudo's stderr into messages an operator can act on.

const SSH_FAILURES: Array<[RegExp, (host: string) => string]> = [
  [/Connection refused/i, (h) => `connection refused by ${h} (is sshd running there, on that port?)`],
  [
    /timed out|Connection timed out during banner exchange/i,
    (h) => `connection to ${h} timed out (host down, firewalled or sshd hanging; see --timeout)`,
  ],
  [
    /REMOTE HOST IDENTIFICATION HAS CHANGED/i,
    (h) =>
      `the host key of ${h} has CHANGED: refusing to connect (if the server was rebuilt, remove the old key with ssh-keygen -R)`,
  ],
  [
    /No \S+ host key is known|Host key verification failed/i,
    (h) =>
      `the host key of ${h} is unknown or does not match known_hosts: refusing to connect (check it, then add it: ssh-keyscan -H HOST >> ~/.ssh/known_hosts)`,
  ],
  [
    /Permission denied \(/i,
    (h) => `authentication to ${h} failed (check username and privateKeyPath, or your ssh-agent)`,
  ],
  [/Could not resolve hostname/i, (h) => `cannot resolve the host name of ${h}`],
  [/No route to host|Network is unreachable/i, (h) => `no route to ${h}`],
  // A hop that fails: a backgrounded master (ControlPersist) silences the jump's own ssh, leaving only this peer-less line.
  [
    /stdio forwarding failed|channel \d+: open failed|Connection closed by UNKNOWN port 65535/i,
    (h) =>
      `the connection to ${h} closed in the jump (ProxyJump or ProxyCommand) before the login: the jump host is unreachable or refused the login, or cannot or may not forward to the target (AllowTcpForwarding/PermitOpen there); ssh -v shows which`,
  ],
  [
    /Connection closed|Connection reset|Broken pipe|closed by remote host|mux_client|Control socket connect/i,
    (h) => `the connection to ${h} was lost`,
  ],
]

/** A readable reason for an ssh exit status 255, or null when stderr does not look like ssh's own error. */
export function describeSshFailure(stderr: string, host: string): string | null {
  for (const [pattern, message] of SSH_FAILURES) if (pattern.test(stderr)) return message(host)
  return /^ssh:|kex_exchange_identification/m.test(stderr) ? `ssh to ${host} failed: ${lastLine(stderr)}` : null
}

export function sudoNeedsPassword(stderr: string): boolean {
  return /sudo: (a password is required|a terminal is required|no tty present)/.test(stderr)
}

/**
 * One message for a sudo that wants a password, with a fix that works even when another sudoers file holds a password
 * rule: in sudoers the last matching rule wins, so the NOPASSWD rule goes into a file that sorts after the others.
 */
export function sudoPasswordMessage(user: string): string {
  const file = '/etc/sudoers.d/zzz-zx-supervisor'
  return (
    `sudo asks ${user} for a password; zx-supervisor runs privileged commands with "sudo -n" and cannot type one. ` +
    `Fix on the server, as root: echo '${user} ALL=(ALL) NOPASSWD: ALL' > ${file} && chmod 0440 ${file} ` +
    `(in sudoers the last matching rule wins, and this file sorts after the others in /etc/sudoers.d; ` +
    `to see which rule wins, run as root: sudo -l -U ${user} — the last rule listed applies), or log in as root (username: root in the inventory)`
  )
}

/** The error of a sudo that wants a password; sudo's own line adds nothing to the message, so none is kept. */
export function sudoPasswordError(server: string, user: string): RemoteError {
  return new RemoteError(server, sudoPasswordMessage(user), '', 'SUDO-PASSWORD')
}

export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? ''
}
