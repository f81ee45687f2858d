import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { restartOneByOne } from '../../lib/service/one-by-one.ts'
import { fakeConnection } from '../helpers/fake-connection.ts'

// restartOneByOne against a scripted supervisor: the order of calls (the next process is restarted only after the
// previous one came back RUNNING and was seen again with the same pid), and a process that does not come back stops it.

const GROUP = 'a.test-worker'

interface FakeProcess {
  name: string
  state: string
  pid?: number
}

/** supervisor.py's `processes` and `control restart` over an in-memory process table; `onRestart` may make a process misbehave. */
function fakeSupervisor(onRestart: (process: FakeProcess) => void = () => {}) {
  let nextPid = 100
  const table: FakeProcess[] = [0, 1, 2].map((n) => ({
    name: `${GROUP}:${GROUP}_0${n}`,
    state: 'RUNNING',
    pid: nextPid++,
  }))
  const commands: string[] = []
  const raw = (p: FakeProcess) => {
    const [group, name] = p.name.split(':') as [string, string]
    return {
      group,
      name,
      statename: p.state,
      pid: p.pid ?? 0,
      description: p.pid ? `pid ${p.pid}, uptime 0:00:05` : 'Exited too quickly',
    }
  }
  const { connection } = fakeConnection((argv) => {
    const [command = '', ...args] = argv.slice(argv.indexOf('-') + 1)
    const values = (flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []))
    if (command === 'processes') {
      commands.push(`processes ${values('--group').join(' ')}`)
      return {
        stdout: JSON.stringify({
          unknown: [],
          processes: table.filter((p) => values('--group').some((g) => p.name.startsWith(`${g}:`))).map(raw),
        }),
        stderr: '',
        exitCode: 0,
      }
    }
    const name = values('--process')[0] as string
    commands.push(`${values('--action')[0]} ${name}`)
    const process = table.find((p) => p.name === name) as FakeProcess
    Object.assign(process, { state: 'RUNNING', pid: nextPid++ })
    onRestart(process)
    return {
      stdout: JSON.stringify({
        unknown: [],
        lines: [`${name}: stopped`, `${name}: started`],
        processes: [raw(process)],
      }),
      stderr: '',
      exitCode: 0,
    }
  })
  return { connection, commands, table }
}

test('each process is restarted only after the one before is RUNNING and kept its pid; every pid is new', async () => {
  const { connection, commands, table } = fakeSupervisor()
  const before = table.map((p) => p.pid)
  const result = await restartOneByOne(connection, [{ name: GROUP, startSecs: 0 }])
  const p = (n: number) => `${GROUP}:${GROUP}_0${n}`
  assert.equal(commands, [
    `processes ${GROUP}`,
    `restart ${p(0)}`,
    `processes ${GROUP}`,
    `restart ${p(1)}`,
    `processes ${GROUP}`,
    `restart ${p(2)}`,
    `processes ${GROUP}`,
    `processes ${GROUP}`,
  ])
  assert.equal(
    result.restarted.map((r) => r.oldPid),
    before,
  )
  assert.ok(result.restarted.every((r) => !before.includes(r.newPid)))
  assert.equal([result.failed, result.untouched, result.changed], [[], [], 3])
  assert.match(result.lines.join('\n'), `${p(2)}: RUNNING pid ${result.restarted[2]?.newPid}, held 0s`)
})

test('a new process that dies within startsecs (new pid) stops the rollout: the rest keep their old pids', async () => {
  const { connection, table } = fakeSupervisor((process) => {
    // The second process crashes after RUNNING, and supervisor's autorestart gives it yet another pid.
    if (process.name.endsWith('_01')) setTimeout(() => Object.assign(process, { pid: 999 }), 20)
  })
  const untouchedPid = table[2]?.pid
  const result = await restartOneByOne(connection, [{ name: GROUP, startSecs: 0.1 }])
  assert.equal(
    result.restarted.map((r) => r.name),
    [`${GROUP}:${GROUP}_00`],
  )
  assert.equal(result.untouched, [`${GROUP}:${GROUP}_02`])
  assert.equal(result.failed, [GROUP])
  assert.is(table[2]?.pid, untouchedPid, 'the third process was never touched')
  assert.match(result.lines.join('\n'), /_01: pid \d+ did not stay up for 0.1s \(now RUNNING pid 999\); stopping/)
})

test('a process that does not start (FATAL) stops the rollout at once', async () => {
  const { connection } = fakeSupervisor((process) => {
    if (process.name.endsWith('_00')) Object.assign(process, { state: 'FATAL', pid: undefined })
  })
  const result = await restartOneByOne(connection, [{ name: GROUP, startSecs: 0 }])
  assert.equal(result.restarted, [])
  assert.equal(result.untouched, [`${GROUP}:${GROUP}_01`, `${GROUP}:${GROUP}_02`])
  assert.match(
    result.lines.join('\n'),
    `${GROUP}:${GROUP}_00: FATAL after restart; stopping the one-by-one restart here`,
  )
})

test.run()
