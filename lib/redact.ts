import { createHash } from 'node:crypto'

// Secrets never reach --verbose or --json output: environment values and anything named like a secret.

const SECRET_NAME = /(secret|passw(or)?d|pass|token|api[_-]?key|private[_-]?key|credential|auth|dsn)/i
export const REDACTED = '[REDACTED]'

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

/** Hides the values of an `environment=` line and of `NAME=value` words whose name looks secret. */
export function redactSecrets(text: string): string {
  return text
    .replace(/^(\s*[+-]?\s*environment=)(.*)$/gm, (_, head: string, pairs: string) => head + pairs.replace(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^,]*)/g, (_m: string, key: string) => `${key}=${REDACTED}`))
    .replace(/\b([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g, (match: string, key: string) => (isSecretName(key) ? `${key}=${REDACTED}` : match))
}

/**
 * For plans and diffs: each value of an `environment=` line becomes a short fingerprint, so a diff shows which
 * variables change without printing any value.
 */
export function fingerprintEnvironment(text: string): string {
  return text.replace(/^(\s*environment=)(.*)$/gm, (_, head: string, pairs: string) =>
    head + pairs.replace(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^,]*)/g, (_m: string, key: string, value: string) => `${key}=${fingerprintValue(value)}`))
}

/** `[REDACTED 1a2b3c4d]`: tells two values apart (same text, same fingerprint) without showing either. */
export function fingerprintValue(value: string): string {
  return `[REDACTED ${createHash('sha256').update(value).digest('hex').slice(0, 8)}]`
}

/** A copy of an environment map with every value hidden (for --json). */
export function redactEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(environment).map((key) => [key, REDACTED]))
}
