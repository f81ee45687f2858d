import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { batchSize, failureBudget, parseShare, planBatches, type Share } from '../../lib/deploy/batches.ts'
import { rollOut } from '../../lib/deploy/rollout.ts'

// Batch planning and the failure budget: pure tables, and the rollout loop that stops past the budget.

const fleet = (n: number) => Array.from({ length: n }, (_, i) => `s${i + 1}`)

const PLANS: Array<[string, number, { batch: Share; canary?: number }, string[][]]> = [
  ['default: one at a time', 3, { batch: { count: 1 } }, [['s1'], ['s2'], ['s3']]],
  ['batches of 2, the last one shorter', 5, { batch: { count: 2 } }, [['s1', 's2'], ['s3', 's4'], ['s5']]],
  ['a batch larger than the fleet is the whole fleet', 3, { batch: { count: 10 } }, [['s1', 's2', 's3']]],
  [
    'a share is rounded up: 25% of 6 is 2',
    6,
    { batch: { percent: 25 } },
    [
      ['s1', 's2'],
      ['s3', 's4'],
      ['s5', 's6'],
    ],
  ],
  ['a share is at least one server: 1% of 3', 3, { batch: { percent: 1 } }, [['s1'], ['s2'], ['s3']]],
  ['100% is one batch', 4, { batch: { percent: 100 } }, [['s1', 's2', 's3', 's4']]],
  [
    'a canary first, then batches of the rest',
    6,
    { batch: { count: 2 }, canary: 1 },
    [['s1'], ['s2', 's3'], ['s4', 's5'], ['s6']],
  ],
  [
    'a share is of the whole fleet, canary included',
    6,
    { batch: { percent: 50 }, canary: 2 },
    [['s1', 's2'], ['s3', 's4', 's5'], ['s6']],
  ],
  ['a canary of the whole fleet is one batch', 2, { batch: { count: 1 }, canary: 2 }, [['s1', 's2']]],
  ['no servers, no batches', 0, { batch: { count: 1 } }, []],
]

for (const [name, size, options, expected] of PLANS) {
  test(`planBatches: ${name}`, () => {
    assert.equal(planBatches(fleet(size), options), expected)
  })
}

const SHARES: Array<[string, 0 | 1, Share | null]> = [
  ['1', 1, { count: 1 }],
  ['12', 1, { count: 12 }],
  ['25%', 1, { percent: 25 }],
  ['100%', 1, { percent: 100 }],
  ['0', 0, { count: 0 }],
  ['0%', 0, { percent: 0 }],
  ['0', 1, null],
  ['0%', 1, null],
  ['150%', 1, null],
  ['101%', 0, null],
  ['abc', 1, null],
  ['-1', 0, null],
  ['1.5', 1, null],
  ['', 1, null],
  ['%', 1, null],
  ['2 ', 1, null],
  ['1e3', 1, null],
]

for (const [text, least, expected] of SHARES) {
  test(`parseShare(${JSON.stringify(text)}, at least ${least})`, () => {
    const parsed = parseShare(text, '--batch', least)
    if (expected) assert.equal(parsed, { ok: true, share: expected })
    else assert.ok(!parsed.ok && parsed.problem.field === '--batch' && parsed.problem.value === text)
  })
}

test('batchSize and failureBudget: a batch rounds up, a budget rounds down', () => {
  assert.is(batchSize({ percent: 10 }, 6), 1)
  assert.is(batchSize({ percent: 34 }, 6), 3)
  assert.is(failureBudget({ percent: 34 }, 6), 2)
  assert.is(failureBudget({ percent: 10 }, 6), 0)
  assert.is(failureBudget({ percent: 50 }, 6), 3)
  assert.is(failureBudget({ count: 1 }, 6), 1)
  assert.is(failureBudget({ count: 0 }, 6), 0)
})

/** A rollout where the named servers fail; returns the batches that ran and where it stopped. */
async function rollWith(batches: string[][], failing: string[], maxFailures: number) {
  const ran: string[][] = []
  const result = await rollOut(
    batches,
    async (servers) => {
      ran.push(servers)
      return servers.map((s) => ({ server: s, failed: failing.includes(s) }))
    },
    { maxFailures, failed: (r) => r.failed },
  )
  return { ran, stoppedAfter: result.stoppedAfter, skipped: result.skipped, failures: result.failures }
}

const BATCHES = [
  ['s1', 's2'],
  ['s3', 's4'],
  ['s5', 's6'],
]

test('rollOut: every batch runs in order when nothing fails', async () => {
  assert.equal(await rollWith(BATCHES, [], 0), { ran: BATCHES, stoppedAfter: null, skipped: [], failures: 0 })
})

test('rollOut: with no budget, the first failure stops the rollout after its batch; later servers are skipped', async () => {
  assert.equal(await rollWith(BATCHES, ['s3'], 0), {
    ran: BATCHES.slice(0, 2),
    stoppedAfter: 2,
    skipped: ['s5', 's6'],
    failures: 1,
  })
})

test('rollOut: failures within the budget go on; the one past it stops the rollout', async () => {
  assert.equal(await rollWith(BATCHES, ['s2'], 1), { ran: BATCHES, stoppedAfter: null, skipped: [], failures: 1 })
  assert.equal(await rollWith(BATCHES, ['s2', 's4'], 1), {
    ran: BATCHES.slice(0, 2),
    stoppedAfter: 2,
    skipped: ['s5', 's6'],
    failures: 2,
  })
  assert.equal(await rollWith(BATCHES, ['s1', 's2'], 1), {
    ran: BATCHES.slice(0, 1),
    stoppedAfter: 1,
    skipped: ['s3', 's4', 's5', 's6'],
    failures: 2,
  })
})

test('rollOut: a failure in the last batch has nothing left to stop', async () => {
  assert.equal(await rollWith(BATCHES, ['s6'], 0), { ran: BATCHES, stoppedAfter: null, skipped: [], failures: 1 })
})

test.run()
