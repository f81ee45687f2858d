import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { YAML } from 'zx'
import { parseFlags } from '../../lib/cli/flags.ts'
import { collectProgramEntry } from '../../lib/cli/program-answers.ts'
import { InputError } from '../../lib/errors.ts'
import { parseInventory } from '../../lib/inventory/load.ts'
import { renderProgramFiles, renderRunner } from '../../lib/render/program-files.ts'
import { DEFAULT_TEMPLATES_DIR } from '../../lib/render/templates.ts'
import type { Program, Server, Site } from '../../lib/types.ts'
import { supervisorCreate } from '../../tasks/supervisor-create.mjs'

// One rulebook (lib/values.ts), three doors: supervisor-create's flags, the inventory loader, and the renderer fed a
// Site/Program built by hand. Each rule's boundary values (just valid, just invalid) get the same verdict from every
// door that can carry them; a refusal names the field, and never shows an environment value.

type RawMap = Record<string, unknown>

interface Entry {
  server: Server
  site: Site
  program: Program
}

interface Door {
  /** Flags after the base create flags; absent when create has no flag for the value (site and server keys). */
  create?: string[]
  /** Scripts the app offers, besides the base ones. */
  scripts?: string[]
  inventory(raw: { server: RawMap; site: RawMap; program: RawMap }): void
  render(entry: Entry): void
}

interface Rule {
  name: string
  /** What every refusal's field must contain (`numprocs`, `--env`...). */
  field: RegExp
  door(value: unknown): Door
  valid: unknown[]
  invalid: unknown[]
  /** A refused value is a secret: it must never appear in any output. */
  secret?: boolean
}

const programKey =
  (key: keyof Program & string, flag = key): Rule['door'] =>
  (value) => ({
    create: [`--${flag}=${String(value)}`],
    inventory: ({ program }) => {
      program[key] = value
    },
    render: ({ program }) => {
      Object.assign(program, { [key]: value })
    },
  })

const RULES: Rule[] = [
  {
    name: 'program name',
    field: /program/,
    door: programKey('program'),
    valid: ['w'.repeat(64), 'Queue_2'],
    invalid: ['w'.repeat(65), 'all', '-w', 'queue.worker', 'my worker'],
  },
  {
    name: 'script',
    field: /script/,
    door: (value) => ({ ...programKey('script')(value), scripts: [String(value)] }),
    valid: ['x'.repeat(255), 'sub/dir/w.sh'],
    invalid: ['x'.repeat(256), 'my worker.sh', '../x.sh', '/bin/sh', 'a ;b.sh'],
  },
  { name: 'numprocs', field: /numprocs/, door: programKey('numprocs'), valid: [1], invalid: [0] },
  { name: 'stopwaitsecs', field: /stopwaitsecs/, door: programKey('stopwaitsecs'), valid: [1], invalid: [0] },
  { name: 'startsecs', field: /startsecs/, door: programKey('startsecs'), valid: [0], invalid: [-1] },
  { name: 'startretries', field: /startretries/, door: programKey('startretries'), valid: [0], invalid: [-1] },
  { name: 'priority', field: /priority/, door: programKey('priority'), valid: [0, 999], invalid: [-1] },
  {
    name: 'stopsignal',
    field: /stopsignal/,
    door: programKey('stopsignal'),
    valid: ['TERM', 'SIGUSR2', 'KILL'],
    invalid: ['STOP', 'SIGWINCH', '15', 'TERM\n[program:x]'],
  },
  {
    name: 'program user',
    field: /user/,
    door: programKey('user'),
    valid: ['x'.repeat(32), '_svc', 'www-data'],
    invalid: ['x'.repeat(33), 'Deployer', 'dep.loyer', '1user'],
  },
  {
    name: 'environment key',
    field: /env/,
    door: (key) => ({
      create: ['--env', `${String(key)}=v`],
      inventory: ({ program }) => {
        program.environment = { [String(key)]: 'v' }
      },
      render: ({ program }) => {
        program.environment = { [String(key)]: 'v' }
      },
    }),
    valid: ['HOMEPAGE', 'DEPLOYERX', 'APP_ENV'],
    invalid: ['HOME', 'USER', 'DEPLOYER_X', 'DEPLOYER_DOMAIN', '1A'],
  },
  {
    name: 'environment value',
    field: /env/,
    secret: true,
    door: (value) => ({
      create: ['--env', `SECRET=${String(value)}`],
      inventory: ({ program }) => {
        program.environment = { SECRET: value }
      },
      render: ({ program }) => {
        program.environment = { SECRET: String(value) }
      },
    }),
    valid: ['pw;rd', 'pw#rd', '%(ENV_X)s', "it's", 'say "hi" now', ' padded ', 'x'.repeat(8192)],
    invalid: ['pw\nrd', 'pw ;rd', 'pw #rd', 'pw%(here)s', '"pwrd', "pwrd'", `it's "pw"`, 'x'.repeat(8193)],
  },
  {
    name: 'domain',
    field: /domain/,
    door: (value) => ({
      inventory: ({ site }) => {
        site.domain = value
      },
      render: ({ site }) => {
        site.domain = String(value)
      },
    }),
    valid: [`${'a'.repeat(63)}.test`, 'a-b.test'],
    invalid: [`${'a'.repeat(64)}.test`, 'App.test', 'a_b.test', 'a:b', 'all'],
  },
  {
    name: 'php_version',
    field: /php_version/,
    door: (value) => ({
      inventory: ({ site }) => {
        site.php_version = value
      },
      render: ({ site }) => {
        site.phpVersion = String(value)
      },
    }),
    valid: ['8.3', '8.10'],
    invalid: ['8', '8.3.1', 'php8.3', '8.3; id'],
  },
  {
    name: 'site root',
    field: /root/,
    door: (value) => ({
      inventory: ({ site }) => {
        site.root = value
      },
      render: ({ site }) => {
        site.root = String(value)
      },
    }),
    valid: [`/${'x'.repeat(1023)}`, '/srv/app'],
    invalid: [`/${'x'.repeat(1024)}`, 'srv/app', '/srv/../etc', '/srv/a b', '/srv/'],
  },
  {
    name: 'sitesPath',
    field: /sitesPath/,
    door: (value) => ({
      inventory: ({ server }) => {
        server.sitesPath = value
      },
      render: ({ server }) => {
        server.sitesPath = String(value)
      },
    }),
    valid: [`/${'x'.repeat(1023)}`, '/srv'],
    invalid: [`/${'x'.repeat(1024)}`, 'sites', '/srv\n[program:x]'],
  },
]

interface Verdict {
  refused: boolean
  fields: string[]
  /** Everything a user could see: the message (stderr) and the problems as --json prints them. */
  output: string
}

function verdictOf(error: unknown): Verdict {
  if (!(error instanceof InputError)) throw error
  return {
    refused: true,
    fields: error.problems.map((p) => p.field),
    output: `${error.message}\n${JSON.stringify({ problems: error.problems })}`,
  }
}

const ACCEPTED: Verdict = { refused: false, fields: [], output: '' }

async function throughCreate(door: Door): Promise<Verdict> {
  const site: Site = { domain: 'app.test', servers: ['web-1'], supervisors: [baseProgram()] }
  const scripts = ['worker.sh', 'other.sh', ...(door.scripts ?? [])]
  const extra = door.create ?? []
  // A case's own --program or --script replaces the base one (each flag is given once).
  const base = [['--domain=app.test'], ['--program=w2'], ['--script=other.sh']]
    .filter(([flag]) => !extra.some((arg) => arg.startsWith(`${flag?.split('=')[0]}=`)))
    .flat()
  try {
    const { flags, given } = parseFlags(supervisorCreate.meta.flags, [...base, ...extra])
    await collectProgramEntry(site, scripts, flags, given, false)
    return ACCEPTED
  } catch (error) {
    return verdictOf(error)
  }
}

function throughLoader(door: Door): Verdict {
  const server: RawMap = { name: 'web-1', host: '127.0.0.1' }
  const program: RawMap = { program: 'worker', script: 'worker.sh' }
  const site: RawMap = { domain: 'app.test', server: 'web-1', supervisors: [program] }
  door.inventory({ server, site, program })
  try {
    parseInventory(YAML.stringify({ servers: [server], sites: [site] }), 'inventory.yml')
    return ACCEPTED
  } catch (error) {
    return verdictOf(error)
  }
}

function throughRenderer(door: Door): Verdict {
  const server: Server = {
    name: 'web-1',
    host: '127.0.0.1',
    port: 22,
    username: 'root',
    groups: [],
    siteUser: 'deployer',
    sitesPath: '/home/deployer/sites',
    local: false,
  }
  const program = baseProgram()
  const site: Site = {
    domain: 'app.test',
    servers: ['web-1'],
    branch: 'main',
    phpVersion: '8.3',
    supervisors: [program],
  }
  door.render({ server, site, program })
  try {
    renderProgramFiles({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site, program })
    renderRunner({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site })
    return ACCEPTED
  } catch (error) {
    return verdictOf(error)
  }
}

function baseProgram(): Program {
  return {
    program: 'worker',
    script: 'worker.sh',
    autostart: true,
    autorestart: true,
    stopwaitsecs: 3600,
    numprocs: 1,
    environment: {},
  }
}

const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 30 ? `${text.slice(0, 20)}… (${String(value).length} chars)` : text
}

for (const rule of RULES) {
  for (const [value, valid] of [
    ...rule.valid.map((v) => [v, true] as const),
    ...rule.invalid.map((v) => [v, false] as const),
  ]) {
    test(`${rule.name} ${show(value)}: ${valid ? 'accepted' : 'refused'} by every door`, async () => {
      const door = rule.door(value)
      const verdicts: Array<[string, Verdict]> = [
        ['loader', throughLoader(door)],
        ['renderer', throughRenderer(door)],
      ]
      if (door.create) verdicts.unshift(['supervisor-create', await throughCreate(door)])
      for (const [name, verdict] of verdicts) {
        assert.is(
          verdict.refused,
          !valid,
          `${name} ${verdict.refused ? 'refused' : 'accepted'} ${show(value)}: ${verdict.output}`,
        )
        if (valid) continue
        assert.ok(
          verdict.fields.some((field) => rule.field.test(field)),
          `${name} names the field (${rule.field}): ${verdict.fields.join(', ')}`,
        )
        if (!rule.secret) continue
        const secret = String(value).replace(/^\W+/, '').slice(0, 6)
        assert.not.ok(verdict.output.includes(secret), `${name} shows the environment value: ${verdict.output}`)
        assert.match(verdict.output, /\[REDACTED [0-9a-f]{8}\]/, `${name} shows the fingerprint instead`)
        assert.match(
          verdict.output,
          /8192 characters at most/,
          `${name} says what is allowed, the length limit included`,
        )
      }
    })
  }
}

test.run()
