import fs from 'node:fs/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { README, withContractTable } from '../helpers/contract-table.ts'

test('the README lists the files of the server contract as lib/layout.ts declares them', async () => {
  const readme = await fs.readFile(README, 'utf8')
  assert.ok(
    readme === withContractTable(readme),
    'README.md is out of date with lib/layout.ts: run node --import tsx test/helpers/contract-table.ts',
  )
})

test.run()
