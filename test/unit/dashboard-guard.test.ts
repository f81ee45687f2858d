import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkRequest, newToken, type RequestFacts } from '../../lib/dashboard/guard.ts'

// Who may talk to the dashboard: the token, and this machine's loopback port as Host (and Origin when sent).

const TOKEN = 'a'.repeat(43)
const PORT = 8765
const GOOD: RequestFacts = { token: TOKEN, host: `127.0.0.1:${PORT}`, origin: undefined }

const CASES: Array<[string, Partial<RequestFacts>, boolean, RegExp?]> = [
  ['the token and 127.0.0.1', {}, true],
  ['localhost (an ssh -L tunnel on the same port)', { host: `localhost:${PORT}` }, true],
  ['Host in capitals', { host: `LOCALHOST:${PORT}` }, true],
  ['a same-origin Origin', { origin: `http://127.0.0.1:${PORT}` }, true],
  ['no token', { token: null }, false, /token/],
  ['a wrong token of the same length', { token: 'b'.repeat(43) }, false, /token/],
  ['a prefix of the token', { token: TOKEN.slice(0, 10) }, false, /token/],
  ['a rebound DNS name as Host', { host: `evil.example:${PORT}` }, false, /Host evil\.example/],
  ['another port as Host', { host: '127.0.0.1:9999' }, false, /Host/],
  ['no Host', { host: undefined }, false, /Host \(none\)/],
  ['a foreign Origin', { origin: 'http://evil.example' }, false, /Origin/],
  ['an https Origin of the same host', { origin: `https://127.0.0.1:${PORT}` }, false, /Origin/],
  ['a null Origin (sandboxed frame)', { origin: 'null' }, false, /Origin/],
]

for (const [name, change, ok, reason] of CASES) {
  test(`checkRequest: ${name} → ${ok ? 'allowed' : '403'}`, () => {
    const verdict = checkRequest(
      { ...GOOD, ...change },
      {
        token: TOKEN,
        port: PORT,
      },
    )
    assert.is(verdict.ok, ok)
    if (!verdict.ok) {
      assert.is(verdict.status, 403)
      if (reason) assert.match(verdict.reason, reason)
    }
  })
}

test('newToken: 256 random bits, URL-safe, different every time', () => {
  const a = newToken()
  assert.match(a, /^[A-Za-z0-9_-]{43}$/)
  assert.is.not(a, newToken())
})

test.run()
