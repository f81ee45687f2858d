import type { Connection, Session } from '../remote/connection.ts'

// The one status line at the bottom of a terminal: the fleet's "2/5 done" count and a spinner while servers are
// waited on. A wait that has lasted more than a second with nothing printed meanwhile shows
// "⠋ web-1: waiting for app.test-worker to stop (12 s)" (or, with the count, "⠋ 2/5 done, … · waiting on web-3 (4 s)"),
// redrawn in place on stderr; the output erases it before it writes any line, and it comes back after another quiet
// second. Only for a person watching both streams on a terminal: never with --json or --quiet, in CI, or when stdout
// or stderr is not a terminal (a pipe reader writes our lines whenever it likes, so they could not be kept apart).
//
// Not clack's spinner: it puts stdin in raw mode while it spins (its Ctrl-C then exits 0, past the frame's 130 and its
// interrupt report), adds its own SIGINT/SIGTERM/exit handlers, and prints a bar and a final "◇ message" line of its
// own; this one is a line of text that comes and goes around the task's own lines.

export interface StatusLine {
  /** A command on `server` starts; call the function returned when it has ended. */
  wait(server: string): () => void
  /** What the server is being waited for ("waiting for app.test-worker to stop"), shown instead of "waiting on"; undefined clears it. */
  note(server: string, text: string | undefined): void
  /** The work on the server is over: a pause after its last command is no longer a wait (the fleet count calls it). */
  settle(server: string): void
  /** The fleet progress count, drawn at once and kept until undefined. */
  progress(text: string | undefined): void
  /** Erases the line now: the output calls it before each line it writes. It comes back after a quiet second. */
  clear(): void
  /** The task is over: forgets waits that are only pausing, erases the line and stops its timer. */
  end(): void
  /** Never draws again (Ctrl-C: the frame's last lines must not get a spinner under them). */
  stop(): void
}

export interface StatusTerminal {
  isTTY?: boolean
  columns?: number
  write(text: string): unknown
}

/** Time for the status line: the wall clock and a repeating timer (a fake one in tests). */
export interface StatusClock {
  now(): number
  every(ms: number, tick: () => void): { stop(): void }
}

export const realClock: StatusClock = {
  now: () => Date.now(),
  every(ms, tick) {
    // unref: the line never keeps the process alive.
    const timer = setInterval(tick, ms)
    timer.unref()
    return { stop: () => clearInterval(timer) }
  },
}

/** A wait shows after this long with nothing printed. */
export const SPINNER_DELAY_MS = 1000
/** Animation step. */
const TICK_MS = 100
/**
 * A server is still being waited on this long after its last command ended: a poll loop (the deploy gate polls every
 * second, a restart's wait every half second) is one wait, not many short ones.
 */
const PAUSE_MS = 2000
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
/** The Linux console has no braille. */
const ASCII_FRAMES = ['-', '\\', '|', '/']
const ERASE_LINE = '\r\x1b[2K'

/** CI=true (GitHub Actions, GitLab, most others) or any other non-empty value but "false"/"0". */
export function runsInCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI?.trim().toLowerCase()
  return Boolean(ci) && ci !== 'false' && ci !== '0'
}

/** Whether a status line may be drawn: both streams on a terminal, not CI, not --json or --quiet. */
export function statusLineWanted(
  options: { json: boolean; quiet: boolean },
  streams: { out: { isTTY?: boolean }; err: { isTTY?: boolean } },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return !options.json && !options.quiet && Boolean(streams.out.isTTY) && Boolean(streams.err.isTTY) && !runsInCi(env)
}

interface Span {
  /** When this continuous wait began. */
  since: number
  /** Commands in flight. */
  running: number
  /** When the last command ended (while running is 0). */
  idleSince: number
}

export function createStatusLine(
  terminal: StatusTerminal,
  options: { clock?: StatusClock; env?: NodeJS.ProcessEnv } = {},
): StatusLine {
  const clock = options.clock ?? realClock
  const frames = (options.env ?? process.env).TERM === 'linux' ? ASCII_FRAMES : FRAMES
  const spans = new Map<string, Span>()
  const notes = new Map<string, string>()
  let progressText: string | undefined
  let lastLineAt = Number.NEGATIVE_INFINITY
  let drawn = ''
  let frame = 0
  let timer: { stop(): void } | undefined
  let stopped = false

  const eraseAtExit = () => {
    if (drawn) terminal.write(ERASE_LINE)
  }
  const write = (text: string) => {
    if (text === drawn) return
    terminal.write(`${ERASE_LINE}${text}`)
    // A process.exit (an uncaught error, a second Ctrl-C) must not leave the line behind.
    if (text && !drawn) process.on('exit', eraseAtExit)
    if (!text && drawn) process.removeListener('exit', eraseAtExit)
    drawn = text
  }

  const waitText = (now: number): string | undefined => {
    const waited = [...spans.entries()]
    if (!waited.length) return undefined
    const since = Math.min(...waited.map(([, span]) => span.since))
    if (now - Math.max(since, lastLineAt) < SPINNER_DELAY_MS) return undefined
    const seconds = `(${Math.floor((now - since) / 1000)} s)`
    if (waited.length === 1) {
      const [server] = waited[0] as [string, Span]
      const note = notes.get(server)
      return `${note ? `${server}: ${note}` : `waiting on ${server}`} ${seconds}`
    }
    const names = waited.map(([server]) => server)
    return `waiting on ${names.length <= 3 ? names.join(', ') : `${names.length} servers`} ${seconds}`
  }

  const render = () => {
    if (stopped) return
    const now = clock.now()
    for (const [server, span] of spans) if (!span.running && now - span.idleSince >= PAUSE_MS) spans.delete(server)
    const waiting = waitText(now)
    let text = ''
    if (waiting) {
      frame = (frame + 1) % frames.length
      text = `${frames[frame]} ${progressText ? `${progressText} · ${waiting}` : waiting}`
    } else if (progressText) text = progressText
    // A line wider than the terminal wraps, and \r would then redraw only its last row (a pty without a size says 0).
    write(text.slice(0, (terminal.columns || 80) - 1))
    if (!spans.size && progressText === undefined) {
      timer?.stop()
      timer = undefined
    }
  }
  const run = () => {
    if (stopped || timer) return
    timer = clock.every(TICK_MS, render)
  }

  return {
    wait(server) {
      const now = clock.now()
      const span = spans.get(server)
      if (span) span.running++
      else spans.set(server, { since: now, running: 1, idleSince: now })
      run()
      let ended = false
      return () => {
        if (ended) return
        ended = true
        const open = spans.get(server)
        if (!open) return
        open.running = Math.max(0, open.running - 1)
        if (!open.running) open.idleSince = clock.now()
      }
    },
    note(server, text) {
      if (text === undefined) notes.delete(server)
      else notes.set(server, text)
    },
    settle(server) {
      if (!spans.get(server)?.running) spans.delete(server)
    },
    progress(text) {
      progressText = text
      if (text !== undefined) run()
      render()
    },
    clear() {
      lastLineAt = clock.now()
      if (drawn) write('')
    },
    end() {
      for (const [server, span] of spans) if (!span.running) spans.delete(server)
      notes.clear()
      progressText = undefined
      write('')
      if (!spans.size) {
        timer?.stop()
        timer = undefined
      }
    },
    stop() {
      write('')
      stopped = true
      timer?.stop()
      timer = undefined
    },
  }
}

/**
 * The session a task is handed: each command and upload of its connections counts as a wait on that server (opening a
 * connection does not: ssh may be asking for a password or a host key on the terminal then). Steps stay unaware.
 */
export function showWaits(session: Session, status: StatusLine | undefined): Session {
  if (!status) return session
  const watched = (connection: Connection): Connection => {
    const name = connection.server.name
    return {
      ...connection,
      async run(argv, options) {
        const done = status.wait(name)
        try {
          return await connection.run(argv, options)
        } finally {
          done()
        }
      },
      async rsync(localDir, remoteDir, options) {
        const done = status.wait(name)
        try {
          return await connection.rsync(localDir, remoteDir, options)
        } finally {
          done()
        }
      },
    }
  }
  return {
    ...session,
    connect: async (server) => watched(await session.connect(server)),
  }
}
