// Quoting for the remote POSIX shell (dash on Debian), in one place. ssh joins its arguments with spaces and the
// remote login shell re-parses them, so every argument is single-quoted here exactly once.

/** One argument for a POSIX shell: wrapped in '…', each ' written as '\''. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new TypeError(`shellQuote: a NUL byte cannot be passed to a shell: ${JSON.stringify(arg)}`)
  if (/^[A-Za-z0-9_\/.=:@%+,-]+$/.test(arg)) return arg
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

/** An argv array as one command line for the remote shell. */
export function remoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('remoteCommand: empty argv')
  return argv.map(shellQuote).join(' ')
}
