// `{ from_env: VAR }` references, resolved on the control machine for the programs a run covers, before rendering:
// the renderer only ever sees text. 'require' (sync, deploy): an unset variable stops the run before any connection.
// 'allow-unknown' (status, --dry-run): the value is rendered as "unknown (VAR unset)" and listed, and comparisons
// leave it out (sameIgnoringUnknown), so not knowing a value is never reported as drift.
import { InputError } from './errors.ts'
import { joinPath } from './inventory/validate.ts'
import { fullName } from './layout.ts'
import { environmentPairs, parseUnknownValue, rewriteEnvironment, type UnknownReason, unknownValue } from './redact.ts'
import type { EnvValue, Inventory, Problem, Program, Server, Site } from './types.ts'
import { checkEnvValue, describeEnvReference } from './values.ts'

export type ResolveMode = 'require' | 'allow-unknown'

/** A referenced variable this run could not read (allow-unknown mode only). */
export interface UnknownEnvValue {
  /** Where the reference is in the inventory: `sites[0].supervisors[1].environment.STRIPE_SECRET`. */
  field: string
  /** The program's full name, `<domain>-<program>`. */
  program: string
  key: string
  variable: string
  reason: UnknownReason
}

export interface ResolvedSites {
  /** Copies of the sites given, every environment value plain text. */
  sites: Site[]
  unknown: UnknownEnvValue[]
}

export interface ResolveOptions {
  mode: ResolveMode
}

/**
 * Resolves the references of `sites` (only those: a run of site A never needs B's variables) from `env`. Throws one
 * InputError listing every unset variable (require mode) and every resolved value the rulebook refuses, each value
 * shown only as its fingerprint. `inventory` gives the field paths.
 */
export function resolveEnvironmentRefs(
  inventory: Pick<Inventory, 'sites'>,
  sites: Site[],
  env: NodeJS.ProcessEnv,
  options: ResolveOptions,
): ResolvedSites {
  const problems: Problem[] = []
  const unknown: UnknownEnvValue[] = []
  const resolved = sites.map(
    (site): Site => ({
      ...site,
      supervisors: site.supervisors.map((program) => {
        const result = resolveProgramEnvironment(program, env, {
          ...options,
          field: programField(inventory, site, program),
          program: fullName(site.domain, program.program),
        })
        problems.push(...result.problems)
        unknown.push(...result.unknown)
        return result.program
      }),
    }),
  )
  if (problems.length)
    throw new InputError(
      problems,
      'Cannot read the environment values the inventory refers to (nothing was sent to any server):',
    )
  return { sites: resolved, unknown }
}

/** resolveEnvironmentRefs for a sync scope: the sites of all its servers, each resolved once. */
export function resolveScopeEnvironment(
  inventory: Pick<Inventory, 'sites'>,
  scope: { servers: Server[]; sitesOn: (server: Server) => Site[] },
  env: NodeJS.ProcessEnv,
  options: ResolveOptions,
): { sitesOn: (server: Server) => Site[]; unknown: UnknownEnvValue[] } {
  const inScope = [
    ...new Map(scope.servers.flatMap((server) => scope.sitesOn(server)).map((site) => [site.domain, site])).values(),
  ]
  const { sites, unknown } = resolveEnvironmentRefs(inventory, inScope, env, options)
  const byDomain = new Map(sites.map((site) => [site.domain, site]))
  return { sitesOn: (server) => scope.sitesOn(server).map((site) => byDomain.get(site.domain) ?? site), unknown }
}

/** One program's references; `field` is where its environment sits (for messages), `program` its full name. */
export function resolveProgramEnvironment(
  program: Program,
  env: NodeJS.ProcessEnv,
  options: ResolveOptions & { field: string; program: string },
): { program: Program; unknown: UnknownEnvValue[]; problems: Problem[] } {
  const problems: Problem[] = []
  const unknown: UnknownEnvValue[] = []
  const environment: Record<string, EnvValue> = {}
  const resolvedFromEnv = [...(program.resolvedFromEnv ?? [])]
  for (const [key, value] of Object.entries(program.environment)) {
    const field = joinPath(joinPath(options.field, 'environment'), key)
    if (typeof value === 'string') {
      environment[key] = value
      continue
    }
    resolvedFromEnv.push(key)
    const variable = value.fromEnv
    const text = env[variable]
    // An empty value is refused like an unset one: a CI secret that does not exist expands to ''.
    if (text === undefined || text === '') {
      const reason: UnknownReason = text === undefined ? 'unset' : 'empty'
      if (options.mode === 'require') problems.push(unreadable(field, variable, reason, options.program))
      else unknown.push({ field, program: options.program, key, variable, reason })
      environment[key] = unknownValue(variable, reason)
      continue
    }
    const verdict = checkEnvValue(text, field)
    if (verdict.ok) environment[key] = verdict.value
    else
      problems.push({
        ...verdict.problem,
        hint: `${verdict.problem.hint ?? ''} (the value comes from $${variable})`.trim(),
      })
  }
  return {
    program: { ...program, environment, ...(resolvedFromEnv.length ? { resolvedFromEnv } : {}) },
    unknown,
    problems,
  }
}

/** `sites[0].supervisors[1].environment.STRIPE_SECRET (example.com-worker): unknown (STRIPE_SECRET unset)` */
export function describeUnknownValue(value: UnknownEnvValue): string {
  return `${value.field} (${value.program}): ${unknownValue(value.variable, value.reason)}`
}

/**
 * Whether a file on a server matches the rendered one, leaving out the environment values the run could not know
 * (rendered as "unknown (VAR unset)"): for status drift, and for any check that must not fail only for not knowing.
 */
export function sameIgnoringUnknown(live: string, rendered: string): boolean {
  const unknownKeys = new Set(
    environmentPairs(rendered)
      .filter(([, value]) => parseUnknownValue(value))
      .map(([key]) => key),
  )
  if (!unknownKeys.size) return live === rendered
  const mask = (text: string) =>
    rewriteEnvironment(text, (name, _value, written) => (unknownKeys.has(name) ? '?' : written))
  return mask(live) === mask(rendered)
}

function unreadable(field: string, variable: string, reason: UnknownReason, program: string): Problem {
  const state = reason === 'unset' ? 'is not set' : "is set but empty (an undefined CI secret expands to '')"
  return {
    field,
    value: describeEnvReference({ fromEnv: variable }),
    allowed: `a non-empty value in $${variable} of the environment the run starts in`,
    hint: `$${variable} ${state}; program ${program} needs it: export ${variable} before the run${reason === 'empty' ? ", or write '' as a literal value if empty is meant" : ''}`,
  }
}

// Paths name the program's place in the inventory file; a site or program not in it (a pipeline's own) by name.
function programField(inventory: Pick<Inventory, 'sites'>, site: Site, program: Program): string {
  const siteIndex = inventory.sites.findIndex((candidate) => candidate.domain === site.domain)
  const programIndex =
    inventory.sites[siteIndex]?.supervisors.findIndex((candidate) => candidate.program === program.program) ?? -1
  const sitePath = siteIndex >= 0 ? `sites[${siteIndex}]` : `sites[${site.domain}]`
  return `${sitePath}.supervisors[${programIndex >= 0 ? programIndex : program.program}]`
}
