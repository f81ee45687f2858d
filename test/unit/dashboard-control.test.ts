import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { optionsToArgs } from '../../lib/cli/flags.ts'
import { type ControlTasks, runControl } from '../../lib/dashboard/control.ts'
import type { ControlRequest } from '../../lib/dashboard/server.ts'
import { supervisorRestart } from '../../tasks/supervisor-restart.mjs'

// A control request from the page → calls of the very task the command line runs: once without --server for all of
// the site's servers, else once per chosen server, stopping at the first failure.

function recording(exitCodes: number[] = []) {
  const calls: Array<{ action: string; options: Record<string, unknown> }> = []
  const task = (action: string) => ({
    async call(options: Record<string, unknown>) {
      calls.push({ action, options })
      const exitCode = exitCodes.shift() ?? 0
      return { exitCode, result: { servers: [{ server: options.server ?? 'all', ok: exitCode === 0 }] } }
    },
  })
  const tasks: ControlTasks = { start: task('start'), stop: task('stop'), restart: task('restart') }
  return { tasks, calls }
}

const REQUEST: ControlRequest = { action: 'restart', domain: 'a.test', program: 'worker', servers: [], oneByOne: false }
const SITE = { inventory: '/ops/inventory.yml', siteServers: ['web-1', 'web-2', 'web-3'] }

test('every server of the site: one call without --server', async () => {
  const { tasks, calls } = recording()
  const outcome = await runControl(tasks, { ...REQUEST, servers: ['web-3', 'web-1', 'web-2'] }, SITE)
  assert.equal(calls, [
    { action: 'restart', options: { inventory: '/ops/inventory.yml', domain: 'a.test', program: 'worker' } },
  ])
  assert.equal(outcome, { ok: true, exitCode: 0, result: { servers: [{ server: 'all', ok: true }] } })
})

test('some servers: one call each, in order; the first failure stops the rest', async () => {
  const { tasks, calls } = recording([0, 1])
  const outcome = await runControl(tasks, { ...REQUEST, action: 'stop', servers: ['web-3', 'web-2'] }, SITE)
  assert.equal(
    calls.map((c) => [c.action, c.options.server]),
    [
      ['stop', 'web-3'],
      ['stop', 'web-2'],
    ],
  )
  assert.is(outcome.ok, false)
  assert.is(outcome.exitCode, 1)
  assert.is(outcome.result.servers.length, 2)
})

test('restart one by one reaches the task as --one-by-one', async () => {
  const { tasks, calls } = recording()
  await runControl(tasks, { ...REQUEST, servers: ['web-2'], oneByOne: true }, SITE)
  const options = calls[0]?.options ?? {}
  assert.equal(options, {
    inventory: '/ops/inventory.yml',
    domain: 'a.test',
    program: 'worker',
    server: 'web-2',
    oneByOne: true,
  })
  const args = optionsToArgs(supervisorRestart.meta.flags, options)
  assert.ok(args.includes('--one-by-one'), args.join(' '))
  assert.ok(args.includes('--server=web-2'), args.join(' '))
})

test.run()
