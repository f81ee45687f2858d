// Edits the inventory file as text: only the edited entry changes, every other byte (comments, order,
// unknown keys, list style) stays. Each edit is re-parsed and compared with the intended model.
import { randomBytes } from 'node:crypto'
import { open, readFile, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { YAML } from 'zx'
import { InputError } from '../errors.ts'
import type { Inventory, Program, Site } from '../types.ts'
import {
  isYamlAlias, isYamlMap, isYamlScalar, isYamlSeq, parseInventory,
  type LoadedInventory, type YamlMap, type YamlNode, type YamlPair, type YamlSeq,
} from './load.ts'
import { findProgram, findSite } from './resolve.ts'
import { DEFAULTS, findProgramConflicts, validateProgram } from './validate.ts'

/** What `supervisor-create` adds: program and script, the rest defaults as in DeployerPHP. */
export type ProgramEntry = Pick<Program, 'program' | 'script'> & Partial<Omit<Program, 'program' | 'script'>>

/** The file was edited by someone else between read and write: writing now would lose their change. */
export class InventoryChangedError extends InputError {
  constructor(path: string) {
    super([{
      field: path, value: '(changed on disk)', allowed: 'the file as it was when this run read it',
      hint: 're-run the command to work on the current file',
    }], `inventory changed on disk since it was read; re-run: ${path}`)
    this.name = 'InventoryChangedError'
  }
}

export class InventoryWriteError extends InputError {
  constructor(path: string, reason: string) {
    super([{
      field: path, value: reason, allowed: 'a writable inventory file in a writable directory',
      hint: `a temp file is written in ${dirname(path)} and renamed over the inventory; check both permissions`,
    }], `Cannot write inventory ${path}: ${reason}`)
    this.name = 'InventoryWriteError'
  }
}

// zx declares YAML.stringify without its options argument; yaml 2.8 takes one.
const stringifyYaml = YAML.stringify as (value: unknown, options: Record<string, unknown>) => string

// DeployerPHP's key order (dehydrateSupervisorDTO), then this project's optional keys.
const ENTRY_ORDER = [
  'program', 'script', 'autostart', 'autorestart', 'stopwaitsecs', 'numprocs',
  'startsecs', 'startretries', 'stopsignal', 'priority', 'user', 'template', 'environment',
] as const

/** Returns the inventory text with `entry` appended to the site's `supervisors:` list. */
export function addProgram(loaded: LoadedInventory, domain: string, entry: ProgramEntry): string {
  const site = findSite(loaded.inventory, domain)
  const raw = entryData(entry)
  const { program, problems } = validateProgram(raw)
  if (!program || problems.length > 0) throw new InputError(problems, `Invalid supervisor program for ${domain}:`)
  const conflicts = findProgramConflicts(site, program)
  if (conflicts.length > 0) throw new InputError(conflicts)
  const text = new TextFile(loaded.text)
  const siteIndex = loaded.inventory.sites.indexOf(site)
  const pair = supervisorsPair(siteNode(loaded, siteIndex))
  const seq = pair?.value
  withinLayout(loaded, siteIndex, () => {
    if (isYamlSeq(seq) && !seq.flow && seq.items.length > 0) appendToBlockList(text, seq, raw)
    else writeSupervisorsKey(text, loaded, siteIndex, pair, [...existingEntries(loaded, siteIndex, seq), raw])
  })
  const expected = structuredClone(loaded.inventory)
  expected.sites[siteIndex]?.supervisors.push(program)
  return verifyEdit(loaded, text.toString(), expected, siteIndex)
}

/** Returns the inventory text without the site's program `name`. */
export function removeProgram(loaded: LoadedInventory, domain: string, name: string): string {
  const site = findSite(loaded.inventory, domain)
  const index = site.supervisors.indexOf(findProgram(site, name))
  const siteIndex = loaded.inventory.sites.indexOf(site)
  const pair = supervisorsPair(siteNode(loaded, siteIndex))
  const seq = pair?.value
  const text = new TextFile(loaded.text)
  if (!pair || !isYamlSeq(seq)) throw unsafeEdit(loaded, siteIndex)
  withinLayout(loaded, siteIndex, () => {
    if (seq.flow) {
      const rest = existingEntries(loaded, siteIndex, seq).filter((_, i) => i !== index)
      text.replace(start(seq), end(seq), renderFlow(rest))
    } else if (index === seq.items.length - 1 && index > 0) {
      // The last entry takes the blank lines before it and leaves those that separate the list from what follows.
      const previous = text.itemSpan(seq.items[index - 1])
      const span = text.itemSpan(seq.items[index])
      text.replace(text.lineEnd(previous.lastLine), text.lineEnd(span.lastLine), '')
    } else if (seq.items.length > 1) {
      const span = text.itemSpan(seq.items[index])
      text.replace(text.lineStart(span.leadLine), text.lineEnd(span.endLine), '')
    } else {
      // The last entry goes: leave an explicit empty list, as Symfony's dumper writes one.
      const span = text.itemSpan(seq.items[index])
      text.replace(text.lineStart(span.leadLine), text.lineEnd(span.lastLine), '')
      const colon = loaded.text.indexOf(':', end(pair.key))
      text.replace(colon + 1, colon + 1, ' []')
    }
  })
  const expected = structuredClone(loaded.inventory)
  expected.sites[siteIndex]?.supervisors.splice(index, 1)
  return verifyEdit(loaded, text.toString(), expected, siteIndex)
}

/**
 * Replaces the inventory file with `newText`: only if it validates and the file still holds what was read;
 * via a temp file in the same directory (same mode, 0600 for a new file), fsync, then rename.
 */
export async function saveInventory(loaded: LoadedInventory, newText: string): Promise<void> {
  parseInventory(newText, loaded.path)
  const target = await resolveTarget(loaded.path)
  await assertUnchanged(target, loaded)
  const mode = await fileMode(target)
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  let handle: FileHandle | undefined
  try {
    handle = await open(temp, 'wx', mode.mode)
    await handle.writeFile(newText, 'utf8')
    await handle.chmod(mode.mode)
    if (mode.owner && process.getuid?.() === 0) await handle.chown(mode.owner.uid, mode.owner.gid)
    await handle.sync()
    await handle.close()
    handle = undefined
    await assertUnchanged(target, loaded)
    await rename(temp, target)
    await syncDirectory(dirname(target))
  } catch (error) {
    await handle?.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    if (error instanceof InputError) throw error
    throw new InventoryWriteError(loaded.path, errorReason(error))
  }
}

/** The program as YAML data, keys in DeployerPHP's order, its defaults written out as DeployerPHP does. */
function entryData(entry: ProgramEntry): Record<string, unknown> {
  const full: Record<string, unknown> = {
    autostart: DEFAULTS.autostart, autorestart: DEFAULTS.autorestart,
    stopwaitsecs: DEFAULTS.stopwaitsecs, numprocs: DEFAULTS.numprocs, ...entry,
  }
  const data: Record<string, unknown> = {}
  for (const key of ENTRY_ORDER) {
    const value = full[key]
    if (value === undefined) continue
    if (key === 'environment' && Object.keys(value as object).length === 0) continue
    data[key] = value
  }
  return data
}

function siteNode(loaded: LoadedInventory, siteIndex: number): YamlMap {
  const node = loaded.document.getIn(['sites', siteIndex], true)
  if (!isYamlMap(node) || node.flow) throw unsafeEdit(loaded, siteIndex)
  return node
}

function supervisorsPair(siteMap: YamlMap): YamlPair | undefined {
  return siteMap.items.find((pair) => isYamlScalar(pair.key) && pair.key.value === 'supervisors')
}

/** The site's current entries as plain data, for rewriting a flow-style or empty list as a block. */
function existingEntries(loaded: LoadedInventory, siteIndex: number, seq: unknown): unknown[] {
  if (!isYamlSeq(seq) || seq.items.length === 0) return []
  const data = loaded.document.toJS() as { sites: Array<{ supervisors: unknown[] }> }
  return data.sites[siteIndex]?.supervisors ?? []
}

function appendToBlockList(text: TextFile, seq: YamlSeq, raw: Record<string, unknown>): void {
  const spans = seq.items.map((item) => text.itemSpan(item))
  const first = spans[0]
  const last = spans[spans.length - 1]
  if (!first || !last) return
  const style = text.listStyle(first, seq.items[0])
  // Keep the blank line between entries if the list has one.
  const gap = spans.length > 1 && text.isBlank(last.dashLine - 1) ? text.eol : ''
  text.insertAfterLine(last.lastLine, gap + renderBlockItem(raw, style, text.eol))
}

/** Writes `supervisors:` with a block list, in place of a missing, empty or flow-style value. */
function writeSupervisorsKey(
  text: TextFile, loaded: LoadedInventory, siteIndex: number, pair: YamlPair | undefined, entries: unknown[],
): void {
  const sites = loaded.document.getIn(['sites'], true)
  const siteMap = siteNode(loaded, siteIndex)
  if (!isYamlSeq(sites) || sites.flow || (pair && isYamlAlias(pair.value))) throw unsafeEdit(loaded, siteIndex)
  const siteSpan = text.itemSpan(siteMap)
  const siteStyle = text.listStyle(siteSpan, siteMap)
  const dashCol = siteStyle.keyCol + siteStyle.step
  const style: ListStyle = {
    dashCol, loneDash: siteStyle.loneDash, step: siteStyle.step,
    keyCol: siteStyle.loneDash ? dashCol + siteStyle.step : dashCol + 2,
  }
  const items = entries.map((entry) => renderBlockItem(entry, style, text.eol)).join('')
  if (!pair) {
    text.insertAfterLine(siteSpan.lastLine, `${' '.repeat(siteStyle.keyCol)}supervisors:${text.eol}${items}`)
    return
  }
  const keyStart = start(pair.key)
  const valueEnd = isNode(pair.value) && pair.value.range ? Math.max(end(pair.value) - 1, start(pair.value)) : keyStart
  const lastLine = Math.max(text.lineAt(keyStart), text.lineAt(valueEnd))
  text.replace(keyStart, text.lineEnd(lastLine), `supervisors:${text.eol}${items}`)
}

interface ListStyle {
  dashCol: number
  keyCol: number
  /** Symfony's dumper writes `-` alone on its line, the entry's keys below it. */
  loneDash: boolean
  step: number
}

function renderBlockItem(value: unknown, style: ListStyle, eol: string): string {
  const body = stringifyYaml(value, { indent: style.step, lineWidth: 0, singleQuote: true }).replace(/\n$/, '').split('\n')
  const indent = (line: string) => (line === '' ? line : ' '.repeat(style.keyCol) + line)
  const lines = style.loneDash
    ? [`${' '.repeat(style.dashCol)}-`, ...body.map(indent)]
    : [`${' '.repeat(style.dashCol)}-${' '.repeat(style.keyCol - style.dashCol - 1)}${body[0] ?? ''}`, ...body.slice(1).map(indent)]
  return lines.map((line) => line + eol).join('')
}

function renderFlow(entries: unknown[]): string {
  return stringifyYaml(entries, { collectionStyle: 'flow', lineWidth: 0, singleQuote: true }).trim()
}

/** Re-reads the edited text and insists that exactly the intended change happened, nothing else. */
function verifyEdit(loaded: LoadedInventory, newText: string, expected: Inventory, siteIndex: number): string {
  const { inventory } = parseInventory(newText, loaded.path)
  if (!isDeepStrictEqual(inventory, expected)) throw unsafeEdit(loaded, siteIndex)
  return newText
}

/** Runs text edits, turning "this is not a layout I understand" into the edit-by-hand error. */
function withinLayout(loaded: LoadedInventory, siteIndex: number, edit: () => void): void {
  try {
    edit()
  } catch (error) {
    if (error instanceof LayoutError) throw unsafeEdit(loaded, siteIndex)
    throw error
  }
}

class LayoutError extends Error {}

function unsafeEdit(loaded: LoadedInventory, siteIndex: number): InputError {
  const site: Site | undefined = loaded.inventory.sites[siteIndex]
  return new InputError([{
    field: `sites[${siteIndex}].supervisors`, value: site?.domain,
    allowed: 'a block-style site entry whose supervisors: list is its own (no alias or merge key)',
    hint: `this layout cannot be edited without touching other entries; edit ${loaded.path} by hand`,
  }], `Cannot edit ${loaded.path} safely:`)
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

/** The file as lines, with the few edits a program add/remove needs; edits apply back to front. */
class TextFile {
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
    while (leadLine > 0 && this.indent(leadLine - 1) === dashCol && this.content(leadLine - 1).trim().startsWith('#')) leadLine--
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

async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch {
    return path
  }
}

async function readCurrent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InventoryWriteError(path, errorReason(error))
  }
}

// A file that does not exist yet counts as unchanged only if the run started from an empty text.
async function assertUnchanged(path: string, loaded: LoadedInventory): Promise<void> {
  const current = await readCurrent(path)
  if (current === undefined ? loaded.text !== '' : current !== loaded.text) throw new InventoryChangedError(loaded.path)
}

async function fileMode(path: string): Promise<{ mode: number; owner?: { uid: number; gid: number } }> {
  try {
    const info = await stat(path)
    return { mode: info.mode & 0o777, owner: { uid: info.uid, gid: info.gid } }
  } catch {
    return { mode: 0o600 }
  }
}

// Makes the rename itself durable; some filesystems refuse to open a directory, which is fine.
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r').catch(() => undefined)
  await handle?.sync().catch(() => undefined)
  await handle?.close()
}

function errorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  const reasons: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system',
    ENOENT: 'the directory does not exist', ENOSPC: 'no space left on device', ENOTDIR: 'a parent path is not a directory',
  }
  return (code && reasons[code]) || (error instanceof Error ? error.message : String(error))
}
