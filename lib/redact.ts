import { createHmac, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError } from './errors.ts'

// What output shows of a value, by one rule (SPEC §3, "In output"): a literal the inventory holds in the clear is
// shown, so a plan can be reviewed, unless its key looks like a secret or it holds credentials in a URL; a value from
// { from_env }, or one whose origin is not known, is shown only as a keyed fingerprint. A value the run could not
// read stays "unknown (VAR unset)".

/** The one secret-name rule: a key containing one of these words, in any case (APP_KEY, DB_PASSWORD, OAUTH_ID). */
const SECRET_NAME = /KEY|SECRET|TOKEN|PASS|PWD|AUTH|CREDENTIAL|PRIVATE|DSN/i
/** `scheme://user:password@` (the user may be empty: `redis://:password@host`). */
const URL_CREDENTIALS = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:'"]*:[^\s/?#@'"]*@[^\s'"]*/
export const REDACTED = '[REDACTED]'
const ENV_LINE = /^(\s*environment=)(.*)$/gm
const ENV_PAIR = /([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^,]*)/g
export const FINGERPRINT_KEY_ENV = 'ZXS_FINGERPRINT_KEY_FILE'
const FINGERPRINT_KEY_BYTES = 32

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

export function hasUrlCredentials(value: string): boolean {
  return URL_CREDENTIALS.test(value)
}

/** The rule: `literal` says the inventory holds this value in the clear (not from { from_env }, not of unknown origin). */
export function showsInClear(name: string, value: string, literal: boolean): boolean {
  return literal && !isSecretName(name) && !hasUrlCredentials(value)
}

/** A value as output shows it: the value itself, "unknown (VAR unset)", or its fingerprint. */
export function displayValue(name: string, value: string, literal: boolean, key?: Buffer): string {
  return parseUnknownValue(value) || showsInClear(name, value, literal) ? value : fingerprintValue(value, key)
}

/**
 * For plans and diffs: each value of an `environment=` line as displayValue shows it, decoded (quotes and %% undone,
 * so a fingerprint matches the one a refusal of the same value shows). `isLiteral` tells which keys the inventory
 * writes as literals in the clear.
 */
export function displayEnvironment(text: string, isLiteral: (name: string) => boolean, key?: Buffer): string {
  return rewriteEnvironment(text, (name, value) => displayValue(name, value, isLiteral(name), key))
}

/**
 * For free text (--verbose command lines, remote messages): `environment=` values by the rule (`isLiteral` names the
 * keys known to be literals; nothing else is), secret-looking `NAME=value` words, and URLs holding credentials.
 */
export function redactSecrets(text: string, isLiteral: (name: string) => boolean = () => false): string {
  return text
    .split('\n')
    .map((line) => {
      const env = /^(\s*[+-]?\s*environment=)(.*)$/.exec(line)
      if (env)
        return (
          (env[1] ?? '') +
          (env[2] ?? '').replace(
            ENV_PAIR,
            (_m: string, name: string, written: string) =>
              `${name}=${safeDisplay(name, decodeEnvValue(written), isLiteral(name))}`,
          )
        )
      return line
        .replace(/\b([A-Za-z_][A-Za-z0-9_]*)=([^\s'"]+)/g, (match: string, name: string, value: string) =>
          showsInClear(name, value, true) ? match : `${name}=${safeDisplay(name, value, false)}`,
        )
        .replace(new RegExp(URL_CREDENTIALS.source, 'g'), (url) => safeDisplay('', url, false))
    })
    .join('\n')
}

// A --verbose line is never lost to a fingerprint key that cannot be read (that key's own error comes with the diff).
function safeDisplay(name: string, value: string, literal: boolean): string {
  try {
    return displayValue(name, value, literal)
  } catch {
    return REDACTED
  }
}

/** Rewrites each `KEY=value` of the `environment=` lines: `replace` gets the name, the decoded value and the text as written. */
export function rewriteEnvironment(
  text: string,
  replace: (name: string, value: string, written: string) => string,
): string {
  return text.replace(
    ENV_LINE,
    (_, head: string, pairs: string) =>
      head +
      pairs.replace(
        ENV_PAIR,
        (_m: string, name: string, written: string) => `${name}=${replace(name, decodeEnvValue(written), written)}`,
      ),
  )
}

/** Each `KEY=value` of the `environment=` lines of an INI text, values decoded as supervisor reads them. */
export function environmentPairs(text: string): Array<[string, string]> {
  return [...text.matchAll(ENV_LINE)].flatMap((line) =>
    [...(line[2] ?? '').matchAll(ENV_PAIR)].map((pair): [string, string] => [
      pair[1] ?? '',
      decodeEnvValue(pair[2] ?? ''),
    ]),
  )
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

/** A copy of an inventory environment map for output: literals as displayValue shows them; references name no secret and stay. */
export function redactEnvironment<V extends string | object>(
  environment: Record<string, V>,
): Record<string, V | string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      typeof value === 'string' ? displayValue(name, value, true) : value,
    ]),
  )
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
  const problem = (value: unknown, allowed: string, hint: string) =>
    new InputError([{ field: `fingerprint key ${file}`, value, allowed, hint }], 'Cannot use the fingerprint key:')
  if (!stat.isFile())
    throw problem(
      'not a regular file',
      'a regular file',
      `remove it; a new key is created on the next run (or set $${FINGERPRINT_KEY_ENV})`,
    )
  if ((stat.mode & 0o077) !== 0)
    throw problem(
      `mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}`,
      'a file only its owner can read (mode 0600)',
      `chmod 600 ${file}`,
    )
  if (process.getuid && stat.uid !== process.getuid())
    throw problem(
      `owned by uid ${stat.uid}`,
      `a file owned by the user running zx-supervisor (uid ${process.getuid()})`,
      `chown it, or point $${FINGERPRINT_KEY_ENV} at your own key`,
    )
  const key = fs.readFileSync(file)
  if (key.length < FINGERPRINT_KEY_BYTES)
    throw problem(
      `${key.length} bytes`,
      `at least ${FINGERPRINT_KEY_BYTES} bytes`,
      'remove it; a new key is created on the next run',
    )
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
