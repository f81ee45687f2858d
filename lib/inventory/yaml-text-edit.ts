// Edits the inventory file as text: only the edited entry changes, every other byte (comments, order, unknown keys,
// list style) stays. Each edit is re-parsed and compared with the intended model; a layout these edits do not
// understand is refused with "edit it by hand", never guessed at.
import { isDeepStrictEqual } from 'node:util'
import { YAML } from 'zx'
import { InputError } from '../errors.ts'
import type { Inventory, Site } from '../types.ts'
import {
  isYamlAlias,
  isYamlMap,
  isYamlSeq,
  type LoadedInventory,
  parseInventory,
  type YamlMap,
  type YamlNode,
  type YamlPair,
  type YamlSeq,
} from './load.ts'

// zx declares YAML.stringify without its options argument; yaml 2.8 takes one.
const stringifyYaml = YAML.stringify as (value: unknown, options: Record<string, unknown>) => string

/**
 * Runs `edit` on the inventory's text and returns the new text, only if it parses to exactly `expected`.
 * Any surprise (a layout the edit does not understand, a result other than intended) is the edit-by-hand error
 * naming the site's `supervisors` list.
 */
export function editInventoryText(
  loaded: LoadedInventory,
  siteIndex: number,
  expected: Inventory,
  edit: (text: TextFile) => void,
): string {
  const text = new TextFile(loaded.text)
  try {
    edit(text)
  } catch (error) {
    if (error instanceof LayoutError) throw unsafeEdit(loaded, siteIndex)
    throw error
  }
  const newText = text.toString()
  if (!isDeepStrictEqual(parseInventory(newText, loaded.path).inventory, expected)) throw unsafeEdit(loaded, siteIndex)
  return newText
}

export function unsafeEdit(loaded: LoadedInventory, siteIndex: number): InputError {
  const site: Site | undefined = loaded.inventory.sites[siteIndex]
  return new InputError(
    [
      {
        field: `sites[${siteIndex}].supervisors`,
        value: site?.domain,
        allowed: 'a block-style site entry whose supervisors: list is its own (no alias or merge key)',
        hint: `this layout cannot be edited without touching other entries; edit ${loaded.path} by hand`,
      },
    ],
    `Cannot edit ${loaded.path} safely:`,
  )
}

/** Appends `value` to a non-empty block list, in the style of its first entry. */
export function appendToBlockList(text: TextFile, seq: YamlSeq, value: unknown): void {
  const spans = seq.items.map((item) => text.itemSpan(item))
  const first = spans[0]
  const last = spans[spans.length - 1]
  if (!first || !last) throw new LayoutError('the list is empty')
  const style = text.listStyle(first, seq.items[0])
  // Keep the blank line between entries if the list has one.
  const gap = spans.length > 1 && text.isBlank(last.dashLine - 1) ? text.eol : ''
  text.insertAfterLine(last.lastLine, gap + renderBlockItem(value, style, text.eol))
}

/** Replaces a top-level empty flow list (`sites: []`, as init and the sandbox write it) with a block list of `value`. */
export function fillEmptyTopLevelList(text: TextFile, seq: YamlSeq, value: unknown): void {
  if (!seq.flow || seq.items.length > 0) throw new LayoutError('not an empty flow list')
  const style: ListStyle = { dashCol: 2, keyCol: 4, step: 2, loneDash: false }
  let from = start(seq)
  while (text.source[from - 1] === ' ') from--
  text.replace(from, end(seq), `${text.eol}${renderBlockItem(value, style, text.eol).replace(/\r?\n$/, '')}`)
}

/**
 * Writes `key:` with a block list of `entries` into `owner` (itself an entry of a block list), in place of a
 * missing, empty, null or flow-style value.
 */
export function writeBlockList(
  text: TextFile,
  owner: YamlMap,
  pair: YamlPair | undefined,
  key: string,
  entries: unknown[],
): void {
  if (pair && isYamlAlias(pair.value)) throw new LayoutError('an alias is shared with other entries')
  const ownerSpan = text.itemSpan(owner)
  const ownerStyle = text.listStyle(ownerSpan, owner)
  const dashCol = ownerStyle.keyCol + ownerStyle.step
  const style: ListStyle = {
    dashCol,
    loneDash: ownerStyle.loneDash,
    step: ownerStyle.step,
    keyCol: ownerStyle.loneDash ? dashCol + ownerStyle.step : dashCol + 2,
  }
  const items = entries.map((entry) => renderBlockItem(entry, style, text.eol)).join('')
  if (!pair) {
    text.insertAfterLine(ownerSpan.lastLine, `${' '.repeat(ownerStyle.keyCol)}${key}:${text.eol}${items}`)
    return
  }
  const keyStart = start(pair.key)
  const valueEnd = isNode(pair.value) && pair.value.range ? Math.max(end(pair.value) - 1, start(pair.value)) : keyStart
  const lastLine = Math.max(text.lineAt(keyStart), text.lineAt(valueEnd))
  text.replace(keyStart, text.lineEnd(lastLine), `${key}:${text.eol}${items}`)
}

/**
 * Removes entry `index` of the list that is `pair`'s value, with the comment lines directly above it — except above
 * the first entry, where comments under the key usually describe the list and stay. `entries` is the list as plain
 * data, for rewriting a flow-style list. The last entry leaves `key: []`, as Symfony's dumper writes an empty list.
 */
export function removeListItem(text: TextFile, pair: YamlPair, index: number, entries: unknown[]): void {
  const seq = pair.value
  if (!isYamlSeq(seq)) throw new LayoutError('not a list')
  if (seq.flow) {
    text.replace(start(seq), end(seq), renderFlow(entries.filter((_, i) => i !== index)))
    return
  }
  const span = text.itemSpan(seq.items[index])
  if (index > 0 && index === seq.items.length - 1) {
    // The last entry takes the blank lines before it and leaves those that separate the list from what follows.
    const previous = text.itemSpan(seq.items[index - 1])
    text.replace(text.lineEnd(previous.lastLine), text.lineEnd(span.lastLine), '')
  } else if (index > 0) {
    text.replace(text.lineStart(span.leadLine), text.lineEnd(span.endLine), '')
  } else if (seq.items.length > 1) {
    text.replace(text.lineStart(span.dashLine), text.lineEnd(span.endLine), '')
  } else {
    text.replace(text.lineStart(span.dashLine), text.lineEnd(span.lastLine), '')
    const colon = text.source.indexOf(':', end(pair.key))
    text.replace(colon + 1, colon + 1, ' []')
  }
}

/** "This is not a layout the text edits understand": turned into the edit-by-hand error. */
class LayoutError extends Error {}

interface ListStyle {
  dashCol: number
  keyCol: number
  /** Symfony's dumper writes `-` alone on its line, the entry's keys below it. */
  loneDash: boolean
  step: number
}

function renderBlockItem(value: unknown, style: ListStyle, eol: string): string {
  const document = new YAML.Document(value) as { contents: unknown; toString(options: Record<string, unknown>): string }
  inlineNestedMaps(document.contents, 0)
  const body = document.toString({ indent: style.step, lineWidth: 0, singleQuote: true }).replace(/\n$/, '').split('\n')
  const indent = (line: string) => (line === '' ? line : ' '.repeat(style.keyCol) + line)
  const lines = style.loneDash
    ? [`${' '.repeat(style.dashCol)}-`, ...body.map(indent)]
    : [
        `${' '.repeat(style.dashCol)}-${' '.repeat(style.keyCol - style.dashCol - 1)}${body[0] ?? ''}`,
        ...body.slice(1).map(indent),
      ]
  return lines.map((line) => line + eol).join('')
}

// Maps two levels into an entry are environment references, written inline as people write them:
// `STRIPE_SECRET: { from_env: STRIPE_SECRET }`.
function inlineNestedMaps(node: unknown, depth: number): void {
  if (!isYamlMap(node)) return
  if (depth >= 2) node.flow = true
  for (const pair of node.items) inlineNestedMaps(pair.value, depth + 1)
}

function renderFlow(entries: unknown[]): string {
  return stringifyYaml(entries, { collectionStyle: 'flow', lineWidth: 0, singleQuote: true }).trim()
}

function isNode(value: unknown): value is YamlNode {
  return typeof value === 'object' && value !== null && 'range' in value
}

function start(node: unknown): number {
  return isNode(node) && node.range ? node.range[0] : 0
}

function end(node: unknown): number {
  return isNode(node) && node.range ? node.range[1] : 0
}

interface ItemSpan {
  /** The first of the comment lines directly above the `-` (at its indentation), else dashLine. */
  leadLine: number
  /** The line holding the entry's `-`. */
  dashLine: number
  dashCol: number
  /** The entry's last non-blank line. */
  lastLine: number
  /** lastLine plus the blank lines after it. */
  endLine: number
}

/** The file as lines, with the few edits a list entry add/remove needs; edits apply back to front. */
export class TextFile {
  readonly source: string
  readonly eol: string
  readonly starts: number[]
  private edits: Array<{ from: number; to: number; text: string }> = []

  constructor(source: string) {
    this.source = source
    this.eol = source.includes('\r\n') ? '\r\n' : '\n'
    this.starts = [0]
    for (let i = source.indexOf('\n'); i !== -1 && i + 1 < source.length; i = source.indexOf('\n', i + 1)) {
      this.starts.push(i + 1)
    }
  }

  get lineCount(): number {
    return this.starts.length
  }

  lineAt(offset: number): number {
    let line = 0
    while (line + 1 < this.starts.length && (this.starts[line + 1] ?? Infinity) <= offset) line++
    return line
  }

  lineStart(line: number): number {
    return this.starts[line] ?? this.source.length
  }

  lineEnd(line: number): number {
    return this.starts[line + 1] ?? this.source.length
  }

  content(line: number): string {
    return this.source.slice(this.lineStart(line), this.lineEnd(line)).replace(/\r?\n$/, '')
  }

  indent(line: number): number {
    return this.content(line).search(/\S|$/)
  }

  isBlank(line: number): boolean {
    return line >= 0 && line < this.lineCount && this.content(line).trim() === ''
  }

  column(offset: number): number {
    return offset - this.lineStart(this.lineAt(offset))
  }

  /** Finds the `-` that opens a block-list entry and the lines the entry covers. */
  itemSpan(item: unknown): ItemSpan {
    const contentStart = start(item)
    let dashLine = this.lineAt(contentStart)
    const before = this.content(dashLine).slice(0, this.column(contentStart)).trim()
    if (before !== '-') {
      if (before !== '') throw new LayoutError(`unexpected '${before}' before a list entry`)
      dashLine = this.dashLineAbove(dashLine)
    }
    const dashCol = this.indent(dashLine)
    let lastLine = dashLine
    let line = dashLine + 1
    for (; line < this.lineCount; line++) {
      if (this.isBlank(line)) continue
      if (this.indent(line) <= dashCol) break
      lastLine = line
    }
    let leadLine = dashLine
    while (
      leadLine > 0 &&
      this.indent(leadLine - 1) === dashCol &&
      this.content(leadLine - 1)
        .trim()
        .startsWith('#')
    )
      leadLine--
    return { leadLine, dashLine, dashCol, lastLine, endLine: line - 1 }
  }

  private dashLineAbove(line: number): number {
    for (let above = line - 1; above >= 0; above--) {
      const trimmed = this.content(above).trim()
      if (trimmed === '' || trimmed.startsWith('#')) continue
      if (/^-\s*(#.*)?$/.test(trimmed)) return above
      break
    }
    throw new LayoutError(`no list dash found above line ${line + 1}`)
  }

  /** The indentation an entry of this list uses, read from one of its entries. */
  listStyle(span: ItemSpan, item: unknown): ListStyle {
    const keyCol = this.column(start(item))
    const loneDash = /^-\s*(#.*)?$/.test(this.content(span.dashLine).trim())
    const step = loneDash && keyCol > span.dashCol ? keyCol - span.dashCol : 2
    return { dashCol: span.dashCol, keyCol: loneDash ? keyCol : Math.max(keyCol, span.dashCol + 2), loneDash, step }
  }

  insertAfterLine(line: number, text: string): void {
    const at = this.lineEnd(line)
    const needsEol = at === this.source.length && !this.source.endsWith('\n')
    this.replace(at, at, (needsEol ? this.eol : '') + text)
  }

  replace(from: number, to: number, text: string): void {
    this.edits.push({ from, to, text })
  }

  toString(): string {
    let result = this.source
    for (const edit of [...this.edits].sort((a, b) => b.from - a.from)) {
      result = result.slice(0, edit.from) + edit.text + result.slice(edit.to)
    }
    return result
  }
}
