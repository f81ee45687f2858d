import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, processesOn, startSandbox, type TestSandbox } from '../helpers/sandbox.ts'
import { openTerminal, type Terminal } from '../helpers/terminal.ts'

// A person at a terminal (tmux, the screen read back) restarts a worker that ignores SIGTERM, so supervisor waits out
// its stopwaitsecs: while it waits, the status line spins and says what for; once the task ends no spinner is left on
// the screen, nor after a Ctrl-C. The same restart with its stdout piped through cat draws no status line at all.

const spinner = suite<{ sandbox: TestSandbox; terminal: Terminal }>('the wait spinner at a terminal')
const STUBBORN = "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n"
const SPINNING = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/
const WAITING = 'sandbox-1: restarting slow.test-stubborn ('

spinner.before(async (context) => {
  context.sandbox = await startSandbox(1)
  await addSites(
    context.sandbox.inventory,
    `
  - domain: slow.test
    server: sandbox-1
    supervisors:
      - program: stubborn
        script: stubborn.sh
        stopwaitsecs: 4
`,
  )
  const host = context.sandbox.host('sandbox-1')
  await deployApp(host, 'slow.test', { 'stubborn.sh': STUBBORN })
  const sync = await runTask('supervisor-sync', ['--inventory', context.sandbox.inventory, '--all'])
  assert.is(sync.exitCode, 0, sync.all)
  await waitFor('the stubborn worker running', async () =>
    (await processesOn(host)).some((p) => p.group === 'slow.test-stubborn' && p.state === 'RUNNING'),
  )
  context.terminal = await openTerminal()
})

spinner.after(async ({ sandbox, terminal }) => {
  await terminal?.close()
  await sandbox?.down()
})

const restart = (sandbox: TestSandbox) => ['--inventory', sandbox.inventory, '--domain', 'slow.test']

spinner(
  'while supervisor waits out stopwaitsecs the line spins and counts; nothing of it is left after',
  async ({ sandbox, terminal }) => {
    await terminal.run('supervisor-restart', restart(sandbox))
    const during = await terminal.waitFor(WAITING)
    const line = during.split('\n').find((l) => l.includes(WAITING)) ?? ''
    assert.match(line, SPINNING, line)
    assert.match(line, /0\/1 done, 0 failed, 1 running · sandbox-1: restarting slow\.test-stubborn \(\d+ s\)/, line)

    const { exitCode, screen } = await terminal.exit()
    assert.is(exitCode, 0, screen)
    assert.match(screen, 'RECAP')
    assert.match(screen, /sandbox-1\s+slow\.test-stubborn:slow\.test-stubborn_00\s+RUNNING/)
    assert.not.match(screen, SPINNING, `a spinner left on the screen:\n${screen}`)
    assert.not.match(screen, WAITING, screen)
    assert.not.match(screen, 'done, 0 failed', screen)
  },
)

spinner('stdout through a pipe: no status line, not even for a moment', async ({ sandbox, terminal }) => {
  await terminal.run('supervisor-restart', restart(sandbox), { pipe: true })
  const seen: string[] = []
  let ended = false
  const exited = terminal.exit().finally(() => {
    ended = true
  })
  while (!ended) {
    seen.push(await terminal.screen())
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const { exitCode } = await exited
  assert.is(exitCode, 0)
  const screen = await terminal.waitFor('RECAP')
  assert.ok(seen.length > 5, `the screen was read ${seen.length} times during the restart`)
  for (const shown of [...seen, screen]) {
    assert.not.match(shown, SPINNING, shown)
    assert.not.match(shown, 'done, 0 failed', shown)
  }
  assert.match(screen, /slow\.test-stubborn_00\s+RUNNING/)
})

spinner(
  'Ctrl-C while it spins: exit 130, the warning on a clean line, no spinner left behind',
  async ({ sandbox, terminal }) => {
    await terminal.run('supervisor-restart', restart(sandbox))
    await terminal.waitFor(WAITING)
    await terminal.press('C-c')
    const { exitCode, screen } = await terminal.exit()
    assert.is(exitCode, 130, screen)
    assert.match(screen, /^warning: interrupted by SIGINT/m, screen)
    assert.not.match(screen, SPINNING, `a spinner left on the screen:\n${screen}`)
    assert.not.match(screen, WAITING, screen)
  },
)

spinner.run()
