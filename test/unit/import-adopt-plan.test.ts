import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteError } from '../../lib/errors.ts'
import { activationArgs } from '../../lib/sync/activate.ts'
import { assertNothingRefused, planSync } from '../../lib/sync/plan.ts'
import { planRollback } from '../../lib/sync/rollback.ts'
import { desiredOn, liveState, syncedFiles } from '../helpers/fake-server.ts'
import { thrown } from '../helpers/input-error.ts'

// supervisor-sync --adopt for a program supervisor-import brought in from another file (imported_from): the original
// goes in the same activation that writes ours (kept, then removed), its group is updated away; refused otherwise.

const HANDMADE = '/etc/supervisor/conf.d/handmade.conf'
const original = (content: string) => ({ path: HANDMADE, content, owner: 'root', group: 'root', mode: '0644' })
const IMPORTED = { domain: 'a.test', supervisors: [{ program: 'mailer', imported_from: HANDMADE }] }
const ONE_PROGRAM = '; by hand\n[program:mailer]\ncommand=/usr/bin/php artisan queue:work\n'

test('--adopt: the original is kept and removed with our files added, and its group updated with ours', () => {
  const plan = planSync(desiredOn([IMPORTED]), liveState({ files: [original(ONE_PROGRAM)] }), { adopt: true })
  assertNothingRefused(plan)
  const adopted = plan.changes.find((c) => c.path === HANDMADE)
  assert.equal(
    [adopted?.kind, adopted?.after, adopted?.reason],
    ['adopt', undefined, 'imported original of a.test-mailer, replaced by ours'],
  )
  assert.equal(plan.groups.sort(), ['a.test-mailer', 'mailer'])
  const args = activationArgs(plan, {
    stageDir: '/var/tmp/zxs-stage-x',
    stagedNames: new Map(plan.changes.filter((c) => c.after).map((c, i) => [c.path, `f${i}`])),
    lockWaitSeconds: 60,
    login: 'root',
    pythonSource: '#',
    kept: new Map([[HANDMADE, '/var/lib/zx-supervisor/adopted/x/etc/supervisor/conf.d/handmade.conf']]),
  })
  const at = args.indexOf('keep')
  assert.equal(args.slice(at, at + 8), [
    'keep',
    HANDMADE,
    '/var/lib/zx-supervisor/adopted/x/etc/supervisor/conf.d/handmade.conf',
    'root',
    'root',
    '0600',
    'remove',
    HANDMADE,
  ])
  assert.ok(
    args.includes('expect') && args[args.indexOf(HANDMADE) - 1] === 'expect',
    'the original is expected as read',
  )
})

test('without --adopt the original is refused: supervisor would run both', () => {
  const plan = planSync(desiredOn([IMPORTED]), liveState({ files: [original(ONE_PROGRAM)] }))
  const error = thrown(() => assertNothingRefused(plan), RemoteError).message
  assert.match(
    error,
    `${HANDMADE} (owner: the original of imported a.test-mailer (supervisor would run both); run with --adopt`,
  )
})

test('an original that defines other sections too is refused even with --adopt', () => {
  const two = `${ONE_PROGRAM}[program:other]\ncommand=/bin/true\n`
  const plan = planSync(desiredOn([IMPORTED]), liveState({ files: [original(two)] }), { adopt: true })
  assert.match(
    thrown(() => assertNothingRefused(plan), RemoteError).message,
    'also defines program:mailer, program:other',
  )
})

test('once the original is gone (or the program was imported from our own path) there is nothing more to do', () => {
  const desired = desiredOn([IMPORTED])
  assert.is(planSync(desired, liveState({ files: syncedFiles(desired) }), { adopt: true }).needsActivation, false)
  const inPlace = desiredOn([
    {
      domain: 'a.test',
      supervisors: [{ program: 'mailer', imported_from: '/etc/supervisor/conf.d/a.test-mailer.conf' }],
    },
  ])
  const plan = planSync(inPlace, liveState({ files: syncedFiles(inPlace) }), { adopt: true })
  assert.equal([plan.changes, plan.refused], [[], []])
})

test('rolling the adopting sync back puts the original back as read and updates its group; ours goes', () => {
  const live = { ...original(ONE_PROGRAM), owner: 'deployer', mode: '0640' }
  const plan = planSync(desiredOn([IMPORTED]), liveState({ files: [live] }), { adopt: true })
  const rollback = planRollback(plan)
  const back = rollback.changes.find((c) => c.path === HANDMADE)
  assert.equal(
    [back?.kind, back?.after?.content, back?.after?.owner, back?.after?.mode],
    ['change', ONE_PROGRAM, 'deployer', '0640'],
  )
  const ours = rollback.changes.find((c) => c.path === '/etc/supervisor/conf.d/a.test-mailer.conf')
  assert.is(ours?.kind, 'remove')
  assert.equal(rollback.groups.sort(), ['a.test-mailer', 'mailer'])
  assert.equal(rollback.removedPrograms, ['a.test-mailer'])
  // As the sync left it: the original absent, ours present.
  assert.is(rollback.expected.get(HANDMADE), null)
  assert.type(rollback.expected.get('/etc/supervisor/conf.d/a.test-mailer.conf'), 'string')
})

test.run()
