import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEBIAN_LAYOUT, PROGRAM_FILES, parseMarker, fullName as programFullName } from '../../lib/layout.ts'
import { singleQuote } from '../../lib/remote/quote.ts'
import { programTemplateName, renderProgramFiles, renderRunner } from '../../lib/render/program-files.ts'
import {
  createRenderer,
  DEFAULT_TEMPLATES_DIR,
  renderTemplate,
  TemplateError,
  templateCandidates,
} from '../../lib/render/templates.ts'
import type { Program, Server, Site } from '../../lib/types.ts'
import { inputError, thrown } from '../helpers/input-error.ts'

const FIXTURES = fileURLToPath(new URL('../fixtures/render/', import.meta.url))
// UPDATE_GOLDEN=1 rewrites the expected files; review the diff before keeping it.
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1'

interface Case {
  server: Server
  site: Site
  program: Program
}

function loadCase(name: string): Case {
  return JSON.parse(readFileSync(join(FIXTURES, 'inputs', `${name}.json`), 'utf8')) as Case
}

/** The shipped templates plus the fixture's site overrides, in a temp dir that is removed after the test. */
function templatesWithOverrides(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'zxs-templates-'))
  cpSync(DEFAULT_TEMPLATES_DIR, dir, { recursive: true })
  cpSync(join(FIXTURES, 'templates', 'sites'), join(dir, 'sites'), { recursive: true })
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

function assertGolden(caseName: string, file: { path: string; content: string }): void {
  const expectedPath = join(FIXTURES, 'expected', caseName, basename(file.path))
  if (UPDATE_GOLDEN) {
    mkdirSync(dirname(expectedPath), { recursive: true })
    writeFileSync(expectedPath, file.content)
  }
  assert.fixture(file.content, readFileSync(expectedPath, 'utf8'))
}

function expectTemplateError(fn: () => unknown, pattern: RegExp): void {
  const error = thrown(fn, TemplateError)
  assert.match(error.message, pattern)
  assert.is(error.exitCode, 2)
}

// --- golden files -----------------------------------------------------------------------------------------------

const goldenCases: Array<{ name: string; overrides: boolean; templates: [string, string] }> = [
  {
    name: 'plain',
    overrides: false,
    templates: ['templates/supervisor/program.conf.hbs', 'templates/supervisor/logrotate.hbs'],
  },
  {
    name: 'full',
    overrides: false,
    templates: ['templates/supervisor/program.conf.hbs', 'templates/supervisor/logrotate.hbs'],
  },
  {
    name: 'override',
    overrides: true,
    templates: ['sites/override.example/supervisor/program.conf.hbs', 'templates/supervisor/logrotate.hbs'],
  },
  {
    name: 'override-template',
    overrides: true,
    templates: ['sites/override.example/supervisor/horizon.hbs', 'templates/supervisor/logrotate.hbs'],
  },
]

for (const { name, overrides, templates } of goldenCases) {
  test(`program files match the golden files: ${name}`, () => {
    const { server, site, program } = loadCase(name)
    const dirs = overrides ? templatesWithOverrides() : { dir: DEFAULT_TEMPLATES_DIR, cleanup: () => {} }
    try {
      const files = renderProgramFiles({ templatesDir: dirs.dir, server, site, program })
      const fullName = programFullName(site.domain, program.program)
      assert.equal(
        files.map(({ path, owner, group, mode }) => ({ path, owner, group, mode })),
        [
          { path: `/etc/supervisor/conf.d/${fullName}.conf`, owner: 'root', group: 'root', mode: '0600' },
          { path: `/etc/logrotate.d/supervisor-${fullName}.conf`, owner: 'root', group: 'root', mode: '0644' },
        ],
      )
      files.forEach((file, i) => {
        const suffix = templates[i]?.replace(/^templates\//, '') ?? ''
        assert.ok(file.template.endsWith(suffix), `${file.template} should end with ${suffix}`)
        assertGolden(name, file)
      })
    } finally {
      dirs.cleanup()
    }
  })
}

test('runner.sh matches the golden file and belongs to the site user', () => {
  const { server, site } = loadCase('plain')
  const runner = renderRunner({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site })
  assert.equal(
    { path: runner.path, owner: runner.owner, group: runner.group, mode: runner.mode },
    { path: '/home/deployer/sites/example.com/runner.sh', owner: 'deployer', group: 'deployer', mode: '0755' },
  )
  assertGolden('plain', runner)
})

test('runner.sh uses the site root and user overrides', () => {
  const { server, site } = loadCase('full')
  const runner = renderRunner({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site })
  assert.equal([runner.path, runner.owner, runner.group], ['/srv/shop/runner.sh', 'shop', 'shop'])
  assert.ok(runner.content.includes("DEPLOYER_BRANCH='release/2.x'"))
  assert.ok(runner.content.includes("DEPLOYER_PHP_VERSION=''"))
})

// --- names, paths, markers --------------------------------------------------------------------------------------

test('paths follow DeployerPHP naming', () => {
  const fullName = programFullName('example.com', 'queue-worker')
  assert.is(fullName, 'example.com-queue-worker')
  const context = {
    domain: 'example.com',
    siteRoot: '/s',
    sitesPath: '/',
    program: 'queue-worker',
    fullName,
    layout: DEBIAN_LAYOUT,
  }
  assert.equal(
    PROGRAM_FILES.map((spec) => spec.path(context)),
    [
      '/etc/supervisor/conf.d/example.com-queue-worker.conf',
      '/etc/logrotate.d/supervisor-example.com-queue-worker.conf',
    ],
  )
})

const templateNames: Array<[string | undefined, string]> = [
  [undefined, 'supervisor/program.conf'],
  ['', 'supervisor/program.conf'],
  ['horizon', 'supervisor/horizon'],
  ['horizon.hbs', 'supervisor/horizon'],
  ['custom/worker.conf', 'custom/worker.conf'],
]

for (const [template, expected] of templateNames) {
  test(`program template name for ${String(template)}`, () => {
    assert.is(programTemplateName(template === undefined ? {} : { template }), expected)
  })
}

test('markers of sites sharing a prefix stay apart (a.com vs a.com-b), and name the inventory', () => {
  const { server } = loadCase('plain')
  const program: Program = {
    program: 'x',
    script: 'x.sh',
    autostart: true,
    autorestart: true,
    stopwaitsecs: 1,
    numprocs: 1,
    environment: {},
  }
  const site = (domain: string): Site => ({ domain, servers: ['production'], supervisors: [] })
  const [aConf] = renderProgramFiles({
    templatesDir: DEFAULT_TEMPLATES_DIR,
    server,
    site: site('a.com'),
    program: { ...program, program: 'b-x' },
    inventoryId: 'shop',
  })
  const bFiles = renderProgramFiles({
    templatesDir: DEFAULT_TEMPLATES_DIR,
    server,
    site: site('a.com-b'),
    program,
    inventoryId: 'shop',
  })
  assert.equal(parseMarker(aConf?.content ?? ''), { inventory: 'shop', site: 'a.com', program: 'b-x', file: null })
  // Every per-program file of the contract carries the marker, whichever way its format holds it.
  assert.equal(
    bFiles.map((f) => f.kind),
    PROGRAM_FILES.map((spec) => spec.kind),
  )
  for (const file of bFiles)
    assert.equal(parseMarker(file.content), { inventory: 'shop', site: 'a.com-b', program: 'x', file: null }, file.kind)
})

test('runner.sh carries its marker on line 2, after the shebang', () => {
  const { server, site } = loadCase('plain')
  const runner = renderRunner({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site, inventoryId: 'shop' })
  assert.ok(
    runner.content.startsWith('#!/bin/sh\n# zx-supervisor inventory=shop site=example.com file=runner\n'),
    runner.content.slice(0, 120),
  )
  assert.equal(parseMarker(runner.content), { inventory: 'shop', site: 'example.com', program: null, file: 'runner' })
})

// --- hostile inventory values -----------------------------------------------------------------------------------

// Render asks the same rulebook as the loader (lib/values.ts): the pattern matches the problem's allowed + hint.
const hostilePrograms: Array<[string, (c: Case) => void, string, RegExp]> = [
  [
    'env newline injection',
    (c) => (c.program.environment = { A: 'x\n[program:evil]\ncommand=/bin/touch /tmp/pwned' }),
    'sites[example.com].supervisors[queue-worker].environment.A',
    /one line per option/,
  ],
  [
    'env inline comment',
    (c) => (c.program.environment = { A: 'a ;b' }),
    'sites[example.com].supervisors[queue-worker].environment.A',
    /follows whitespace/,
  ],
  [
    'env %(here)s',
    (c) => (c.program.environment = { A: 'x%(here)s' }),
    'sites[example.com].supervisors[queue-worker].environment.A',
    /%\(here\)s/,
  ],
  [
    'env value over the length limit',
    (c) => (c.program.environment = { A: 'x'.repeat(8193) }),
    'sites[example.com].supervisors[queue-worker].environment.A',
    /8192 characters at most/,
  ],
  [
    'env reserved key',
    (c) => (c.program.environment = { DEPLOYER_DOMAIN: 'x' }),
    'sites[example.com].supervisors[queue-worker].environment.DEPLOYER_DOMAIN',
    /a name other than/,
  ],
  [
    'env key HOME',
    (c) => (c.program.environment = { HOME: '/srv' }),
    'sites[example.com].supervisors[queue-worker].environment.HOME',
    /a name other than HOME, USER/,
  ],
  [
    'env key USER',
    (c) => (c.program.environment = { USER: 'x' }),
    'sites[example.com].supervisors[queue-worker].environment.USER',
    /a name other than HOME, USER/,
  ],
  [
    'script with ..',
    (c) => (c.program.script = '../../etc/passwd'),
    'sites[example.com].supervisors[queue-worker].script',
    /'\.\.' segments are refused/,
  ],
  [
    'absolute script',
    (c) => (c.program.script = '/bin/sh'),
    'sites[example.com].supervisors[queue-worker].script',
    /relative/,
  ],
  [
    'script with inline comment',
    (c) => (c.program.script = 'a ;b.sh'),
    'sites[example.com].supervisors[queue-worker].script',
    /the space at position 2/,
  ],
  [
    'script with a space',
    (c) => (c.program.script = 'my worker.sh'),
    'sites[example.com].supervisors[queue-worker].script',
    /the space at position 3/,
  ],
  [
    'program name with space',
    (c) => (c.program.program = 'my prog'),
    'sites[example.com].supervisors[my prog].program',
    /the space/,
  ],
  [
    'program name with a dot',
    (c) => (c.program.program = 'queue.worker'),
    'sites[example.com].supervisors[queue.worker].program',
    /'\.' at position 6/,
  ],
  ['domain with colon', (c) => (c.site.domain = 'a:b'), 'sites[a:b].domain', /':' at position 2/],
  ['domain in mixed case', (c) => (c.site.domain = 'Example.com'), 'sites[Example.com].domain', /use lowercase/],
  ['relative site root', (c) => (c.site.root = 'srv/app'), 'sites[example.com].root', /absolute path/],
  ['site root with ..', (c) => (c.site.root = '/srv/../etc'), 'sites[example.com].root', /absolute path/],
  [
    'sites path with newline',
    (c) => (c.server.sitesPath = '/srv\n[program:evil]'),
    'servers[production].sitesPath',
    /the newline/,
  ],
  [
    'user with slash',
    (c) => (c.program.user = '../root'),
    'sites[example.com].supervisors[queue-worker].user',
    /Linux user name/,
  ],
  [
    'user in mixed case',
    (c) => (c.program.user = 'Deployer'),
    'sites[example.com].supervisors[queue-worker].user',
    /use lowercase: 'deployer'/,
  ],
  [
    'stopsignal injection',
    (c) => (c.program.stopsignal = 'TERM\n[program:evil]'),
    'sites[example.com].supervisors[queue-worker].stopsignal',
    /one of TERM, HUP/,
  ],
  [
    'stopsignal outside the list',
    (c) => (c.program.stopsignal = 'STOP'),
    'sites[example.com].supervisors[queue-worker].stopsignal',
    /one of TERM, HUP/,
  ],
  [
    'stopsignal as a number',
    (c) => (c.program.stopsignal = '15'),
    'sites[example.com].supervisors[queue-worker].stopsignal',
    /one of TERM, HUP/,
  ],
  [
    'numprocs zero',
    (c) => (c.program.numprocs = 0),
    'sites[example.com].supervisors[queue-worker].numprocs',
    /positive integer/,
  ],
  [
    'negative priority',
    (c) => (c.program.priority = -1),
    'sites[example.com].supervisors[queue-worker].priority',
    /0 or more/,
  ],
  ['branch with both quotes', (c) => (c.site.branch = `it's"x`), 'sites[example.com].branch', /both quote kinds/],
  ['php_version without minor', (c) => (c.site.phpVersion = '8'), 'sites[example.com].php_version', /major\.minor/],
]

for (const [name, mutate, field, allowed] of hostilePrograms) {
  test(`renderProgramFiles rejects ${name}`, () => {
    const input = loadCase('plain')
    mutate(input)
    const error = inputError(() => renderProgramFiles({ templatesDir: DEFAULT_TEMPLATES_DIR, ...input }))
    const problem = error.problems.find((p) => p.field === field)
    assert.ok(problem, `a problem for ${field} in: ${error.message}`)
    assert.match(`${problem?.allowed} ${problem?.hint}`, allowed)
  })
}

test('renderProgramFiles reports every problem at once, with the caller’s field paths', () => {
  const input = loadCase('plain')
  input.program.environment = { A: 'x\ny', B: '"q' }
  input.program.script = '../x'
  const error = inputError(() =>
    renderProgramFiles({
      templatesDir: DEFAULT_TEMPLATES_DIR,
      ...input,
      paths: { site: 'sites[0]', program: 'sites[0].supervisors[2]' },
    }),
  )
  assert.equal(
    error.problems.map((p) => p.field),
    [
      'sites[0].supervisors[2].script',
      'sites[0].supervisors[2].environment.A',
      'sites[0].supervisors[2].environment.B',
    ],
  )
})

test('renderRunner rejects a bad php version', () => {
  const input = loadCase('plain')
  input.site.phpVersion = '8.3; rm -rf /'
  const error = inputError(() => renderRunner({ templatesDir: DEFAULT_TEMPLATES_DIR, ...input }))
  assert.equal(
    error.problems.map((p) => p.field),
    ['sites[example.com].php_version'],
  )
})

// --- template lookup and helpers --------------------------------------------------------------------------------

function scratchTemplates(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'zxs-tpl-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

test('lookup: the site override wins, other sites get the shared template', () => {
  const { dir, cleanup } = scratchTemplates({ 'x.hbs': 'shared {{v}}', 'sites/a.com/x.hbs': 'a.com {{v}}' })
  try {
    const renderer = createRenderer({ templatesDir: dir })
    assert.equal(renderer.render({ name: 'x', domain: 'a.com', data: { v: 1 } }), {
      content: 'a.com 1',
      templatePath: join(dir, 'sites/a.com/x.hbs'),
    })
    assert.equal(renderer.render({ name: 'x', domain: 'a.com-b', data: { v: 2 } }), {
      content: 'shared 2',
      templatePath: join(dir, 'x.hbs'),
    })
    assert.equal(templateCandidates(dir, 'supervisor/program.conf', 'a.com'), [
      join(dir, 'sites/a.com/supervisor/program.conf.hbs'),
      join(dir, 'supervisor/program.conf.hbs'),
      join(DEFAULT_TEMPLATES_DIR, 'supervisor/program.conf.hbs'),
    ])
    assert.equal(templateCandidates(DEFAULT_TEMPLATES_DIR, 'runner.sh', 'a.com'), [
      join(DEFAULT_TEMPLATES_DIR, 'sites/a.com/runner.sh.hbs'),
      join(DEFAULT_TEMPLATES_DIR, 'runner.sh.hbs'),
    ])
  } finally {
    cleanup()
  }
})

test("lookup: a team's templates/ overrides the package's file by file; what it lacks comes from the package", () => {
  const { dir, cleanup } = scratchTemplates({ 'runner.sh.hbs': 'team runner {{v}}' })
  try {
    const renderer = createRenderer({ templatesDir: dir })
    assert.is(renderer.resolve('runner.sh', 'a.com'), join(dir, 'runner.sh.hbs'))
    assert.is(
      renderer.resolve('supervisor/logrotate', 'a.com'),
      join(DEFAULT_TEMPLATES_DIR, 'supervisor/logrotate.hbs'),
    )
    assert.is(
      createRenderer({ templatesDir: join(dir, 'missing') }).resolve('runner.sh', 'a.com'),
      join(DEFAULT_TEMPLATES_DIR, 'runner.sh.hbs'),
    )
  } finally {
    cleanup()
  }
})

test('lookup: a missing template names every path tried', () => {
  const { dir, cleanup } = scratchTemplates({})
  try {
    const tried = templateCandidates(dir, 'supervisor/nope', 'a.com')
    expectTemplateError(
      () => renderTemplate({ templatesDir: dir, name: 'supervisor/nope', domain: 'a.com', data: {} }),
      new RegExp(`${tried[0]}.*${tried[1]}.*${tried[2]}`),
    )
  } finally {
    cleanup()
  }
})

for (const name of ['../secret', '/etc/passwd', 'a/../../b', 'a//b', '.hidden', 'sp ace']) {
  test(`lookup: template name ${JSON.stringify(name)} is refused`, () => {
    inputError(() => templateCandidates('/t', name, 'a.com'))
  })
}

for (const domain of ['..', 'a/b', '']) {
  test(`lookup: domain ${JSON.stringify(domain)} is refused`, () => {
    inputError(() => templateCandidates('/t', 'x', domain))
  })
}

test('templates are compiled once per renderer', () => {
  const { dir, cleanup } = scratchTemplates({ 'x.hbs': 'first' })
  try {
    const renderer = createRenderer({ templatesDir: dir })
    assert.is(renderer.render({ name: 'x', domain: 'a.com', data: {} }).content, 'first')
    writeFileSync(join(dir, 'x.hbs'), 'second')
    assert.is(renderer.render({ name: 'x', domain: 'a.com', data: {} }).content, 'first')
    assert.is(createRenderer({ templatesDir: dir }).render({ name: 'x', domain: 'a.com', data: {} }).content, 'second')
  } finally {
    cleanup()
  }
})

const templateFaults: Array<[string, string, object, RegExp]> = [
  ['strict: a missing variable', 'a\n{{nope}}', {}, /x\.hbs: "nope" not defined/],
  ['ini of a misspelt name', 'a\nuser={{ini usr}}', { user: 'u' }, /x\.hbs:2: \{\{ini\}\} got undefined/],
  ['ini of null', 'user={{ini user}}', { user: null }, /\{\{ini\}\} got null/],
  ['ini of an object', 'user={{ini user}}', { user: { a: 1 } }, /\{\{ini\}\} got object/],
  ['env of a misspelt name', 'environment={{env environ}}', { environment: [] }, /\{\{env\}\} got undefined/],
  ['env of a map', 'environment={{env environment}}', { environment: { A: 'b' } }, /\{\{env\}\} takes a list/],
  ['sh of a misspelt name', 'X={{sh domian}}', { domain: 'a' }, /\{\{sh\}\} got undefined/],
  ['sh with NUL', 'X={{sh v}}', { v: 'a\0b' }, /a NUL byte cannot be passed to a shell/],
  [
    'cmd of a misspelt name',
    'command={{cmd runner scirpt}}',
    { runner: '/r', script: 's' },
    /\{\{cmd\}\} got undefined/,
  ],
  ['isSet of a misspelt name', '{{#if (isSet startsec)}}x{{/if}}', { startsecs: null }, /\{\{isSet\}\} got undefined/],
  ['a helper without argument', 'x={{ini}}', {}, /\{\{ini\}\} takes 1 argument/],
  ['a parse error', '{{#if x}}', { x: 1 }, /x\.hbs: Parse error/],
]

for (const [name, source, data, pattern] of templateFaults) {
  test(`template fault: ${name}`, () => {
    const { dir, cleanup } = scratchTemplates({ 'x.hbs': source })
    try {
      expectTemplateError(() => renderTemplate({ templatesDir: dir, name: 'x', domain: 'a.com', data }), pattern)
    } finally {
      cleanup()
    }
  })
}

test('helpers encode; HTML is never escaped', () => {
  const source =
    'a={{ini a}}\nn={{iniName n}}\nc={{cmd "/r" s}}\ne={{env e}}\ns={{sh s}}\nh={{h}}\n{{#if (isSet z)}}z{{/if}}{{#if (isSet o)}}o={{ini o}}{{/if}}'
  const { dir, cleanup } = scratchTemplates({ 'x.hbs': source })
  try {
    const data = { a: '100%', n: 'a.com-b', s: "it's a b", e: [['Q', 'x,y']], h: '<&"\'>', z: null, o: 0 }
    const { content } = renderTemplate({ templatesDir: dir, name: 'x', domain: 'a.com', data })
    assert.fixture(content, `a=100%%\nn=a.com-b\nc=/r 'it'"'"'s a b'\ne=Q="x,y"\ns='it'"'"'s a b'\nh=<&"'>\no=0`)
  } finally {
    cleanup()
  }
})

test('encoding problems from a template value name the template line', () => {
  const { dir, cleanup } = scratchTemplates({ 'x.hbs': '\nx={{ini v}}' })
  try {
    const error = inputError(() =>
      renderTemplate({ templatesDir: dir, name: 'x', domain: 'a.com', data: { v: 'a\nb' } }),
    )
    assert.equal(error.problems[0]?.field, `${join(dir, 'x.hbs')}:2`)
  } finally {
    cleanup()
  }
})

const quoted: Array<[string, string]> = [
  ['plain', "'plain'"],
  ['', "''"],
  ["it's", `'it'"'"'s'`],
  ['$(id) `id` "x" \\n ; & |', '\'$(id) `id` "x" \\n ; & |\''],
]

for (const [value, expected] of quoted) {
  test(`singleQuote ${JSON.stringify(value)}`, () => {
    assert.is(singleQuote(value), expected)
    const echoed = spawnSync('/bin/sh', ['-c', `printf %s ${singleQuote(value)}`], { encoding: 'utf8' })
    assert.is(echoed.stdout, value)
  })
}

// --- runner.sh, run for real under /bin/sh ----------------------------------------------------------------------

interface SiteLayout {
  base: string
  siteRoot: string
  release: string
  runner: string
  bin: string
  cleanup: () => void
}

const ENV_SCRIPT = `#!/bin/sh
echo "pid=$$"
echo "pwd=$(pwd -P)"
for v in DEPLOYER_RELEASE_PATH DEPLOYER_SHARED_PATH DEPLOYER_CURRENT_PATH DEPLOYER_SITE_ROOT DEPLOYER_DOMAIN DEPLOYER_BRANCH DEPLOYER_PHP DEPLOYER_PHP_VERSION; do
  eval "echo \\"$v=\\\${$v}\\""
done
for a in "$@"; do echo "arg=$a"; done
`

/** A site laid out like a deployed one: releases/r1 with scripts, current -> releases/r1, shared/, runner.sh. */
function siteLayout(): SiteLayout {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'zxs-site-')))
  const server: Server = {
    name: 's',
    host: 'local',
    port: 22,
    username: 'root',
    groups: [],
    siteUser: userInfo().username,
    sitesPath: join(base, 'sites'),
    local: true,
  }
  const site: Site = { domain: 'example.com', servers: ['s'], branch: "it's-main", phpVersion: '8.3', supervisors: [] }
  const siteRoot = join(base, 'sites', 'example.com')
  const release = join(siteRoot, 'releases', 'r1')
  const scripts = join(release, '.deployer', 'supervisors')
  mkdirSync(scripts, { recursive: true })
  mkdirSync(join(siteRoot, 'shared'), { recursive: true })
  symlinkSync('releases/r1', join(siteRoot, 'current'))
  const writeScript = (path: string, content: string, mode = 0o755) => {
    writeFileSync(path, content)
    chmodSync(path, mode)
  }
  writeScript(join(scripts, 'env.sh'), ENV_SCRIPT)
  writeScript(join(scripts, 'plain.sh'), '#!/bin/sh\necho not executable\n', 0o644)
  writeScript(join(siteRoot, 'shared', 'outside.sh'), '#!/bin/sh\necho outside\n')
  symlinkSync('../../../../shared/outside.sh', join(scripts, 'escape.sh'))
  symlinkSync('env.sh', join(scripts, 'inside-link.sh'))
  const bin = join(base, 'bin')
  mkdirSync(bin)
  writeScript(join(bin, 'php8.3'), '#!/bin/sh\n')
  const runner = renderRunner({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site })
  writeScript(runner.path, runner.content)
  return {
    base,
    siteRoot,
    release,
    runner: runner.path,
    bin,
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  }
}

function runRunner(layout: SiteLayout, args: string[], cwd = '/') {
  // A bare environment: whatever DEPLOYER_* the script sees comes from runner.sh.
  return spawnSync('/bin/sh', [layout.runner, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: `${layout.bin}:/usr/bin:/bin` },
  })
}

function outputVars(stdout: string): Map<string, string[]> {
  const vars = new Map<string, string[]>()
  for (const line of stdout.split('\n').filter(Boolean)) {
    const at = line.indexOf('=')
    const key = line.slice(0, at)
    vars.set(key, [...(vars.get(key) ?? []), line.slice(at + 1)])
  }
  return vars
}

test('runner.sh runs the script from the current release with DEPLOYER_* and its arguments (exec)', () => {
  const layout = siteLayout()
  try {
    const result = runRunner(layout, ['.deployer/supervisors/env.sh', 'a', 'b c', ''])
    assert.is(result.stderr, '')
    assert.is(result.status, 0)
    const vars = outputVars(result.stdout)
    assert.equal(vars.get('pid'), [String(result.pid)], 'exec: the script is the runner process')
    assert.equal(vars.get('pwd'), [layout.release])
    assert.equal(vars.get('DEPLOYER_RELEASE_PATH'), [layout.release])
    assert.equal(vars.get('DEPLOYER_CURRENT_PATH'), [join(layout.siteRoot, 'current')])
    assert.equal(vars.get('DEPLOYER_SHARED_PATH'), [join(layout.siteRoot, 'shared')])
    assert.equal(vars.get('DEPLOYER_SITE_ROOT'), [layout.siteRoot])
    assert.equal(vars.get('DEPLOYER_DOMAIN'), ['example.com'])
    assert.equal(vars.get('DEPLOYER_BRANCH'), ["it's-main"])
    assert.equal(vars.get('DEPLOYER_PHP'), [join(layout.bin, 'php8.3')])
    assert.equal(vars.get('DEPLOYER_PHP_VERSION'), ['8.3'])
    assert.equal(vars.get('arg'), ['a', 'b c', ''])
  } finally {
    layout.cleanup()
  }
})

test('runner.sh follows a symlink that stays inside the release', () => {
  const layout = siteLayout()
  try {
    const result = runRunner(layout, ['.deployer/supervisors/inside-link.sh'])
    assert.is(result.status, 0, result.stderr)
    assert.equal(outputVars(result.stdout).get('DEPLOYER_DOMAIN'), ['example.com'])
  } finally {
    layout.cleanup()
  }
})

const refusals: Array<[string, string[], number, RegExp]> = [
  ['no argument', [], 64, /usage: runner\.sh/],
  ['an empty path', [''], 64, /empty script path/],
  ['a .. path', ['../x'], 64, /'\.\.' segment refused: \.\.\/x/],
  ['a .. segment inside', ['.deployer/../../../etc/passwd'], 64, /'\.\.' segment refused/],
  ['an absolute path', ['/bin/true'], 64, /absolute script path refused: \/bin\/true/],
  [
    'a symlink escaping the release',
    ['.deployer/supervisors/escape.sh'],
    64,
    /resolves outside the current release.*shared\/outside\.sh/,
  ],
  ['a missing script', ['.deployer/supervisors/missing.sh'], 66, /script not found in the current release/],
  ['a directory', ['.deployer/supervisors'], 66, /script not found/],
  ['a script without the executable bit', ['.deployer/supervisors/plain.sh'], 126, /not executable/],
]

for (const [name, args, status, message] of refusals) {
  test(`runner.sh refuses ${name}`, () => {
    const layout = siteLayout()
    try {
      const result = runRunner(layout, args)
      assert.is(result.status, status, result.stderr)
      assert.is(result.stdout, '')
      assert.match(result.stderr, message)
      assert.match(result.stderr, /^runner\.sh \(example\.com\): /)
    } finally {
      layout.cleanup()
    }
  })
}

test('runner.sh refuses to run when current is missing', () => {
  const layout = siteLayout()
  try {
    rmSync(join(layout.siteRoot, 'current'))
    const result = runRunner(layout, ['.deployer/supervisors/env.sh'])
    assert.is(result.status, 66)
    assert.match(result.stderr, /current release not found/)
  } finally {
    layout.cleanup()
  }
})

test('runner.sh parses under dash (sh -n)', () => {
  const layout = siteLayout()
  try {
    const dash = existsSync('/bin/dash') ? '/bin/dash' : '/bin/sh'
    const result = spawnSync(dash, ['-n', layout.runner], { encoding: 'utf8' })
    assert.is(result.status, 0, result.stderr)
    assert.ok(readFileSync(layout.runner, 'utf8').startsWith('#!/bin/sh\n'))
  } finally {
    layout.cleanup()
  }
})

// --- supervisor's own parser (only where supervisor is installed) ------------------------------------------------

const SUPERVISORD = '/usr/bin/supervisord'

const PARSE_CONF = `
import json, shlex, sys
from supervisor.datatypes import RestartWhenExitUnexpected
from supervisor.options import ServerOptions
options = ServerOptions()
options.realize(args=['-c', sys.argv[1]])
groups = []
for group in options.process_group_configs:
    groups.append({'name': group.name, 'processes': [{
        'name': p.name, 'argv': shlex.split(p.command), 'directory': p.directory, 'uid': p.uid,
        'autostart': p.autostart,
        'autorestart': 'unexpected' if p.autorestart is RestartWhenExitUnexpected else p.autorestart, 'stopwaitsecs': p.stopwaitsecs,
        'startsecs': p.startsecs, 'startretries': p.startretries, 'stopsignal': int(p.stopsignal),
        'priority': p.priority, 'redirect_stderr': p.redirect_stderr, 'stdout_logfile': p.stdout_logfile,
        'stdout_logfile_maxbytes': p.stdout_logfile_maxbytes, 'stdout_logfile_backups': p.stdout_logfile_backups,
        'environment': p.environment} for p in group.process_configs]})
print(json.dumps(groups))
`

test('supervisor parses the rendered conf: numprocs 2 gives _00 and _01, environment values come out exactly', () => {
  if (!existsSync(SUPERVISORD)) {
    console.log(`\n  NOTICE: ${SUPERVISORD} not installed: skipped the check with supervisor's own parser`)
    return
  }
  const python = /^#!\s*(\S+)/.exec(readFileSync(SUPERVISORD, 'utf8'))?.[1] ?? 'python3'
  const { server, site, program } = loadCase('full')
  const user = userInfo()
  program.user = user.username
  program.script = 'symfony/messenger.worker-1.sh'
  // HOME and USER follow the program's user; the rulebook refuses them as the program's own keys.
  delete program.environment.HOME
  const dir = mkdtempSync(join(tmpdir(), 'zxs-supervisor-'))
  try {
    const [conf] = renderProgramFiles({ templatesDir: DEFAULT_TEMPLATES_DIR, server, site, program })
    mkdirSync(join(dir, 'conf.d'))
    writeFileSync(join(dir, 'conf.d', basename(conf?.path ?? 'x.conf')), conf?.content ?? '')
    const main = `[supervisord]\nlogfile=${dir}/supervisord.log\npidfile=${dir}/supervisord.pid\n[include]\nfiles = ${dir}/conf.d/*.conf\n`
    writeFileSync(join(dir, 'supervisord.conf'), main)
    const result = spawnSync(python, ['-c', PARSE_CONF, join(dir, 'supervisord.conf')], { encoding: 'utf8' })
    assert.is(result.status, 0, result.stderr)
    const [group, ...others] = JSON.parse(result.stdout) as Array<{
      name: string
      processes: Array<Record<string, unknown>>
    }>
    assert.is(others.length, 0)
    assert.is(group?.name, 'shop.example.org-messenger')
    const expectedEnvironment = {
      HOME: user.username === 'root' ? '/root' : `/home/${user.username}`,
      USER: user.username,
      DEPLOYER_DOMAIN: 'shop.example.org',
      DEPLOYER_SITE_ROOT: '/srv/shop',
      DEPLOYER_CURRENT_PATH: '/srv/shop/current',
      DEPLOYER_SHARED_PATH: '/srv/shop/shared',
      DEPLOYER_BRANCH: 'release/2.x',
      ...program.environment,
    }
    const expectedProcess = (name: string) => ({
      name,
      argv: ['/srv/shop/runner.sh', '.deployer/supervisors/symfony/messenger.worker-1.sh'],
      directory: '/srv/shop/current',
      uid: user.uid,
      autostart: false,
      autorestart: 'unexpected',
      stopwaitsecs: 60,
      startsecs: 0,
      startretries: 10,
      stopsignal: 3,
      priority: 100,
      redirect_stderr: true,
      stdout_logfile: '/var/log/supervisor/shop.example.org-messenger.log',
      stdout_logfile_maxbytes: 50 * 1024 * 1024,
      stdout_logfile_backups: 0,
      environment: expectedEnvironment,
    })
    assert.equal(group?.processes, [
      expectedProcess('shop.example.org-messenger_00'),
      expectedProcess('shop.example.org-messenger_01'),
    ])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
