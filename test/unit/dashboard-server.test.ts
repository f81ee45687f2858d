import http from 'node:http'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type ControlRequest,
  type DashboardHandlers,
  parseControl,
  startDashboardServer,
} from '../../lib/dashboard/server.ts'
import type { DashboardView } from '../../lib/dashboard/view.ts'
import { InputError } from '../../lib/errors.ts'

// The dashboard's web server on 127.0.0.1 with stand-in handlers (no SSH): the page and its files only with the token,
// the view as Server-Sent Events, a log line as one data line whatever it holds, control refused while read-only.

const TOKEN = 'unit-test-token'
const VIEW: DashboardView = {
  at: '2026-12-05T12:00:00.000Z',
  sites: [],
  servers: [],
  cells: [],
  summary: { servers: 0, reached: 0, running: 0, wanted: 0, problems: 0 },
  allowControl: false,
}

function handlers(asked: ControlRequest[] = []): DashboardHandlers {
  return {
    async followLog(request, _signal, onLine) {
      if (request.server !== 'web-1') throw new Error(`no server ${request.server}`)
      onLine('a line\nevent: forged\ndata: <script>')
      onLine('second')
    },
    async control(request) {
      asked.push(request)
      return { ok: true, exitCode: 0, result: { servers: [] } }
    },
  }
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString()
          // An event stream stays open: one event is enough.
          if (response.headers['content-type']?.startsWith('text/event-stream') && text.includes('\n\n')) {
            response.destroy()
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text })
          }
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }))
      },
    )
    request.on('error', reject)
    request.end(body)
  })
}

test('the page and its files need the token; the token is written into the page; strict headers', async () => {
  const server = await startDashboardServer({ port: 0, token: TOKEN, allowControl: false, handlers: handlers() })
  try {
    assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=${TOKEN}$`))
    for (const path of ['/', '/page.js', '/page.css', '/events', '/logs'])
      assert.is((await get(server.port, path)).status, 403, path)
    const page = await get(server.port, `/?token=${TOKEN}`)
    assert.is(page.status, 200)
    assert.match(page.body, `page.js?token=${TOKEN}`)
    assert.match(String(page.headers['content-security-policy']), "script-src 'self'")
    assert.is(page.headers['referrer-policy'], 'no-referrer')
    assert.is((await get(server.port, `/page.js?token=${TOKEN}`)).status, 200)
    assert.is((await get(server.port, `/nothing?token=${TOKEN}`)).status, 404)
  } finally {
    await server.close()
  }
})

test('the view reaches a page that opens after it was published, as one event', async () => {
  const server = await startDashboardServer({ port: 0, token: TOKEN, allowControl: false, handlers: handlers() })
  try {
    server.publish(VIEW)
    const events = await get(server.port, `/events?token=${TOKEN}`)
    assert.is(events.status, 200)
    assert.is(events.body, `event: view\ndata: ${JSON.stringify(VIEW)}\n\n`)
  } finally {
    await server.close()
  }
})

test('a log line with newlines and event fields in it stays one data line; a failure is an event too', async () => {
  const server = await startDashboardServer({ port: 0, token: TOKEN, allowControl: false, handlers: handlers() })
  try {
    const log = await get(server.port, `/logs?token=${TOKEN}&server=web-1&domain=a.test&program=w`)
    assert.ok(log.body.startsWith('event: line\ndata: "a line\\nevent: forged\\ndata: <script>"\n\n'), log.body)
    const failed = await get(server.port, `/logs?token=${TOKEN}&server=web-9&domain=a.test&program=w`)
    assert.is(failed.body, 'event: failure\ndata: "no server web-9"\n\n')
  } finally {
    await server.close()
  }
})

test('control: 403 while read-only whatever is sent; with --allow-control, checked then handed on', async () => {
  const asked: ControlRequest[] = []
  const body = JSON.stringify({ action: 'restart', domain: 'a.test', program: 'w', servers: ['web-1'] })
  const readOnly = await startDashboardServer({ port: 0, token: TOKEN, allowControl: false, handlers: handlers(asked) })
  try {
    const refused = await get(readOnly.port, `/control?token=${TOKEN}`, {}, 'POST', body)
    assert.is(refused.status, 403)
    assert.match(refused.body, /read-only/)
  } finally {
    await readOnly.close()
  }
  const control = await startDashboardServer({ port: 0, token: TOKEN, allowControl: true, handlers: handlers(asked) })
  try {
    assert.is((await get(control.port, '/control', {}, 'POST', body)).status, 403, 'no token')
    assert.is((await get(control.port, `/control?token=${TOKEN}`, {}, 'POST', '{"action":"kill"}')).status, 400)
    const done = await get(control.port, `/control?token=${TOKEN}`, { 'x-dashboard-token': TOKEN }, 'POST', body)
    assert.is(done.status, 200)
    assert.equal(asked, [{ action: 'restart', domain: 'a.test', program: 'w', servers: ['web-1'], oneByOne: false }])
  } finally {
    await control.close()
  }
})

test('a port in use is bad input (exit 2) that names --port', async () => {
  const first = await startDashboardServer({ port: 0, token: TOKEN, allowControl: false, handlers: handlers() })
  try {
    const error = await startDashboardServer({
      port: first.port,
      token: TOKEN,
      allowControl: false,
      handlers: handlers(),
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.instance(error, InputError)
    assert.match((error as Error).message, /--port/)
    assert.match((error as Error).message, /in use/)
  } finally {
    await first.close()
  }
})

const CONTROL_BODIES: Array<[string, unknown, RegExp | ControlRequest]> = [
  ['not JSON', '{', /not JSON/],
  ['an unknown action', { action: 'kill', domain: 'a', program: 'p', servers: ['s'] }, /action "kill"/],
  ['no servers', { action: 'stop', domain: 'a', program: 'p', servers: [] }, /servers/],
  ['a server that is not a string', { action: 'stop', domain: 'a', program: 'p', servers: [1] }, /servers/],
  [
    'one by one with stop',
    { action: 'stop', domain: 'a', program: 'p', servers: ['s'], oneByOne: true },
    /restart only/,
  ],
  [
    'a restart one by one',
    { action: 'restart', domain: 'a', program: 'p', servers: ['s'], oneByOne: true },
    { action: 'restart', domain: 'a', program: 'p', servers: ['s'], oneByOne: true },
  ],
]

for (const [name, body, expected] of CONTROL_BODIES) {
  test(`parseControl: ${name}`, () => {
    const parsed = parseControl(typeof body === 'string' ? body : JSON.stringify(body))
    if (expected instanceof RegExp) assert.match((parsed as { error: string }).error, expected)
    else assert.equal(parsed, expected)
  })
}

test.run()
