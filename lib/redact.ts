import { createHmac, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError } from './errors.ts'

// Secrets never reach --verbose or --json output: environment values and anything named like a secret. What is shown
// instead: [REDACTED], a keyed fingerprint, or "unknown (VAR unset)" for a value the run could not read.

const SECRET_NAME = /(secret|passw(or)?d|pass|token|api[_-]?key|private[_-]?key|credential|auth|dsn)/i
export const REDACTED = '[REDACTED]'
const ENV_LINE = /^(\s*environment=)(.*)$/gm
const ENV_PAIR = /([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^,]*)/g
export const FINGERPRINT_KEY_ENV = 'ZXS_FINGERPRINT_KEY_FILE'
const FINGERPRINT_KEY_BYTES = 32

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

/** Hides the values of an `environment=` line and of `NAME=value` words whose name looks secret. */
export function redactSecrets(text: string): string {
  return text
    .replace(/^(\s*[+-]?\s*environment=)(.*)$/gm, (_, head: string, pairs: string) => head + pairs.replace(ENV_PAIR, (_m: string, key: string) => `${key}=${REDACTED}`))
    .replace(/\b([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g, (match: string, key: string) => (isSecretName(key) ? `${key}=${REDACTED}` : match))
}

/**
 * For plans and diffs: each value of an `environment=` line becomes its fingerprint (of the decoded value, so it
 * matches the fingerprint a refusal of the same value shows), and a value the run could not read stays
 * `unknown (VAR unset)`. A diff shows which variables change without printing any value.
 */
export function fingerprintEnvironment(text: string, key?: Buffer): string {
  return rewriteEnvironment(text, (_name, value) => (parseUnknownValue(value) ? value : fingerprintValue(value, key)))
}

/** Rewrites each `KEY=value` of the `environment=` lines: `replace` gets the name, the decoded value and the text as written. */
export function rewriteEnvironment(text: string, replace: (name: string, value: string, written: string) => string): string {
  return text.replace(ENV_LINE, (_, head: string, pairs: string) =>
    head + pairs.replace(ENV_PAIR, (_m: string, name: string, written: string) => `${name}=${replace(name, decodeEnvValue(written), written)}`))
}

/** Each `KEY=value` of the `environment=` lines of an INI text, values decoded as supervisor reads them. */
export function environmentPairs(text: string): Array<[string, string]> {
  return [...text.matchAll(ENV_LINE)].flatMap((line) => [...(line[2] ?? '').matchAll(ENV_PAIR)].map((pair): [string, string] => [pair[1] ?? '', decodeEnvValue(pair[2] ?? '')]))
}

// lib/render/ini.ts writes "value" or 'value' with every '%' doubled: undo both.
function decodeEnvValue(encoded: string): string {
  const unquoted = /^(["']).*\1$/s.test(encoded) ? encoded.slice(1, -1) : encoded
  return unquoted.replaceAll('%%', '%')
}

/**
 * `[REDACTED 1a2b3c4d]`: tells two values apart (same text, same fingerprint) without showing either. Keyed
 * (HMAC-SHA256 with a key only this machine's user can read), so a weak secret cannot be guessed offline from a
 * diff or a log.
 */
export function fingerprintValue(value: string, key: Buffer = fingerprintKey()): string {
  return `[REDACTED ${createHmac('sha256', key).update(value).digest('hex').slice(0, 8)}]`
}

/** A copy of an environment map with every literal value hidden (for output); references name no secret and stay. */
export function redactEnvironment<V extends string | object>(environment: Record<string, V>): Record<string, V | typeof REDACTED> {
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, typeof value === 'string' ? REDACTED : value]))
}

/** What is written and shown in place of a value the run could not read from its environment. */
export function unknownValue(variable: string, reason: UnknownReason): string {
  return `unknown (${variable} ${reason})`
}

export type UnknownReason = 'unset' | 'empty'

/** The variable named by an `unknownValue` text, or undefined for any other text. */
export function parseUnknownValue(text: string): { variable: string; reason: UnknownReason } | undefined {
  const match = /^unknown \(([A-Za-z_][A-Za-z0-9_]*) (unset|empty)\)$/.exec(text)
  return match ? { variable: match[1] as string, reason: match[2] as UnknownReason } : undefined
}

/** `$ZXS_FINGERPRINT_KEY_FILE`, else `~/.config/zx-supervisor/fingerprint.key`. */
export function fingerprintKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[FINGERPRINT_KEY_ENV] || path.join(os.homedir(), '.config', 'zx-supervisor', 'fingerprint.key')
}

const loadedKeys = new Map<string, Buffer>()

function fingerprintKey(): Buffer {
  const file = fingerprintKeyPath()
  const key = loadedKeys.get(file) ?? loadFingerprintKey(file)
  loadedKeys.set(file, key)
  return key
}

/**
 * Reads the fingerprint key, creating it (32 random bytes, mode 0600, in a 0700 directory) on first use. Refuses a
 * key another user could read or replace: whoever has the key can test guesses against every fingerprint shown.
 */
export function loadFingerprintKey(file: string): Buffer {
  if (!fs.existsSync(file)) createKeyFile(file)
  const stat = fs.statSync(file)
  const problem = (value: unknown, allowed: string, hint: string) => new InputError([{ field: `fingerprint key ${file}`, value, allowed, hint }], 'Cannot use the fingerprint key:')
  if (!stat.isFile()) throw problem('not a regular file', 'a regular file', `remove it; a new key is created on the next run (or set $${FINGERPRINT_KEY_ENV})`)
  if ((stat.mode & 0o077) !== 0) throw problem(`mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}`, 'a file only its owner can read (mode 0600)', `chmod 600 ${file}`)
  if (process.getuid && stat.uid !== process.getuid()) throw problem(`owned by uid ${stat.uid}`, `a file owned by the user running zx-supervisor (uid ${process.getuid()})`, `chown it, or point $${FINGERPRINT_KEY_ENV} at your own key`)
  const key = fs.readFileSync(file)
  if (key.length < FINGERPRINT_KEY_BYTES) throw problem(`${key.length} bytes`, `at least ${FINGERPRINT_KEY_BYTES} bytes`, 'remove it; a new key is created on the next run')
  return key
}

// Written under a temporary name and hard-linked into place: two runs starting at once never see a half-written key,
// and the second keeps the first one's key (link never replaces an existing file).
function createKeyFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  fs.writeFileSync(temporary, randomBytes(FINGERPRINT_KEY_BYTES), { mode: 0o600, flag: 'wx' })
  try {
    fs.linkSync(temporary, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    fs.unlinkSync(temporary)
  }
}
