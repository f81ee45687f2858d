import * as assert from 'uvu/assert'
import { InputError } from '../../lib/errors.ts'

/** Runs `fn`, expecting it to throw an InputError; returns that error for assertions on its problems. */
export function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, InputError)
    return error as InputError
  }
  assert.unreachable('expected an InputError')
  throw new Error('unreachable')
}
