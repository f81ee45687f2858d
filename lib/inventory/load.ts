// Reads an inventory file: YAML with comments kept (for writes), validated once, here at the boundary.
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { YAML } from 'zx'
import { InputError } from '../errors.ts'
import { projectDir } from '../project.ts'
import type { Inventory, Problem } from '../types.ts'
import { validateInventory } from './validate.ts'

// zx types its vendored `yaml` as `any`: these are the parts of yaml 2.8's AST this project relies on.
export type YamlRange = [number, number, number]
export interface YamlNode {
  range?: YamlRange | null
}
export interface YamlScalar extends YamlNode {
  value: unknown
}
export interface YamlPair {
  key: unknown
  value: unknown
}
export interface YamlMap extends YamlNode {
  items: YamlPair[]
  flow?: boolean
}
export interface YamlSeq extends YamlNode {
  items: unknown[]
  flow?: boolean
}
export interface YamlIssue {
  code: string
  message: string
  pos: [number, number]
}
export interface YamlDocument {
  contents: unknown
  errors: YamlIssue[]
  warnings: YamlIssue[]
  getIn(path: unknown[], keepScalar?: boolean): unknown
  toJS(options?: { maxAliasCount?: number }): unknown
}
interface LineCounter {
  linePos(offset: number): { line: number; col: number }
}

export const isYamlMap = (node: unknown): node is YamlMap => YAML.isMap(node)
export const isYamlSeq = (node: unknown): node is YamlSeq => YAML.isSeq(node)
export const isYamlScalar = (node: unknown): node is YamlScalar => YAML.isScalar(node)
export const isYamlAlias = (node: unknown): boolean => YAML.isAlias(node)

export interface ParsedInventory {
  inventory: Inventory
  document: YamlDocument
  warnings: string[]
}

export interface LoadedInventory extends ParsedInventory {
  path: string
  /** The exact bytes read, so a write can tell whether the file changed since. */
  text: string
}

export const EXAMPLE_INVENTORY = 'inventory/example.yml'
export const DEFAULT_INVENTORY = 'inventory/inventory.yml'
// Billion-laughs guard: far more aliases than any real inventory uses.
const MAX_ALIAS_COUNT = 1000
const SHAPE = 'a YAML map with `servers:` and `sites:` lists'

/**
 * The inventory a task reads: `--inventory`, else `ZXS_INVENTORY` (both relative to the working directory, as a user
 * types them), else inventory/inventory.yml of the team's project (see projectDir), wherever the task is run from.
 */
export function resolveInventoryPath(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): string {
  const chosen = flag || env.ZXS_INVENTORY?.trim()
  return chosen ? resolve(cwd, chosen) : resolve(projectDir(), DEFAULT_INVENTORY)
}

/** Parses and validates inventory text; throws InputError with every problem, located in the file. */
export function parseInventory(text: string, path: string): ParsedInventory {
  const lines: LineCounter = new YAML.LineCounter()
  // merge: teams share settings between entries with `<<: *defaults`.
  const document: YamlDocument = YAML.parseDocument(text, {
    lineCounter: lines,
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
  })
  if (document.errors.length > 0) {
    throw new InputError(
      document.errors.map((issue) => syntaxProblem(issue, text, path, lines)),
      `Inventory ${path} is not valid YAML:`,
    )
  }
  const contents = document.contents
  if (contents === null || contents === undefined || (isYamlScalar(contents) && contents.value === null)) {
    throw new InputError([
      {
        field: path,
        value: text.trim() === '' ? '' : '(comments only)',
        allowed: SHAPE,
        hint: `the file is empty; copy ${EXAMPLE_INVENTORY} to start`,
      },
    ])
  }
  if (!isYamlMap(contents)) {
    throw new InputError([{ field: path, value: document.toJS(), allowed: SHAPE, hint: `see ${EXAMPLE_INVENTORY}` }])
  }
  const raw = toPlainData(document, path)
  const validation = validateInventory(raw, path)
  const yamlWarnings = document.warnings.map((issue) => `${path}:${where(issue, lines)}: ${firstLine(issue.message)}`)
  if (validation.problems.length > 0) {
    const problems = validation.problems.map((problem) => locate(problem, document, lines, path))
    throw new InputError(
      problems,
      `Inventory ${path} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:`,
    )
  }
  return { inventory: validation.inventory, document, warnings: [...yamlWarnings, ...validation.warnings] }
}

/** Reads, parses and validates the inventory at `path` (default: `ZXS_INVENTORY`, else the project's inventory.yml). */
export async function loadInventory(
  path: string = resolveInventoryPath(undefined, process.env, process.cwd()),
): Promise<LoadedInventory> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw readProblem(error, path)
  }
  return { path, text, ...parseInventory(text, path) }
}

function readProblem(error: unknown, path: string): InputError {
  const code = (error as NodeJS.ErrnoException).code
  const hints: Record<string, string> = {
    ENOENT: `copy ${EXAMPLE_INVENTORY} to ${DEFAULT_INVENTORY}, or pass --inventory PATH / set ZXS_INVENTORY`,
    EACCES: 'the file is not readable by this user; check its permissions',
    EISDIR: 'the path is a directory; give the inventory file itself',
  }
  const allowed = code === 'ENOENT' ? 'an existing inventory file' : 'a readable inventory file'
  return new InputError(
    [{ field: '--inventory', value: path, allowed, hint: hints[code ?? ''] ?? String(error) }],
    code === 'ENOENT' ? `Inventory not found: ${path}` : `Cannot read inventory ${path}`,
  )
}

function toPlainData(document: YamlDocument, path: string): unknown {
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (error) {
    throw new InputError([
      {
        field: path,
        value: '(aliases)',
        allowed: `at most ${MAX_ALIAS_COUNT} alias expansions`,
        hint: error instanceof Error ? firstLine(error.message) : String(error),
      },
    ])
  }
}

const SYNTAX_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'remove or rename the repeated key: the second one would silently win elsewhere',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MULTIPLE_DOCS: 'keep one document per file (remove the extra ---)',
  BAD_INDENT: 'check the indentation of this line against the lines above it',
}

function syntaxProblem(issue: YamlIssue, text: string, path: string, lines: LineCounter): Problem {
  const { line } = lines.linePos(issue.pos[0])
  const source = text.split('\n')[line - 1]?.replace(/\r$/, '') ?? ''
  const message = firstLine(issue.message)
  return {
    field: `${path}:${where(issue, lines)}`,
    value: source.trim(),
    allowed: issue.code === 'DUPLICATE_KEY' ? 'each key once per map' : 'valid YAML',
    hint: SYNTAX_HINTS[issue.code] ? `${message}; ${SYNTAX_HINTS[issue.code]}` : message,
  }
}

function where(issue: YamlIssue, lines: LineCounter): string {
  const { line, col } = lines.linePos(issue.pos[0])
  return `${line}:${col}`
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '')
}

/** Adds "see inventory.yml:12" to a problem's hint, from the nearest node its field path reaches. */
function locate(problem: Problem, document: YamlDocument, lines: LineCounter, path: string): Problem {
  const segments = parseFieldPath(problem.field)
  for (let length = segments.length; length > 0; length--) {
    const node = document.getIn(segments.slice(0, length), true) as YamlNode | undefined
    const offset = node?.range?.[0]
    if (offset === undefined) continue
    const at = `see ${basename(path)}:${lines.linePos(offset).line}`
    return { ...problem, hint: problem.hint ? `${problem.hint} (${at})` : at }
  }
  return problem
}

/** `sites[0].supervisors[1].environment["A B"]` → ['sites', 0, 'supervisors', 1, 'environment', 'A B']. */
export function parseFieldPath(field: string): Array<string | number> {
  const segments: Array<string | number> = []
  const pattern = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/g
  for (const match of field.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(Number(match[1]))
    else if (match[2] !== undefined) segments.push(JSON.parse(match[2]) as string)
    else if (match[3] !== undefined) segments.push(match[3])
  }
  return segments
}
