import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkRolloutOptions, type RolloutInput } from '../../lib/deploy/options.ts'
import { deploy } from '../../tasks/deploy.mjs'
import { captureOutput } from '../helpers/capture.ts'
import { inputError } from '../helpers/input-error.ts'
import { unreachableSite } from '../helpers/unreachable-site.ts'

// deploy's rollout flags: every bad value is exit 2 naming its flag, found before any server is contacted.

const DEFAULTS: RolloutInput = { batch: '1', maxFail: '0', restart: 'all' }

test('checkRolloutOptions: the defaults, and shares turned into numbers for the fleet', () => {
  assert.equal(checkRolloutOptions(DEFAULTS, 6), { batch: { count: 1 }, maxFailures: 0, restart: 'all' })
  assert.equal(
    checkRolloutOptions(
      { batch: '50%', canary: 1, maxFail: '34%', restart: 'one-by-one', healthCmd: 'curl -fsS localhost:8080/up' },
      6,
    ),
    {
      batch: { percent: 50 },
      canary: 1,
      maxFailures: 2,
      restart: 'one-by-one',
      healthCmd: 'curl -fsS localhost:8080/up',
    },
  )
  assert.is(checkRolloutOptions({ ...DEFAULTS, canary: 6 }, 6).canary, 6, 'a canary of the whole fleet is allowed')
})

const BAD: Array<[string, Partial<RolloutInput>, string]> = [
  ['--batch 0', { batch: '0' }, '--batch'],
  ['--batch 150%', { batch: '150%' }, '--batch'],
  ['--batch abc', { batch: 'abc' }, '--batch'],
  ['--canary larger than the fleet', { canary: 7 }, '--canary'],
  ['--max-fail -1', { maxFail: '-1' }, '--max-fail'],
  ['--max-fail 101%', { maxFail: '101%' }, '--max-fail'],
  ['--restart sometimes', { restart: 'sometimes' }, '--restart'],
  ['--health-cmd with a newline', { healthCmd: 'true\nrm -rf /' }, '--health-cmd'],
  ['--health-cmd with a CR', { healthCmd: 'true\r' }, '--health-cmd'],
  ['--health-cmd with a NUL', { healthCmd: 'true\0' }, '--health-cmd'],
  ['--health-cmd empty', { healthCmd: ' ' }, '--health-cmd'],
]

for (const [name, input, field] of BAD) {
  test(`checkRolloutOptions refuses ${name}`, () => {
    const error = inputError(() => checkRolloutOptions({ ...DEFAULTS, ...input }, 6))
    assert.equal(
      error.problems.map((p) => p.field),
      [field],
    )
  })
}

test('checkRolloutOptions reports every bad flag at once', () => {
  const error = inputError(() => checkRolloutOptions({ batch: '0', maxFail: 'x', restart: 'sometimes', canary: 9 }, 6))
  assert.equal(
    error.problems.map((p) => p.field),
    ['--batch', '--max-fail', '--canary', '--restart'],
  )
})

// A run that got past the checks would try its servers (loopback ports nothing listens on) and end with exit 1;
// test/integration/deploy-flags.test.ts shows that valid flags do.
const FLAGS: Array<[string, Record<string, unknown>, RegExp]> = [
  ['--batch 0', { batch: '0' }, /^--batch: got "0"/m],
  ['--batch 150%', { batch: '150%' }, /^--batch: got "150%"/m],
  ['--batch abc', { batch: 'abc' }, /^--batch: got "abc"/m],
  ['--canary 0', { canary: 0 }, /^--canary: got "0"/m],
  [
    '--canary 4 on a site of 3 servers',
    { canary: 4 },
    /^--canary: got "4"; allowed: at most the site's 3 server\(s\)/m,
  ],
  ['--max-fail=-1', { maxFail: '-1' }, /^--max-fail: got "-1"/m],
  ['--hold soon', { hold: 'soon' }, /^--hold: got "soon"/m],
  ['--hold 1.5', { hold: '1.5' }, /^--hold: got "1.5"/m],
  ['--health-cmd with a newline', { healthCmd: 'true\nfalse' }, /^--health-cmd: got/m],
  ['--restart sometimes', { restart: 'sometimes' }, /^--restart: got "sometimes"/m],
  ['--keep 0', { keep: 0 }, /^--keep: got "0"/m],
  ['--keep 1 (current and previous are always kept)', { keep: 1 }, /^--keep: got "1"/m],
]

for (const [name, flags, message] of FLAGS) {
  test(`deploy ${name}: exit 2 naming the flag, before any server is contacted`, async () => {
    const site = await unreachableSite()
    try {
      const { exitCode, result } = await deploy.call({ ...site.base, ...flags })
      assert.is(exitCode, 2, JSON.stringify(result))
      assert.match((result as { error: string }).error, message)
    } finally {
      await site.remove()
    }
  })
}

test('deploy --max-fail -1 (a separate argument) is exit 2 naming --max-fail', async () => {
  const { base, remove } = await unreachableSite()
  try {
    const captured = captureOutput()
    const code = await deploy.run(
      ['--inventory', base.inventory, '--domain', 'd.test', '--app-dir', base.appDir, '--max-fail', '-1'],
      { output: captured.output },
    )
    assert.is(code, 2)
    assert.match(
      captured.stderr(),
      /--max-fail: got "-1"; allowed: a whole number N ≥ 0/,
      'the negative number is read as the value of --max-fail',
    )
    assert.not.match(captured.stderr(), 'one of --', 'not reported as an unknown flag -1')
  } finally {
    await remove()
  }
})

test.run()
