import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { shellQuote } from '../../lib/remote/quote.ts'
import { PROJECT } from './run-task.ts'

// A person at a terminal: a real tmux pane running a task, keys sent as typed, the screen read back. Each terminal
// has its own tmux server (socket in a temp dir), so journeys never meet another tmux, and close() ends it.

const ZX_CLI = path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js')

export interface Terminal {
  /** Starts `npx zx tasks/<name>.mjs args` in a fresh pane; `pipe`: its stdout through `| cat` (stderr stays on the pane). */
  run(name: string, args: string[], options?: { pipe?: boolean }): Promise<void>
  /** Types text and presses Enter. */
  type(text: string): Promise<void>
  /** Types text as it is, no Enter. */
  write(text: string): Promise<void>
  /** Presses keys by tmux name: Up, Down, Enter, BSpace, C-c, C-d, C-u... */
  press(...keys: string[]): Promise<void>
  /** Waits until the screen (with its scrollback) shows text at least `times` times; returns the screen. */
  waitFor(text: string, times?: number): Promise<string>
  /** Waits until the task ends; its exit code and the whole screen. */
  exit(): Promise<{ exitCode: number; screen: string }>
  screen(): Promise<string>
  close(): Promise<void>
}

export async function openTerminal(timeoutMs = 30_000): Promise<Terminal> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-tmux-'))
  const socket = path.join(dir, 'socket')
  const config = path.join(dir, 'tmux.conf')
  // The pane stays after the task ends, so its exit status and last lines can be read.
  await fs.writeFile(config, 'set -g remain-on-exit on\nset -g history-limit 10000\n')
  // A person's shell: no CI (which turns prompts off), no colour forcing; SSH masters closed at exit, as in the suite.
  const { CI: _ci, FORCE_COLOR: _color, ...env } = process.env
  const tmux = (args: string[]) =>
    execa('tmux', ['-S', socket, '-f', config, ...args], {
      extendEnv: false,
      env: { ...env, NO_COLOR: '1', ZXS_CONTROL_PERSIST: '0' },
      timeout: 10_000,
    })
  let pane = 0
  const target = () => `journey${pane}`
  const exitFile = () => path.join(dir, `exit-${pane}`)
  const screen = async () => (await tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', target()])).stdout
  const poll = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = await check()
      if (value !== undefined) return value
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; the terminal shows:\n${await screen()}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    async run(name, args, options = {}) {
      pane += 1
      const task = [process.execPath, ZX_CLI, path.join(PROJECT, 'tasks', `${name}.mjs`), ...args]
        .map(shellQuote)
        .join(' ')
      // The pane's shell writes the task's exit code to a file: tmux 3.3 sometimes leaves an ended pane unreaped (a
      // zombie it never marks dead), so its pane_dead_status cannot be waited for.
      const command = options.pipe
        ? `{ ${task}; echo $? > ${shellQuote(exitFile())}; } | cat`
        : `${task}; echo $? > ${shellQuote(exitFile())}`
      await tmux(['new-session', '-d', '-s', target(), '-x', '220', '-y', '50', '-c', PROJECT, command])
    },
    async type(text) {
      if (text) await tmux(['send-keys', '-t', target(), '-l', text])
      await tmux(['send-keys', '-t', target(), 'Enter'])
    },
    async write(text) {
      await tmux(['send-keys', '-t', target(), '-l', text])
    },
    async press(...keys) {
      await tmux(['send-keys', '-t', target(), ...keys])
    },
    waitFor: (text, times = 1) =>
      poll(`${JSON.stringify(text)} (${times}×)`, async () => {
        const shown = await screen()
        return shown.split(text).length - 1 >= times ? shown : undefined
      }),
    async exit() {
      const exitCode = await poll('the task to end', async () => {
        const status = (await fs.readFile(exitFile(), 'utf8').catch(() => '')).trim()
        // Written with its newline in one go, but read only once it is a whole number.
        return /^\d+$/.test(status) ? Number(status) : undefined
      })
      return { exitCode, screen: await screen() }
    },
    screen,
    async close() {
      await tmux(['kill-server']).catch(() => undefined)
      await fs.rm(dir, { recursive: true, force: true })
    },
  }
}
