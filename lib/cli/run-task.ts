import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMON_FLAGS, formatHelp, parseFlags, type FlagSpec, type ParsedFlags, type TaskMeta } from './flags.ts'
import { createOutput, type Output } from './output.ts'
import { isInteractive } from './prompt.ts'
import { createSession, type Session } from '../remote/connection.ts'
import { EXIT, InputError, RemoteError, ZxsError } from '../errors.ts'

// The frame every task runs in: flags, output, one SSH session, error → message + exit code, Ctrl-C → close and 130.

export interface TaskContext {
  flags: ParsedFlags
  /** Flags the user actually typed (vs defaults). */
  given: Set<string>
  output: Output
  session: Session
  interactive: boolean
}

export type TaskMain = (context: TaskContext) => Promise<number | void>

export interface Task {
  meta: TaskMeta
  /** Runs the task in this process with argv-style args and resolves with its exit code (for pipelines). */
  run(args: string[], options?: { handleSignals?: boolean; output?: Output }): Promise<number>
}

export function defineTask(meta: Omit<TaskMeta, 'flags'> & { flags: FlagSpec[]; common?: string[] }, main: TaskMain): Task {
  const common = COMMON_FLAGS.filter((f) => !meta.common || meta.common.includes(f.name) || f.name === 'help')
  const full: TaskMeta = { ...meta, flags: [...meta.flags, ...common] }
  return {
    meta: full,
    async run(args, options = {}) {
      let output = options.output ?? createOutput({ json: args.includes('--json'), quiet: false, verbose: args.includes('--verbose') || args.includes('-v') })
      let session: Session | undefined
      let interrupted: NodeJS.Signals | undefined
      // The remote side never stops half-way (activation ignores the hang-up), so closing the connections is safe.
      const onSignal = async (signal: NodeJS.Signals) => {
        if (interrupted) return
        interrupted = signal
        process.exitCode = EXIT.interrupted
        output.warn(`interrupted by ${signal}; closing connections`)
        await session?.closeAll()
        process.exit(EXIT.interrupted)
      }
      // on, not once: execa's signal-exit re-raises a signal that no other listener is left to handle.
      if (options.handleSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal)
      try {
        const { flags, given } = parseFlags(full.flags, args)
        if (flags.help) {
          process.stdout.write(`${formatHelp(full)}\n`)
          return EXIT.ok
        }
        output = options.output ?? createOutput({ json: Boolean(flags.json), quiet: Boolean(flags.quiet), verbose: Boolean(flags.verbose) })
        const interactive = isInteractive() && !flags.json
        session = createSession({
          timeoutSeconds: typeof flags.timeout === 'number' && flags.timeout > 0 ? flags.timeout : 10,
          batch: !interactive,
          onCommand: (server, line) => output.detail(`${server}$ ${line}`),
        })
        const code = (await main({ flags, given, output, session, interactive })) ?? EXIT.ok
        return interrupted ? EXIT.interrupted : code
      } catch (error) {
        return interrupted ? EXIT.interrupted : reportError(error, output)
      } finally {
        await session?.closeAll()
        if (options.handleSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.removeListener(s, onSignal)
      }
    },
  }
}

function reportError(error: unknown, output: Output): number {
  const verbose = output.options.verbose
  if (error instanceof ZxsError) {
    const prefix = error instanceof RemoteError ? `${error.server}: ` : ''
    output.error(`${prefix}${error.message}`)
    if (verbose && error instanceof RemoteError && error.detail) output.detail(error.detail.trim())
    if (verbose) output.detail(error.stack ?? '')
    output.json({ ok: false, exitCode: error.exitCode, error: error.message, problems: error instanceof InputError ? error.problems : undefined })
    return error.exitCode
  }
  const message = error instanceof Error ? error.message : String(error)
  output.error(`${message}${verbose ? '' : ' (run with --verbose for details)'}`)
  if (verbose && error instanceof Error) output.detail(error.stack ?? '')
  output.json({ ok: false, exitCode: EXIT.failed, error: message })
  return EXIT.failed
}

/** Runs the task when this file is the script zx (or node) was asked to run; stays quiet when imported. */
export async function runIfMain(importMetaUrl: string, task: Task): Promise<void> {
  const file = fileURLToPath(importMetaUrl)
  const index = process.argv.findIndex((arg, i) => i > 0 && path.resolve(arg) === file)
  if (index === -1) return
  process.exitCode = await task.run(process.argv.slice(index + 1), { handleSignals: true })
}

/** The project folder (templates/ lives there), wherever the task is run from. */
export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
