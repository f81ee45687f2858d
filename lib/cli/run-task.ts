import path from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { createAuditContext } from '../audit.ts'
import { EXIT, InputError, RemoteError, ZxsError } from '../errors.ts'
import { type LoadedInventory, loadInventory, resolveInventoryPath } from '../inventory/load.ts'
import {
  CONTROL_PERSIST_ENV,
  createSession,
  DEFAULT_CONTROL_PERSIST_SECONDS,
  type Session,
  type SessionOptions,
} from '../remote/connection.ts'
import { assertSshConfigExists, chooseSshConfig, SSH_CONFIG_ENV, type SshConfigFile } from '../remote/ssh-config.ts'
import { checkControlPersist } from '../values.ts'
import {
  COMMON_FLAGS,
  type CommonFlagName,
  DEFAULT_TIMEOUT_SECONDS,
  type ExitCode,
  type FlagSpec,
  formatHelp,
  optionsToArgs,
  type ParsedFlags,
  parseFlags,
  type TaskMeta,
} from './flags.ts'
import { createOutput, type Output, type OutputOptions } from './output.ts'
import { isInteractive } from './prompt.ts'
import { showWaits } from './spinner.ts'

// The frame every task runs in: flags, output, one SSH session, error → message + exit code, Ctrl-C → close and 130.

export interface TaskContext {
  flags: ParsedFlags
  /** Flags the user actually typed (vs defaults). */
  given: Set<string>
  output: Output
  session: Session
  interactive: boolean
  /** What is still going on on a server (key → message): printed if the run is interrupted now. */
  stillRunning: Map<string, string>
  /**
   * Aborted (reason: the signal's name) on SIGINT/SIGTERM, before any connection is closed. Only a task defined with
   * `interrupt: 'report'` gets to see it: it stops starting work, reports, and returns; the frame then exits 130.
   */
  interrupted: AbortSignal
}

// biome-ignore lint/suspicious/noConfusingVoidType: a task that returns nothing has finished well (exit 0)
export type TaskMain = (context: TaskContext) => Promise<number | void>

/** A task's flags as a plain object, keyed by flag name or its camelCase (`dryRun`); `output` receives what it prints. */
export type TaskOptions = { output?: Output } & Record<string, unknown>

export interface TaskOutcome {
  exitCode: number
  /** The document --json prints (also when --json was not asked for); an error document when the task failed. */
  result: unknown
}

export interface Task {
  meta: TaskMeta
  /** Runs the task in this process with argv-style args and resolves with its exit code (for pipelines). */
  run(args: string[], options?: { handleSignals?: boolean; output?: Output }): Promise<number>
  /** Runs the task from a script: flags as an object, never a prompt, nothing on stdout unless `options.output` says so. */
  call(options?: TaskOptions): Promise<TaskOutcome>
}

export interface TaskDefinition extends Omit<TaskMeta, 'flags' | 'exitCodes'> {
  flags: FlagSpec[]
  /** The common flags this task really uses; --help is always offered, --ssh-config with --timeout (it connects). */
  common: CommonFlagName[]
  /** Default: 0, 1, 2 and 130. Add 3 only for a task that compares the servers with the inventory. */
  exitCodes?: ExitCode[]
  /**
   * On SIGINT/SIGTERM: 'exit' (default) closes the connections and exits 130 at once; 'report' cancels the commands in
   * flight, lets the task report where each server was left, then exits 130 (a second signal exits at once).
   */
  interrupt?: 'exit' | 'report'
}

const STANDARD_EXIT_CODES: ExitCode[] = [EXIT.ok, EXIT.failed, EXIT.badInput, EXIT.interrupted]

/** How run (argv, a person or CI) and call (a script) differ; everything else is one frame. */
interface Frame {
  /** The output for these output flags (asked before and after the flags are parsed). */
  outputFor(options: OutputOptions): Output
  interactive(flags: ParsedFlags): boolean
  showHelp(text: string, output: Output): void
  handleSignals: boolean
}

export function defineTask(definition: TaskDefinition, main: TaskMain): Task {
  const { common, exitCodes = STANDARD_EXIT_CODES, interrupt = 'exit', ...meta } = definition
  const connects = common.includes('timeout')
  const commonFlags = COMMON_FLAGS.filter(
    (flag) => flag.name === 'help' || common.includes(flag.name) || (flag.name === 'ssh-config' && connects),
  )
  const full: TaskMeta = { ...meta, exitCodes, flags: [...meta.flags, ...commonFlags] }

  async function execute(args: string[], frame: Frame): Promise<TaskOutcome> {
    let result: unknown
    // Every task ends with output.json(document): keeping the last one makes it call()'s result, with or without --json.
    const recording = (output: Output): Output => ({
      ...output,
      json(document) {
        result = document
        output.json(document)
      },
    })
    let output = recording(
      frame.outputFor({
        json: args.includes('--json'),
        quiet: false,
        verbose: args.includes('--verbose') || args.includes('-v'),
      }),
    )
    let session: Session | undefined
    let interrupted: NodeJS.Signals | undefined
    const stillRunning = new Map<string, string>()
    const interruption = new AbortController()
    const exitNow = async () => {
      for (const note of stillRunning.values()) output.warn(note)
      await session?.closeAll()
      process.exit(EXIT.interrupted)
    }
    // The remote side never stops half-way (activation ignores the hang-up), so closing the connections is safe.
    const onSignal = async (signal: NodeJS.Signals) => {
      // No spinner under the lines that follow, nor left behind by the exit.
      output.status?.stop()
      if (interrupted) {
        if (interrupt === 'report') {
          output.warn(`interrupted again by ${signal}; closing connections without waiting for the summary`)
          await exitNow()
        }
        return
      }
      interrupted = signal
      process.exitCode = EXIT.interrupted
      // First, before anything is closed: a command that ends now is reported as interrupted, not as a lost connection.
      interruption.abort(signal)
      if (interrupt === 'report') {
        output.warn(
          `interrupted by ${signal}: commands in flight are cut off, nothing new starts; a summary follows (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit at once)`,
        )
        return
      }
      output.warn(`interrupted by ${signal}; closing connections`)
      await exitNow()
    }
    // on, not once: execa's signal-exit re-raises a signal that no other listener is left to handle.
    if (frame.handleSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal)
    const outcome = (exitCode: number): TaskOutcome => ({ exitCode: interrupted ? EXIT.interrupted : exitCode, result })
    let exitCode: number = EXIT.failed
    try {
      const { flags, given } = parseFlags(full.flags, args)
      output = recording(
        frame.outputFor({ json: Boolean(flags.json), quiet: Boolean(flags.quiet), verbose: Boolean(flags.verbose) }),
      )
      if (flags.help) {
        frame.showHelp(formatHelp(full), output)
        return outcome(EXIT.ok)
      }
      if (common.includes('inventory'))
        flags.inventory = resolveInventoryPath(flags.inventory, process.env, process.cwd())
      const interactive = frame.interactive(flags)
      // The frame reads the inventory's sshConfig and controlPersist: one load serves both.
      let loaded: Promise<LoadedInventory | undefined> | undefined
      const inventory = () => {
        loaded ??= flags.inventory ? loadInventory(flags.inventory).catch(() => undefined) : Promise.resolve(undefined)
        return loaded
      }
      const sshConfig = connects ? await sshConfigFor(flags, inventory) : undefined
      // One audit context per run: every line this run writes on a server carries its id.
      const audit = connects
        ? createAuditContext({
            task: meta.name,
            flags,
            given,
            inventoryId: (await inventory())?.inventory.id ?? null,
          })
        : undefined
      session = createSession({
        timeoutSeconds: flags.timeout ?? DEFAULT_TIMEOUT_SECONDS,
        batch: !interactive,
        controlPersist: common.includes('persist') ? controlPersistFor(flags, inventory) : false,
        ...(sshConfig ? { sshConfig } : {}),
        onCommand: (server, line) => output.detail(`${server}$ ${line}`),
        onLogin: (server, note) => output.detail(`${server}: ${note}`),
        onMaster: (server, note) => output.detail(`${server}: ${note}`),
        onWarning: (message) => output.warn(message),
        interrupted: interruption.signal,
        ...(audit ? { audit } : {}),
      })
      // At a terminal, a command that keeps a server busy for over a second shows on the output's status line.
      session = showWaits(session, output.status)
      exitCode =
        (await main({ flags, given, output, session, interactive, stillRunning, interrupted: interruption.signal })) ??
        EXIT.ok
    } catch (error) {
      exitCode = reportError(error, output)
    } finally {
      output.status?.end()
      // A run that ended well leaves its masters warm for the next task; a failed or interrupted one closes them.
      await session?.closeAll({ keepWarm: !interrupted && (exitCode === EXIT.ok || exitCode === EXIT.notRunning) })
      if (frame.handleSignals) for (const s of ['SIGINT', 'SIGTERM'] as const) process.removeListener(s, onSignal)
    }
    return outcome(exitCode)
  }

  return {
    meta: full,
    async run(args, options = {}) {
      const { exitCode } = await execute(args, {
        outputFor: (flags) => options.output ?? createOutput(flags),
        interactive: (flags) => isInteractive() && !flags.json,
        showHelp: (text) => process.stdout.write(`${text}\n`),
        handleSignals: Boolean(options.handleSignals),
      })
      return exitCode
    },
    call(options = {}) {
      const { output, ...flagValues } = options
      return execute(optionsToArgs(full.flags, flagValues), {
        // A script that calls a task reads its result: human lines are dropped, warnings and errors still reach stderr.
        outputFor: (flags) =>
          output ??
          createOutput({ json: false, quiet: false, verbose: flags.verbose }, { out: DISCARD, err: process.stderr }),
        interactive: () => false,
        showHelp: (text, shown) => shown.info(text),
        handleSignals: false,
      })
    },
  }
}

/**
 * How long SSH masters stay warm after the run: --no-persist, else $ZXS_CONTROL_PERSIST, else the inventory's
 * controlPersist, else 60 s. The inventory is asked when the first master opens (the load that found sshConfig, if any).
 */
function controlPersistFor(
  flags: ParsedFlags,
  inventory: () => Promise<LoadedInventory | undefined>,
): SessionOptions['controlPersist'] {
  if (flags.persist === false) return false
  const fromEnv = process.env[CONTROL_PERSIST_ENV]?.trim()
  if (fromEnv) {
    const checked = checkControlPersist(fromEnv, CONTROL_PERSIST_ENV, { fromFlag: true })
    if (!checked.ok) throw new InputError([checked.problem])
    return checked.value
  }
  return async () => (await inventory())?.inventory.controlPersist ?? DEFAULT_CONTROL_PERSIST_SECONDS
}

/**
 * The ssh config file every connection of the run reads: --ssh-config, else $ZXS_SSH_CONFIG, else the inventory's
 * sshConfig, else none (ssh's own ~/.ssh/config). A named file that is missing is exit 2 before anything is sent; an
 * inventory that does not load is left for the task to report.
 */
async function sshConfigFor(
  flags: ParsedFlags,
  loaded: () => Promise<LoadedInventory | undefined>,
): Promise<SshConfigFile | undefined> {
  const named = Boolean(flags['ssh-config'] || process.env[SSH_CONFIG_ENV]?.trim())
  const inventory = named || !flags.inventory ? undefined : await loaded()
  const chosen = chooseSshConfig({
    flag: flags['ssh-config'],
    env: process.env,
    ...(inventory ? { inventory: { path: inventory.path, sshConfig: inventory.inventory.sshConfig } } : {}),
    cwd: process.cwd(),
  })
  await assertSshConfigExists(chosen)
  return chosen
}

const DISCARD = new Writable({ write: (_chunk, _encoding, done) => done() })

function reportError(error: unknown, output: Output): number {
  const verbose = output.options.verbose
  if (error instanceof ZxsError) {
    const prefix = error instanceof RemoteError ? `${error.server}: ` : ''
    output.error(`${prefix}${error.message}`)
    if (verbose && error instanceof RemoteError && error.detail) output.detail(error.detail.trim())
    if (verbose) output.detail(error.stack ?? '')
    output.json({
      ok: false,
      exitCode: error.exitCode,
      error: error.message,
      problems: error instanceof InputError ? error.problems : undefined,
    })
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
