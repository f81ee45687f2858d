import { EXIT } from '../errors.ts'
import type { ServerOutcome } from '../fleet.ts'
import type { ImportedProgram, ServerImport } from '../import/map.ts'
import { fullName } from '../layout.ts'
import { shellQuote } from '../remote/quote.ts'
import type { Output, RecapRow } from './output.ts'

// How an import is shown: each imported program with the server file it came from, what is listed and why, the
// variables to set, and the exact next command with what it will do (every imported group restarts once).

export interface ImportSummary {
  merged: ServerImport
  outcomes: ServerOutcome<ServerImport>[]
  inventoryPath: string
  dryRun: boolean
  /** Wrapper scripts written (or, in a dry run, that would be). */
  scripts: string[]
  /** --write-scripts APP_DIR: the app the wrappers were written into, which the next deploy ships. */
  appDir?: string
}

export function reportImport(output: Output, summary: ImportSummary): void {
  const { merged, dryRun } = summary
  const verb = dryRun ? 'would import' : 'imported'
  for (const program of merged.programs)
    for (const source of program.sources)
      output.server(
        source.server,
        `${verb} ${program.domain}/${program.entry.program} from ${source.file} [program:${source.group}]`,
      )
  for (const skipped of merged.skipped)
    output.server(
      skipped.server,
      `already in the inventory: ${skipped.domain}/${skipped.program} (${skipped.file}); skipped`,
    )
  for (const item of merged.listed)
    output.server(
      item.server,
      `not imported (${item.kind}): ${item.file}${item.section ? ` [${item.section}]` : ''}: ${item.reason}`,
    )
  for (const script of summary.scripts) output.info(`${dryRun ? 'would write' : 'wrote'} script ${script}`)
  const variables = fromEnvNames(merged.programs)
  if (variables.length)
    output.info(
      `Set these variables where syncs run (the values are in the original confs on the server, kept by sync --adopt; they were not printed): ${variables.join(', ')}`,
    )
  for (const line of nextSteps(summary)) output.info(line)
}

/** The commands that take the imported programs over, and what they will do to the running processes. */
export function nextSteps(summary: Pick<ImportSummary, 'merged' | 'inventoryPath' | 'scripts' | 'appDir'>): string[] {
  const domains = [...new Set(summary.merged.programs.map((p) => p.domain))]
  if (!domains.length) return []
  const inventory = shellQuote(summary.inventoryPath)
  // The adopting sync starts our programs from the release `current` points to: new wrappers must ship in a release
  // first, so a deploy --adopt does both in one step (upload, switch, then the sync that replaces the originals).
  const lines: string[] = []
  if (summary.scripts.length && summary.appDir) {
    lines.push(
      `Next, deploy ${shellQuote(summary.appDir)} with the ${summary.scripts.length} new script(s) (commit them, so every later deploy ships them) and take the programs over in the same step: its sync stops the originals and starts ours from the new release, and a failed gate rolls both back:`,
    )
    for (const domain of domains)
      lines.push(
        `  npx zx tasks/deploy.mjs --inventory ${inventory} --domain ${shellQuote(domain)} --app-dir ${shellQuote(summary.appDir)} --adopt`,
      )
  } else {
    lines.push('Next, take them over (try --dry-run first):')
    for (const domain of domains)
      lines.push(`  npx zx tasks/supervisor-sync.mjs --inventory ${inventory} --domain ${shellQuote(domain)} --adopt`)
  }
  lines.push('It will restart every imported group once (our conf adds process_name and environment), so schedule it:')
  for (const program of summary.merged.programs) {
    const ours = fullName(program.domain, program.entry.program)
    for (const source of program.sources)
      lines.push(
        source.group === ours
          ? `  ${source.server}: ${ours} restarts once (its conf is adopted in place${source.file.endsWith(`/${ours}.conf`) ? '' : `; ${source.file} is removed, a copy kept`})`
          : `  ${source.server}: ${source.group} stops and ${ours} starts (${source.file} is removed, a copy kept)`,
      )
  }
  return lines
}

export function fromEnvNames(programs: ImportedProgram[]): string[] {
  return [...new Set(programs.flatMap((p) => p.fromEnv))].sort()
}

export function importRecap(summary: ImportSummary): RecapRow[] {
  return summary.outcomes.map((o) => {
    if (!o.ok) return { server: o.server.name, ok: 0, changed: 0, failed: 1 }
    const name = o.server.name
    const imported = summary.merged.programs.filter((p) => p.servers.includes(name)).length
    const listed = summary.merged.listed.filter((l) => l.server === name).length
    return {
      server: name,
      ok: imported + summary.merged.skipped.filter((s) => s.server === name).length,
      changed: summary.dryRun ? 0 : imported,
      failed: 0,
      note: `${listed} not imported${summary.dryRun ? ' (dry run: nothing was changed)' : ''}`,
    }
  })
}

export function importJson(summary: ImportSummary, exitCode: number) {
  return {
    ok: exitCode === EXIT.ok,
    dryRun: summary.dryRun,
    inventory: summary.inventoryPath,
    programs: summary.merged.programs.map((p) => ({
      domain: p.domain,
      program: p.entry.program,
      servers: p.servers,
      sources: p.sources,
      fromEnv: p.fromEnv,
      ...(p.script ? { script: p.script.name } : {}),
    })),
    skipped: summary.merged.skipped,
    listed: summary.merged.listed,
    fromEnv: fromEnvNames(summary.merged.programs),
    scripts: summary.scripts,
    failed: summary.outcomes.flatMap((o) =>
      o.ok ? [] : [{ server: o.server.name, error: o.error instanceof Error ? o.error.message : String(o.error) }],
    ),
    next: nextSteps(summary),
  }
}

/** 1 when a server could not be read (1 beats 3), 3 when something was listed and not written, else 0. */
export function importExitCode(summary: Pick<ImportSummary, 'merged' | 'outcomes'>): number {
  if (summary.outcomes.some((o) => !o.ok)) return EXIT.failed
  return summary.merged.listed.length ? EXIT.notRunning : EXIT.ok
}
