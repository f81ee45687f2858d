import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import * as assert from 'uvu/assert'
import { PROJECT } from './run-task.ts'

// A team's fork of the project, made in a test: the code and templates copied (node_modules linked), then edited the
// way the README tells a team to (one schema entry, one contract entry, one template line), and its tasks run.

/**
 * Copies lib/, tasks/, templates/, the package files and the build into DIR/project; returns that path. After its
 * edits, buildCopy() rebuilds what they touched.
 */
export async function copyProject(dir: string): Promise<string> {
  const copy = path.join(dir, 'project')
  const configs = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.tasks.json']
  for (const entry of ['lib', 'tasks', 'templates', 'dist', 'package.json', ...configs]) {
    await fs.cp(path.join(PROJECT, entry), path.join(copy, entry), { recursive: true })
  }
  await fs.symlink(path.join(PROJECT, 'node_modules'), path.join(copy, 'node_modules'))
  return copy
}

/** Replaces ANCHOR in FILE with REPLACEMENT; fails the test when the anchor is gone (the fork's recipe went stale). */
export async function patchFile(file: string, anchor: string, replacement: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8')
  assert.ok(text.includes(anchor), `${file} has ${JSON.stringify(anchor)}`)
  await fs.writeFile(file, text.replace(anchor, replacement))
}

/**
 * The README's recipe for a new supervisor option, applied to a copy: one `stopasgroup` entry in the program schema
 * plus its line in the conf template.
 */
export async function addStopAsGroupOption(copy: string): Promise<void> {
  const schemaEnd = '\n} as const satisfies ProgramSchema'
  const entry = `
  stopasgroup: {
    check: checkBoolean,
    flag: { type: 'boolean', negatable: true, description: 'send the stop signal to the whole process group' },
    iniKey: 'stopasgroup',
  },`
  await patchFile(path.join(copy, 'lib/program-schema.ts'), schemaEnd, entry + schemaEnd)
  const confAnchor = 'redirect_stderr=true\n'
  const confLine = '{{#if (isSet stopasgroup)}}\nstopasgroup={{ini stopasgroup}}\n{{/if}}\n'
  await patchFile(path.join(copy, 'templates/supervisor/program.conf.hbs'), confAnchor, confLine + confAnchor)
}

/** Where a new per-program file goes in a fork: one more entry in lib/layout.ts's PROGRAM_FILES. */
export const PROGRAM_FILES_ANCHOR = 'export const PROGRAM_FILES: ManagedFileSpec[] = ['

/**
 * The README's example of a per-program file in a directory of its own: a JSON health file (a format without
 * comments, so its marker is a key) under /opt/zx-supervisor/healthchecks/, which sync creates and removes.
 */
export const HEALTH_FILE_ENTRY = `
  {
    kind: 'health',
    scope: 'program',
    template: 'supervisor/health',
    path: (c) => \`/opt/zx-supervisor/healthchecks/\${c.fullName}.json\`,
    discover: () => '/opt/zx-supervisor/healthchecks/*.json',
    marker: 'json',
    owner: 'root',
    mode: '0644',
    updatesGroup: false,
    parents: { top: () => '/opt/zx-supervisor' },
  },`

/** Adds contract ENTRIES (the text of ManagedFileSpec objects) to the copy's PROGRAM_FILES. */
export async function addProgramFiles(copy: string, entries: string): Promise<void> {
  await patchFile(path.join(copy, 'lib/layout.ts'), PROGRAM_FILES_ANCHOR, PROGRAM_FILES_ANCHOR + entries)
}

/** `npm run build` in the copy, after its edits: its tasks run its own dist/ (the compiled lib and its bundle). */
export async function buildCopy(copy: string): Promise<void> {
  const build = await execa('npm', ['run', '--silent', 'build'], { cwd: copy, reject: false, all: true })
  assert.is(build.exitCode, 0, `build of the copy:\n${build.all}`)
}

/** Runs `npx zx tasks/<task>.mjs ARGS` of the copy, without a terminal. */
export async function runCopy(copy: string, task: string, args: string[]) {
  const result = await execa(
    process.execPath,
    [path.join(copy, 'node_modules/zx/build/cli.js'), path.join(copy, 'tasks', `${task}.mjs`), ...args],
    {
      cwd: copy,
      reject: false,
      stdin: 'ignore',
      all: true,
      timeout: 120_000,
      env: { NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  )
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), all: String(result.all) }
}
