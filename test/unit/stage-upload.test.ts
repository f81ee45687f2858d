import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { uploadFailure } from '../../lib/sync/stage.ts'

// What an upload that could not be staged says, from stage.sh's `WRITE-FAILED PATH FREE_KIB REASON` line.

const DIR = '/var/tmp/zxs-stage-0a1b2c'

const CASES: Array<[string, { needed: number; stdout: string; stderr: string }, RegExp]> = [
  [
    'a full disk: ENOSPC, the path, needed vs free, nothing changed',
    { needed: 2048, stdout: `WRITE-FAILED ${DIR}/f0 0 base64: write error: No space left on device\n`, stderr: '' },
    /^upload failed: the disk is full \(ENOSPC\) at \/var\/tmp\/zxs-stage-0a1b2c: the upload needs 2,048 bytes, 0 bytes are free there; nothing was changed on the server .*df -h \/var\/tmp/,
  ],
  [
    'too little space even without the error text',
    { needed: 10_000, stdout: `WRITE-FAILED ${DIR}/f1 4 base64: write error\n`, stderr: '' },
    /the disk is full \(ENOSPC\) .*needs 10,000 bytes, 4,096 bytes are free there; nothing was changed/,
  ],
  [
    'free space df could not tell',
    {
      needed: 10,
      stdout: `WRITE-FAILED ${DIR} - mkdir: cannot create directory '${DIR}': No space left on device\n`,
      stderr: '',
    },
    /the disk is full \(ENOSPC\) at \/var\/tmp\/zxs-stage-0a1b2c: the upload needs 10 bytes, the free space there is unknown; nothing was changed/,
  ],
  [
    'another write error names the file and the reason',
    { needed: 10, stdout: `WRITE-FAILED ${DIR}/f0 900000 base64: write error: Input/output error\n`, stderr: '' },
    /^upload failed: could not write \/var\/tmp\/zxs-stage-0a1b2c\/f0: base64: write error: Input\/output error; nothing was changed on the server/,
  ],
  [
    'no WRITE-FAILED line: the last line of what the server said',
    { needed: 10, stdout: '', stderr: 'sh: 1: flock: not found\n' },
    /^upload failed: sh: 1: flock: not found; nothing was changed on the server/,
  ],
]

for (const [name, input, expected] of CASES) {
  test(name, () => {
    assert.match(uploadFailure(DIR, input.needed, input.stdout, input.stderr, 1), expected)
  })
}

test.run()
