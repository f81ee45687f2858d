#!/usr/bin/env node
// npm test: lint (format check + linter), typecheck, unit tests, integration, fault and journey tests against
// sandbox servers; ends with "N passed, N failed".
// Integration tests need root and the sandbox's Debian packages: without them they are skipped loudly, except
// under CI=true, where that is a failure. A run in which no test ran fails.
import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sourceNewerThanBuild } from './helpers/build-freshness.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const mode = process.argv[2] ?? 'all'
const tiers = {
  all: ['lint', 'typecheck', 'unit', 'integration', 'faults', 'journeys'],
  unit: ['unit'],
  integration: ['integration'],
  faults: ['faults'],
  journeys: ['journeys'],
  typecheck: ['typecheck'],
  lint: ['lint'],
}[mode]
if (!tiers) {
  console.error(`usage: node test/run.mjs [all|lint|typecheck|unit|integration|faults|journeys] (got ${mode})`)
  process.exit(2)
}

const totals = { passed: 0, failed: 0, skipped: 0 }
const scratch = mkdtempSync(path.join(tmpdir(), 'zxs-suite-'))
const fingerprintKey = path.join(scratch, 'fingerprint.key')

/**
 * Runs a command with inherited stderr, echoes its stdout (unless `echo` is false), and returns the exit code and the
 * text.
 * @param {string} command @param {string[]} args @param {Record<string, string>} [env] @param {boolean} [echo]
 * @returns {Promise<{ code: number, text: string }>}
 */
function run(command, args, env = {}, echo = true) {
  return new Promise((resolve) => {
    // ZXS_CONTROL_PERSIST=0: every run closes its SSH masters at exit, so no test meets a master another one left warm.
    // ZXS_FINGERPRINT_KEY_FILE: the suite's own fingerprint key, never the user's ~/.config one.
    const child = spawn(command, args, {
      cwd: root,
      env: {
        ...process.env,
        NO_COLOR: '1',
        ZXS_CONTROL_PERSIST: '0',
        ZXS_FINGERPRINT_KEY_FILE: fingerprintKey,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let text = ''
    child.stdout.on('data', (chunk) => {
      text += chunk
      if (echo) process.stdout.write(chunk)
    })
    child.on('close', (code) => resolve({ code: code ?? 1, text }))
  })
}

/**
 * The unit tier's PATH. A unit test must not reach any server: ssh, scp, sftp and rsync are stubs that record the
 * call and fail, and the tier fails when any was called. python3 is the servers' one.
 * @returns {{ env: Record<string, string>, calls: () => string[] }}
 */
function unitTierCommands() {
  const bin = path.join(scratch, 'no-network')
  const record = path.join(scratch, 'network-calls.log')
  mkdirSync(bin, { recursive: true })
  writeFileSync(record, '')
  for (const client of ['ssh', 'scp', 'sftp', 'rsync']) {
    const stub = [
      '#!/bin/sh',
      `printf '%s\\n' "${client} $*" >> '${record}'`,
      `echo 'unit tests must not spawn ${client}' >&2`,
      'exit 255',
    ].join('\n')
    writeFileSync(path.join(bin, client), stub, { mode: 0o755 })
  }
  const calls = () => readFileSync(record, 'utf8').split('\n').filter(Boolean)
  // The python3 the servers run (sudo's secure_path finds Debian's /usr/bin/python3), not a version manager's shim
  // earlier in PATH: pyenv's costs ~0.3 s a start, and the unit tier starts python3 dozens of times.
  if (existsSync('/usr/bin/python3')) symlinkSync('/usr/bin/python3', path.join(bin, 'python3'))
  return { env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` }, calls }
}

const LOADERS = ['--import', 'tsx', '--import', path.join(root, 'test/helpers/use-build.mjs')]

/**
 * Runs the tests of one tier's folder and adds up what they report. `workers` > 1 (the unit tier, whose tests share
 * nothing but the machine) spreads the files over that many processes; the others run one file after another.
 * @param {string} dir @param {Record<string, string>} [env] @param {number} [workers]
 */
async function uvu(dir, env = {}, workers = 1) {
  // A tier whose folder is missing or holds no test is a failure: uvu itself exits 0 when nothing ran.
  if (!existsSync(path.join(root, dir))) {
    console.log(`${dir}: missing, no test ran`)
    totals.failed += 1
    return
  }
  const runs =
    workers > 1
      ? await inWorkers(dir, env, workers)
      : [
          await run(
            process.execPath,
            [...LOADERS, path.join(root, 'node_modules/uvu/bin.js'), dir, '\\.test\\.ts$', '--no-color'],
            env,
          ),
        ]
  let total = 0
  for (const { code, text } of runs) {
    const count = (/** @type {string} */ label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(text)?.[1] ?? 0)
    total += count('Total')
    totals.passed += count('Passed')
    totals.failed += Math.max(count('Total') - count('Passed'), code === 0 ? 0 : 1)
    totals.skipped += count('Skipped')
  }
  if (total === 0) {
    console.log(`${dir}: no test ran`)
    totals.failed += 1
  }
}

/**
 * The files of DIR over `workers` processes (test/helpers/uvu-worker.mjs), each taking the next unclaimed file; the
 * largest first, so a long file does not start last. Each worker's output is printed whole when it ends.
 * @param {string} dir @param {Record<string, string>} env @param {number} workers
 */
async function inWorkers(dir, env, workers) {
  const files = readdirSync(path.join(root, dir))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => path.join(root, dir, name))
    .sort((a, b) => statSync(b).size - statSync(a).size)
  const claims = mkdtempSync(path.join(scratch, 'claims-'))
  const worker = path.join(root, 'test/helpers/uvu-worker.mjs')
  const runs = await Promise.all(
    Array.from({ length: workers }, () => run(process.execPath, [...LOADERS, worker, claims, ...files], env, false)),
  )
  for (const { text } of runs) process.stdout.write(text)
  return runs
}

/** The fault suite, then its figure: cases tried and passed, and "nothing lost" only when every server-state check held. */
async function faults() {
  const figure = path.join(mkdtempSync(path.join(tmpdir(), 'zxs-figure-')), 'records.jsonl')
  writeFileSync(figure, '')
  process.env.ZXS_FAULT_FIGURE = figure
  await uvu('test/faults')
  const records = readFileSync(figure, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
  const cases = records.filter((r) => r.kind === 'case')
  const states = records.filter((r) => r.kind === 'state')
  const broken = states.filter((r) => !r.held).map((r) => r.name)
  const verdict =
    states.length && !broken.length
      ? `nothing lost (${states.length} server-state checks held)`
      : `STATE CHECKS FAILED: ${broken.join('; ') || 'none ran'}`
  console.log(`\nfaults: ${cases.length} cases tried, ${cases.filter((r) => r.passed).length} passed, ${verdict}`)
  rmSync(path.dirname(figure), { recursive: true, force: true })
}

function integrationBlocker() {
  if (process.getuid?.() !== 0) return 'they need root (the sandbox servers use mount namespaces)'
  const missing = [
    '/usr/sbin/sshd',
    '/usr/bin/supervisord',
    '/usr/bin/rsync',
    '/usr/bin/sudo',
    '/usr/sbin/logrotate',
    '/usr/bin/tmux',
  ].filter((p) => !existsSync(p))
  return missing.length
    ? `missing ${missing.join(', ')} (run: npx zx tasks/sandbox.mjs up, which installs them as root)`
    : null
}

/** One unit worker per CPU, at most 4; ZXS_TEST_WORKERS=1 runs the tier in one process, as uvu alone does. */
function unitWorkers() {
  const asked = Number(process.env.ZXS_TEST_WORKERS)
  return Number.isInteger(asked) && asked > 0 ? asked : Math.min(4, availableParallelism())
}

// Every tier runs the build a team would run (tasks import it by package name): build it first, incrementally.
console.log('\n== build ==')
// tsc's incremental build takes ~5 s even with nothing to do: a build newer than every source is not redone.
const stale = sourceNewerThanBuild(
  ['lib', 'sandbox', 'tasks'],
  ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.tasks.json'],
)
if (!stale) console.log('build: dist/ is newer than lib/, sandbox/ and tasks/; not rebuilt')
else {
  const build = await run('npm', ['run', '--silent', 'build'])
  if (build.code !== 0) {
    console.log('build: FAILED (npm run build)')
    process.exit(1)
  }
}

for (const tier of tiers) {
  console.log(`\n== ${tier} ==`)
  if (tier === 'typecheck') {
    const { code } = await run(process.execPath, [
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.json',
    ])
    if (code === 0) totals.passed += 1
    else totals.failed += 1
    console.log(code === 0 ? 'typecheck: ok' : 'typecheck: FAILED')
    continue
  }
  if (tier === 'lint') {
    // As `npm run lint`: format check, linter and import order, no writes; warnings fail too.
    const biome = path.join(root, 'node_modules/@biomejs/biome/bin/biome')
    const { code } = await run(process.execPath, [biome, 'check', '--error-on-warnings', '--colors=off', '.'])
    if (code === 0) totals.passed += 1
    else totals.failed += 1
    console.log(code === 0 ? 'lint: ok' : 'lint: FAILED (npm run format fixes the layout; the rest is listed above)')
    continue
  }
  if (tier === 'integration' || tier === 'faults' || tier === 'journeys') {
    const blocker = integrationBlocker()
    if (blocker) {
      const banner = `!!! ${tier} tests NOT RUN: ${blocker} !!!`
      console.log(`\n${'!'.repeat(banner.length)}\n${banner}\n${'!'.repeat(banner.length)}\n`)
      if (process.env.CI === 'true') totals.failed += 1
      else totals.skipped += 1
      continue
    }
  }
  const started = Date.now()
  if (tier === 'faults') await faults()
  else if (tier === 'unit') {
    const network = unitTierCommands()
    await uvu('test/unit', network.env, unitWorkers())
    const calls = network.calls()
    if (calls.length) {
      const list = calls.join('\n')
      console.log(`unit: FAILED, ${calls.length} call(s) of a network client (such tests go in test/integration):`)
      console.log(list)
      totals.failed += 1
    }
  } else await uvu(`test/${tier}`)
  console.log(`${tier}: ${Math.round((Date.now() - started) / 1000)} s`)
}

rmSync(scratch, { recursive: true, force: true })
const ranNothing = totals.passed + totals.failed === 0
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`)
if (ranNothing) console.error('no test ran: that is a failure')
process.exit(totals.failed || ranNothing ? 1 : 0)
