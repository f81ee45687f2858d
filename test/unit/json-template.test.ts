import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { renderTemplate } from '../../lib/render/templates.ts'

// {{json value}}: how a JSON file of the contract writes a value, so quotes, backslashes and newlines stay data.

const values: Array<[string, unknown, string]> = [
  ['a plain string', 'c.test-worker', '"c.test-worker"'],
  ['quotes and a backslash', 'say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'],
  ['a newline', 'a\nb', '"a\\nb"'],
  ['a number', 3600, '3600'],
  ['a boolean', true, 'true'],
  ['an unset optional key', null, 'null'],
]

for (const [name, value, expected] of values) {
  test(`json helper: ${name}`, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-json-'))
    try {
      await fs.writeFile(path.join(dir, 'health.hbs'), '{"value": {{json value}} }')
      const { content } = renderTemplate({ templatesDir: dir, name: 'health', domain: 'a.test', data: { value } })
      assert.is(content, `{"value": ${expected} }`)
      assert.equal(JSON.parse(content), { value })
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
}

test('json helper: a misspelt value is a template error naming the file', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxs-json-'))
  try {
    await fs.writeFile(path.join(dir, 'health.hbs'), '{"value": {{json valeu}} }')
    assert.throws(
      () => renderTemplate({ templatesDir: dir, name: 'health', domain: 'a.test', data: { value: 1 } }),
      /health\.hbs/,
    )
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})

test.run()
