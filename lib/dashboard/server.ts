import { readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { InputError } from '../errors.ts'
import { packageFile } from '../project.ts'
import { checkRequest } from './guard.ts'
import type { DashboardView } from './view.ts'

// The dashboard's web server: 127.0.0.1 only, every request checked (token, Host, Origin) before anything else. The
// page gets the fleet's view as Server-Sent Events, a program's log as another stream, and may ask for control only
// when the run allows it. It knows nothing of SSH: the task hands it what to do for each request.

export interface LogRequest {
  server: string
  domain: string
  program: string
}

export interface ControlRequest {
  action: 'start' | 'stop' | 'restart'
  domain: string
  program: string
  servers: string[]
  oneByOne: boolean
}

export interface DashboardHandlers {
  /** Follows the log until the signal aborts (the page closed the panel); a bad request throws before any line. */
  followLog(request: LogRequest, signal: AbortSignal, onLine: (line: string) => void): Promise<void>
  control(request: ControlRequest): Promise<{ ok: boolean; exitCode: number; result: unknown }>
}

export interface DashboardServer {
  url: string
  port: number
  /** Sends the view to every open page, and to every page that opens later. */
  publish(view: DashboardView): void
  close(): Promise<void>
}

const PAGE_FILES = {
  '/': { file: 'lib/dashboard/page.html', type: 'text/html; charset=utf-8' },
  '/page.js': { file: 'lib/dashboard/page.js', type: 'text/javascript; charset=utf-8' },
  '/page.css': { file: 'lib/dashboard/page.css', type: 'text/css; charset=utf-8' },
} as const

// The page's own files only; no inline script, no other origin (a log line can never become markup that runs).
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

const MAX_CONTROL_BODY = 16 * 1024

export async function startDashboardServer(options: {
  port: number
  token: string
  allowControl: boolean
  handlers: DashboardHandlers
}): Promise<DashboardServer> {
  const { token, allowControl, handlers } = options
  let latest: DashboardView | undefined
  const viewers = new Set<http.ServerResponse>()
  let port = options.port
  const server = http.createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { error: messageOf(error) })
      else response.end()
    })
  })

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`)
    const verdict = checkRequest(
      {
        token: url.searchParams.get('token') ?? headerOf(request, 'x-dashboard-token') ?? null,
        host: headerOf(request, 'host'),
        origin: headerOf(request, 'origin'),
      },
      { token, port },
    )
    if (!verdict.ok) return send(response, verdict.status, { error: verdict.reason })
    const page = PAGE_FILES[url.pathname as keyof typeof PAGE_FILES]
    if (page && request.method === 'GET') {
      // The page learns the token from its own URL; its script and style are asked for with it.
      const body = (await readFile(packageFile(page.file), 'utf8')).replaceAll('{{token}}', encodeURIComponent(token))
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': page.type })
      return void response.end(body)
    }
    if (url.pathname === '/events' && request.method === 'GET') {
      openStream(response)
      viewers.add(response)
      request.on('close', () => viewers.delete(response))
      if (latest) sendEvent(response, 'view', latest)
      return
    }
    if (url.pathname === '/logs' && request.method === 'GET') return followLog(url, request, response)
    if (url.pathname === '/control' && request.method === 'POST') {
      if (!allowControl)
        return send(response, 403, {
          error:
            'control is off: this dashboard is read-only (start it with --allow-control to allow start/stop/restart)',
        })
      const parsed = parseControl(await readBody(request))
      if ('error' in parsed) return send(response, 400, parsed)
      return send(response, 200, await handlers.control(parsed))
    }
    send(response, 404, { error: `no ${request.method} ${url.pathname} here` })
  }

  async function followLog(url: URL, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const wanted = ['server', 'domain', 'program'].map((key) => url.searchParams.get(key) ?? '')
    const [serverName, domain, program] = wanted as [string, string, string]
    const stop = new AbortController()
    request.on('close', () => stop.abort())
    openStream(response)
    try {
      await handlers.followLog({ server: serverName, domain, program }, stop.signal, (line) =>
        sendEvent(response, 'line', line),
      )
      if (!stop.signal.aborted) sendEvent(response, 'end', 'the log stream ended')
    } catch (error) {
      sendEvent(response, 'failure', messageOf(error))
    }
    response.end()
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, options.port)))
    server.listen(options.port, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port
  // A page that stays open gets a comment now and then, so no proxy or browser closes an idle stream.
  const keepAlive = setInterval(() => {
    for (const viewer of viewers) viewer.write(': keep-alive\n\n')
  }, 15_000)
  keepAlive.unref()
  return {
    url: `http://127.0.0.1:${port}/?token=${encodeURIComponent(token)}`,
    port,
    publish(view) {
      latest = view
      for (const viewer of viewers) sendEvent(viewer, 'view', view)
    },
    async close() {
      clearInterval(keepAlive)
      for (const viewer of viewers) viewer.end()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A control request from the page, checked field by field (the task it runs checks the names against the inventory). */
export function parseControl(body: string): ControlRequest | { error: string } {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return { error: 'the body is not JSON' }
  }
  const v = value as Record<string, unknown>
  if (!v || typeof v !== 'object') return { error: 'the body is not a JSON object' }
  if (v.action !== 'start' && v.action !== 'stop' && v.action !== 'restart')
    return { error: `action ${JSON.stringify(v.action)} is not start, stop or restart` }
  if (typeof v.domain !== 'string' || !v.domain) return { error: 'domain must be a site of the inventory' }
  if (typeof v.program !== 'string' || !v.program) return { error: 'program must be a program of the site' }
  if (!Array.isArray(v.servers) || !v.servers.length || !v.servers.every((s) => typeof s === 'string' && s))
    return { error: 'servers must be a non-empty list of server names' }
  if (v.oneByOne !== undefined && typeof v.oneByOne !== 'boolean') return { error: 'oneByOne must be true or false' }
  if (v.oneByOne && v.action !== 'restart') return { error: 'oneByOne goes with restart only' }
  return {
    action: v.action,
    domain: v.domain,
    program: v.program,
    servers: v.servers as string[],
    oneByOne: Boolean(v.oneByOne),
  }
}

function listenError(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') return error
  return new InputError([
    {
      field: '--port',
      value: port,
      allowed: 'a free port on 127.0.0.1 (1024-65535), or 0 for any free one',
      hint:
        error.code === 'EADDRINUSE'
          ? `port ${port} is in use; leave --port out to get a free one`
          : `port ${port} needs root; use 1024 or above`,
    },
  ])
}

function headerOf(request: http.IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function openStream(response: http.ServerResponse): void {
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' })
  response.flushHeaders()
}

// One event per message: JSON on a single data line, so a log line with newlines or `event:` in it stays data.
function sendEvent(response: http.ServerResponse, event: string, data: unknown): void {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' })
  response.end(JSON.stringify(body))
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of request) {
    body += chunk
    if (body.length > MAX_CONTROL_BODY) throw new Error('request body too large')
  }
  return body
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
