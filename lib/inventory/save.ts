// Writes an edited inventory back: validated first, atomically, and never over an edit someone made since it was read.
import { dirname } from 'node:path'
import { InputError } from '../errors.ts'
import { FileChangedError, replaceFile } from '../fs/atomic-write.ts'
import { fsErrorReason } from '../fs/error-reason.ts'
import { type LoadedInventory, parseInventory } from './load.ts'

/** The file was edited by someone else between read and write: writing now would lose their change. */
export class InventoryChangedError extends InputError {
  constructor(path: string) {
    super([
      {
        field: path,
        value: '(changed on disk)',
        allowed: 'the file as it was when this run read it',
        hint: 'run the command again to work on the current file',
      },
    ])
    // The problem stays for --json; people get it said once, in one sentence.
    this.message = `inventory ${path} changed on disk since this run read it (edited meanwhile); nothing was written. Hint: run the command again to work on the current file.`
    this.name = 'InventoryChangedError'
  }
}

export class InventoryWriteError extends InputError {
  constructor(path: string, reason: string) {
    super(
      [
        {
          field: path,
          value: reason,
          allowed: 'a writable inventory file in a writable directory',
          hint: `a temp file is written in ${dirname(path)} and renamed over the inventory; check both permissions`,
        },
      ],
      `Cannot write inventory ${path}: ${reason}`,
    )
    this.name = 'InventoryWriteError'
  }
}

/** Replaces the inventory file with `newText`, only if it validates and the file still holds what was read. */
export async function saveInventory(loaded: LoadedInventory, newText: string): Promise<void> {
  parseInventory(newText, loaded.path)
  try {
    await replaceFile(loaded.path, newText, loaded.text)
  } catch (error) {
    if (error instanceof FileChangedError) throw new InventoryChangedError(loaded.path)
    throw new InventoryWriteError(loaded.path, fsErrorReason(error))
  }
}
