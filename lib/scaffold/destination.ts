import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'

// Where the scaffold goes: `~` and `~/x` are the user's home, anything else is taken from the working directory.

export interface DestinationContext {
  cwd: string
  home: string
}

/** The --destination value as an absolute, normalised path. */
export function resolveDestination(
  input: string,
  context: DestinationContext = { cwd: process.cwd(), home: os.homedir() },
): string {
  if (input === '~' || input.startsWith('~/')) return path.resolve(context.home, `.${input.slice(1)}`)
  // `~bob` means bob's home to a shell; taken literally it would create a folder named "~bob" here.
  if (input.startsWith('~')) {
    throw new InputError([
      {
        field: '--destination',
        value: input,
        allowed: '~, ~/path, an absolute path or one relative to the current directory',
        hint: 'write the home directory out, e.g. /home/bob/app for ~bob/app',
      },
    ])
  }
  return path.resolve(context.cwd, input)
}
