import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type FleetEvent, forEachServer } from '../../lib/fleet.ts'
import type { Connection, Session } from '../../lib/remote/connection.ts'
import type { Server } from '../../lib/types.ts'

// forEachServer: at most N servers in progress, each server's connection opened only at its turn, progress events.

const server = (n: number): Server => ({
  name: `web-${n}`,
  host: `127.0.0.${n}`,
  port: 22,
  username: 'deployer',
  groups: [],
  siteUser: 'deployer',
  sitesPath: '/home/deployer/sites',
  local: false,
})
const SERVERS = Array.from({ length: 7 }, (_, i) => server(i + 1))
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A session that counts servers between their connect and the end of their work, and keeps the highest count. */
function countingSession() {
  const state = { inProgress: 0, most: 0, connected: [] as string[] }
  const session: Session = {
    async connect(s) {
      state.inProgress++
      state.most = Math.max(state.most, state.inProgress)
      state.connected.push(s.name)
      await tick(2)
      return { server: s } as Connection
    },
    async closeAll() {},
  }
  const finished = () => state.inProgress--
  return { session, state, finished }
}

test('never more than concurrency servers from connect to the end of their work', async () => {
  for (const concurrency of [1, 2, 3, 16]) {
    const { session, state, finished } = countingSession()
    const outcomes = await forEachServer(
      SERVERS,
      session,
      async (s) => {
        await tick(5 + (Number(s.name.slice(4)) % 3) * 3)
        finished()
        return s.name
      },
      concurrency,
    )
    assert.is(state.most, Math.min(concurrency, SERVERS.length), `concurrency ${concurrency}`)
    assert.equal(
      outcomes.map((o) => (o.ok ? o.value : null)),
      SERVERS.map((s) => s.name),
      'outcomes keep the inventory order',
    )
  }
})

test('a server is connected to only at its turn, never ahead of it', async () => {
  const { session, state, finished } = countingSession()
  const connectedWhenFirstFinished: string[] = []
  await forEachServer(
    SERVERS,
    session,
    async (s) => {
      await tick(5)
      if (s.name === 'web-1') connectedWhenFirstFinished.push(...state.connected)
      finished()
    },
    2,
  )
  assert.equal(connectedWhenFirstFinished, ['web-1', 'web-2'])
})

test('progress: started then finished per server, failures marked, a failure never stops the others', async () => {
  const events: string[] = []
  const { session, finished } = countingSession()
  const onProgress = (event: FleetEvent) =>
    events.push(
      `${event.kind} ${event.server.name}${event.kind === 'finished' ? ` ${event.ok ? 'ok' : 'failed'}` : ''}`,
    )
  const outcomes = await forEachServer(
    SERVERS.slice(0, 3),
    session,
    async (s) => {
      finished()
      if (s.name === 'web-2') throw new Error('boom')
    },
    1,
    onProgress,
  )
  assert.equal(events, [
    'started web-1',
    'finished web-1 ok',
    'started web-2',
    'finished web-2 failed',
    'started web-3',
    'finished web-3 ok',
  ])
  assert.equal(
    outcomes.map((o) => o.ok),
    [true, false, true],
  )
})

test("a failed connect is that server's failure, reported as finished", async () => {
  const events: FleetEvent[] = []
  const session: Session = {
    connect: async () => {
      throw new Error('connection refused')
    },
    closeAll: async () => {},
  }
  const outcomes = await forEachServer(
    SERVERS.slice(0, 2),
    session,
    async () => 'never',
    4,
    (e) => events.push(e),
  )
  assert.equal(
    outcomes.map((o) => o.ok),
    [false, false],
  )
  assert.equal(events.filter((e) => e.kind === 'finished').length, 2)
})

test.run()
