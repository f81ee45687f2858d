// What supervisord reports about its processes and what an update changed, as lib/supervisor/supervisor.py returns them.

export interface ProcessStatus {
  /** The namespec supervisorctl prints: `group:process` (or a bare name for a program without a group). */
  name: string
  group: string
  process: string
  state: string
  pid?: number
  uptime?: string
  description: string
  /** The directory the process runs in, and the release its environment names (from /proc, when read as root). */
  cwd?: string
  releasePath?: string
  /** Why supervisor could not start or keep it (FATAL, BACKOFF), in its words (`Exited too quickly ...`). */
  spawnerr?: string
  /** The last line the program logged, for a process that gave up or exited (read with the status). */
  lastLog?: string
}

export interface UpdateResult {
  added: string[]
  updated: string[]
  removed: string[]
}
