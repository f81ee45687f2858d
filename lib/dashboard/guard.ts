import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

// Who may talk to the dashboard: a request carries the run's random token, and names this machine's loopback port as
// its Host (and Origin, when a browser sends one) — a page elsewhere that rebinds a DNS name to 127.0.0.1 cannot.

/** 32 random bytes, URL-safe: the dashboard's only credential, printed once with its URL. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

export interface RequestFacts {
  /** The request's token (query `token`, or header `x-dashboard-token`). */
  token: string | null
  host: string | undefined
  origin: string | undefined
}

export type Verdict = { ok: true } | { ok: false; status: 403; reason: string }

/** The Host (and Origin) values this dashboard answers to: 127.0.0.1 and localhost on its port (an `ssh -L` works). */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`]
}

export function checkRequest(request: RequestFacts, expected: { token: string; port: number }): Verdict {
  const hosts = allowedHosts(expected.port)
  if (!request.host || !hosts.includes(request.host.toLowerCase()))
    return { ok: false, status: 403, reason: `Host ${request.host ?? '(none)'} is not ${hosts.join(' or ')}` }
  if (request.origin !== undefined && !hosts.some((h) => request.origin?.toLowerCase() === `http://${h}`))
    return { ok: false, status: 403, reason: `Origin ${request.origin} is not this dashboard` }
  if (!request.token || !sameToken(request.token, expected.token))
    return { ok: false, status: 403, reason: 'missing or wrong token' }
  return { ok: true }
}

// Compared as digests of equal length, so neither the content nor the length of the token leaks through timing.
function sameToken(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(given), digest(expected))
}
