// POSIX quoting, in one place: the remote shell (dash on Debian), supervisor's shlex split of command=, runner.sh
// templates and rsync's own -e splitting all read it. ssh joins its arguments with spaces and the remote login shell
// re-parses them, so every argument is quoted here exactly once.

/**
 * One word in single quotes. An embedded ' is written '"'"' rather than '\'' because rsync's -e parser, which is
 * not a shell, knows quotes but no backslash escapes; both forms mean the same to a POSIX shell and to shlex.
 */
export function singleQuote(arg: string): string {
  if (arg.includes('\0')) throw new TypeError(`a NUL byte cannot be passed to a shell: ${JSON.stringify(arg)}`)
  return `'${arg.replaceAll("'", `'"'"'`)}'`
}

/** One argument for a POSIX shell: left bare when it has no character a shell (or rsync) would read, else quoted. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_/.=:@%+,-]+$/.test(arg) ? arg : singleQuote(arg)
}

/** An argv array as one command line for the remote shell. */
export function remoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('remoteCommand: empty argv')
  return argv.map(shellQuote).join(' ')
}
