#!/usr/bin/env node
// npm test: lint (format check + linter), typecheck, unit tests, integration, fault and journey tests against
// sandbox servers; ends with "N passed, N failed".
// Integration tests need root and the sandbox's Debian packages: without them they are skipped loudly, except
// under CI=true, where that is a failure. A run in which no test ran fails.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

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
 * Runs a command with inherited stderr, echoes its stdout, and returns the exit code and the text.
 * @param {string} command @param {string[]} args @param {Record<string, string>} [env]
 * @returns {Promise<{ code: number, text: string }>}
 */
function run(command, args, env = {}) {
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
      process.stdout.write(chunk)
    })
    child.on('close', (code) => resolve({ code: code ?? 1, text }))
  })
}

/**
 * A unit test must not reach any server: in the unit tier ssh, scp, sftp and rsync are stubs that record the call
 * and fail, and the tier fails when any was called.
 * @returns {{ env: Record<string, string>, calls: () => string[] }}
 */
function withoutNetworkClients() {
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
  return { env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` }, calls }
}

/** @param {string} dir @param {Record<string, string>} [env] */
async function uvu(dir, env = {}) {
  // A tier whose folder is missing or holds no test is a failure: uvu itself exits 0 when nothing ran.
  if (!existsSync(path.join(root, dir))) {
    console.log(`${dir}: missing, no test ran`)
    totals.failed += 1
    return
  }
  const uvuArgs = [
    ...['--import', 'tsx', '--import', path.join(root, 'test/helpers/use-build.mjs')],
    ...[path.join(root, 'node_modules/uvu/bin.js'), dir, '\\.test\\.ts$', '--no-color'],
  ]
  const { code, text } = await run(process.execPath, uvuArgs, env)
  const count = (/** @type {string} */ label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(text)?.[1] ?? 0)
  const total = count('Total')
  const passed = count('Passed')
  totals.passed += passed
  totals.failed += Math.max(total - passed, code === 0 ? 0 : 1)
  totals.skipped += count('Skipped')
  if (total === 0) {
    console.log(`${dir}: no test ran`)
    totals.failed += 1
  }
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

// Every tier runs the build a team would run (tasks import it by package name): build it first, incrementally.
console.log('\n== build ==')
const build = await run('npm', ['run', '--silent', 'build'])
if (build.code !== 0) {
  console.log('build: FAILED (npm run build)')
  process.exit(1)
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
    const network = withoutNetworkClients()
    await uvu('test/unit', network.env)
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
