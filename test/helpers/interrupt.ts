import path from 'node:path'
import { execa } from 'execa'
import { PROJECT, type TaskRun } from './run-task.ts'

// A task started in the background, to be interrupted at a moment the test chooses by the servers' state.

const ZX_CLI = path.join(PROJECT, 'node_modules', 'zx', 'build', 'cli.js')

export interface BackgroundTask {
  /** SIGINT/SIGTERM to the task process alone, or (`group`) to its whole process group, as Ctrl-C at a terminal does. */
  interrupt(signal: NodeJS.Signals, options?: { group?: boolean }): void
  /** Settles when the task has exited. */
  done: Promise<TaskRun>
}

export function startTask(name: string, args: string[], options: { timeoutMs?: number } = {}): BackgroundTask {
  // detached: its own process group, so a group signal reaches the task and its ssh/rsync children, not the test runner.
  const child = execa(process.execPath, [ZX_CLI, path.join(PROJECT, 'tasks', `${name}.mjs`), ...args], {
    cwd: PROJECT,
    reject: false,
    stdin: 'ignore',
    detached: true,
    extendEnv: false,
    env: { ...withoutColorForcing(process.env), NO_COLOR: '1' },
    timeout: options.timeoutMs ?? 120_000,
    all: true,
  })
  const done = child.then((result) => ({
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    all: String(result.all ?? ''),
  }))
  return {
    interrupt(signal, { group = false } = {}) {
      if (child.pid === undefined) throw new Error(`task ${name} has no pid`)
      process.kill(group ? -child.pid : child.pid, signal)
    },
    done,
  }
}

function withoutColorForcing(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _ignored, ...rest } = env
  return rest
}
