import * as assert from 'uvu/assert'
import { InputError } from '../../lib/errors.ts'

// The one way tests expect an error: the call must throw (or reject with) that kind, and the error comes back for
// assertions on its message, fields and exit code.

/** Any Error class, whatever its constructor takes. */
type ErrorKind<E extends Error> = abstract new (...args: never[]) => E

/** Runs `fn`, expecting it to throw an instance of `kind`; returns that error. */
export function thrown<E extends Error>(fn: () => unknown, kind: ErrorKind<E>): E {
  try {
    fn()
  } catch (error) {
    assert.instance(error, kind, `expected a ${kind.name}, got: ${String(error)}`)
    return error as E
  }
  assert.unreachable(`expected a ${kind.name}; nothing was thrown`)
  throw new Error('unreachable')
}

/** Awaits `fn`, expecting it to reject with an instance of `kind`; returns that error. */
export async function rejected<E extends Error>(fn: () => Promise<unknown>, kind: ErrorKind<E>): Promise<E> {
  try {
    await fn()
  } catch (error) {
    assert.instance(error, kind, `expected a ${kind.name}, got: ${String(error)}`)
    return error as E
  }
  assert.unreachable(`expected a ${kind.name}; it resolved`)
  throw new Error('unreachable')
}

/** Runs `fn`, expecting it to throw an InputError (exit 2); returns that error for assertions on its problems. */
export function inputError(fn: () => unknown): InputError {
  const error = thrown(fn, InputError)
  assert.is(error.exitCode, 2)
  return error
}

/** inputError for an async function. */
export async function inputErrorAsync(fn: () => Promise<unknown>): Promise<InputError> {
  const error = await rejected(fn, InputError)
  assert.is(error.exitCode, 2)
  return error
}
