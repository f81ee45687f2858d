import fs from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  DEBIAN_LAYOUT,
  MANAGED_FILES,
  type ManagedFileSpec,
  parentDirectories,
  SERVER_FILES,
} from '../../lib/layout.ts'

// The README's table of the files sync writes, made from the server contract (lib/layout.ts), so the README never
// lists them by hand. test/unit/readme-contract.test.ts fails when it is out of date; this file, run, rewrites it:
//   node --import tsx test/helpers/contract-table.ts

export const README = fileURLToPath(new URL('../../README.md', import.meta.url))
export const BEGIN = '<!-- contract-files: made from lib/layout.ts by test/helpers/contract-table.ts -->'
export const END = '<!-- /contract-files -->'

const MARKERS: Record<ManagedFileSpec['marker'], string> = { ';': '`;` line', '#': '`#` line', json: 'first JSON key' }

export function contractTable(files: ManagedFileSpec[] = [...MANAGED_FILES, ...SERVER_FILES]): string {
  const context = {
    domain: 'D',
    siteRoot: '<root>',
    sitesPath: '<sitesPath>',
    layout: DEBIAN_LAYOUT,
    program: 'P',
    fullName: 'D-P',
  }
  const rows = files.map((spec) => {
    const path = spec.path(context)
    const dirs =
      parentDirectories(spec, path, context)
        .map((d) => `\`${d.path}\``)
        .join(', ') || '—'
    const owner = spec.owner === 'root' ? 'root' : 'site user'
    return `| ${spec.kind} | \`${path}\` | ${spec.scope} | ${owner} ${spec.mode} | ${MARKERS[spec.marker]} | ${spec.updatesGroup ? 'yes' : 'no'} | ${dirs} |`
  })
  return [
    BEGIN,
    '| kind | path (Debian layout) | one per | owner, mode | marker | `update` | directories it may create |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    END,
  ].join('\n')
}

/** The README with its contract table replaced by the current one. */
export function withContractTable(readme: string): string {
  const start = readme.indexOf(BEGIN)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} block`)
  return `${readme.slice(0, start)}${contractTable()}${readme.slice(end + END.length)}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await fs.writeFile(README, withContractTable(await fs.readFile(README, 'utf8')))
}
