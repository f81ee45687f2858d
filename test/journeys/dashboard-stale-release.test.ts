import type { Browser, Page } from 'puppeteer-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostExec } from '../../sandbox/index.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { type RunningDashboard, startDashboard } from '../helpers/dashboard.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, processesOn, startSandbox, type TestSandbox, WORKER, writeAppDir } from '../helpers/sandbox.ts'

// After a deploy that did not restart: the operator deploys v1 (status 0), deploys v2 with --restart none (the workers
// keep running v1: status 3), opens the dashboard, sees STALE RELEASE on both servers, restarts the worker on all of
// the site's servers from the page (asked first), watches the badges go, stops the dashboard with Ctrl-C (130), and
// status is 0 with every worker on the new release.

const DOMAIN = 'stale.test'
const GROUP = `${DOMAIN}-worker`
const SERVERS = ['sandbox-1', 'sandbox-2']

interface Context {
  sandbox: TestSandbox
  browser: Browser
  app: string
  dashboard?: RunningDashboard
}
const journey = suite<Context>('journey: a stale release seen and fixed from the dashboard')

journey.before(async (context) => {
  context.sandbox = await startSandbox(2)
  await addSites(
    context.sandbox.inventory,
    `
  - domain: ${DOMAIN}
    server: [${SERVERS.join(', ')}]
    supervisors:
      - program: worker
        script: worker.sh
        startsecs: 1
        stopwaitsecs: 2
`,
  )
  context.app = await writeAppDir(context.sandbox.dir, { 'worker.sh': WORKER })
  context.browser = await launchBrowser()
})

journey.after(async ({ sandbox, browser, dashboard }) => {
  await dashboard?.stop().catch(() => undefined)
  await browser?.close()
  await sandbox?.down()
})

const task = (context: Context, name: string, args: string[]) =>
  runTask(name, ['--inventory', context.sandbox.inventory, ...args])

async function pids(sandbox: TestSandbox): Promise<(number | undefined)[]> {
  return Promise.all(SERVERS.map(async (s) => (await processesOn(sandbox.host(s))).find((p) => p.group === GROUP)?.pid))
}

journey('deploy v1, then v2 without a restart: status says the workers run an old release', async (context) => {
  const v1 = await task(context, 'deploy', ['--domain', DOMAIN, '--app-dir', context.app, '--release', 'v1'])
  assert.is(v1.exitCode, 0, v1.all)
  assert.is((await task(context, 'supervisor-status', [])).exitCode, 0)
  const v2 = await task(context, 'deploy', [
    '--domain',
    DOMAIN,
    '--app-dir',
    context.app,
    '--release',
    'v2',
    '--restart',
    'none',
  ])
  assert.is(v2.exitCode, 0, v2.all)
  const status = await task(context, 'supervisor-status', [])
  assert.is(status.exitCode, 3, status.all)
  assert.match(status.stdout, /runs release v1, not the current v2/)
})

journey('the dashboard shows STALE RELEASE on both servers; restart on all servers from the page', async (context) => {
  context.dashboard = await startDashboard([
    '--inventory',
    context.sandbox.inventory,
    '--interval',
    '1',
    '--allow-control',
  ])
  const page: Page = await context.browser.newPage()
  await page.goto(context.dashboard.url)
  const cell = (server: string) =>
    page.$eval(`[data-key="${DOMAIN}|${server}"]`, (button) => button.textContent ?? '').catch(() => '')
  for (const server of SERVERS)
    await waitFor(`STALE RELEASE on ${server}`, async () =>
      /RUNNING worker 1\/1.*STALE RELEASE/.test(await cell(server)),
    )
  assert.match(
    await page.$eval('#summary', (e) => e.textContent ?? ''),
    /2\/2 servers reached · 2\/2 processes running · 2 problems/,
  )
  const before = await pids(context.sandbox)

  await page.click(`[data-key="${DOMAIN}|sandbox-1"]`)
  await page.waitForSelector('#detail .controls button')
  assert.match(
    await page.$eval('#detail-body', (e) => e.textContent ?? ''),
    /v1 \(STALE: restart to pick up the deploy\)/,
  )
  const asked: string[] = []
  page.once('dialog', (dialog) => {
    asked.push(dialog.message())
    void dialog.accept()
  })
  const buttons = await page.$$('#detail .controls button')
  let clicked = false
  for (const button of buttons)
    if ((await button.evaluate((b) => b.textContent)) === 'Restart on all 2 servers') {
      await button.click()
      clicked = true
    }
  assert.ok(clicked, 'a button restarts the worker on all of the site’s servers')
  const outcome = await waitFor(
    'the outcome',
    async () => {
      const text = await page.$eval('#detail .outcome', (e) => e.textContent ?? '')
      return /done|failed|refused/.test(text) ? text : ''
    },
    60_000,
  )
  assert.equal(asked, [`restart ${DOMAIN} worker on sandbox-1, sandbox-2?`])
  assert.match(outcome, /restart: done — sandbox-1: ok; sandbox-2: ok/)
  for (const server of SERVERS)
    await waitFor(`no STALE RELEASE on ${server}`, async () => /RUNNING worker 1\/1$/.test(await cell(server)))
  const after = await pids(context.sandbox)
  for (const [i, server] of SERVERS.entries()) assert.ok(after[i] && after[i] !== before[i], `${server} restarted`)
  // The page's restart is the task's: each server's audit trail has its line.
  for (const server of SERVERS) {
    const trail = await hostExec(context.sandbox.host(server), ['cat', '/var/log/zx-supervisor/audit.log'])
    const last = JSON.parse(trail.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>
    assert.equal([last.task, last.action, last.result], ['supervisor-restart', 'restart', 'ok'], trail.stdout)
  }
  await page.close()
})

journey('Ctrl-C ends the dashboard (130); status is 0, every worker on v2', async (context) => {
  assert.is(await (context.dashboard as RunningDashboard).stop(), 130)
  context.dashboard = undefined
  const status = await task(context, 'supervisor-status', ['--json'])
  assert.is(status.exitCode, 0, status.all)
  const releases = (
    JSON.parse(status.stdout) as { servers: { programs: { processes: { release: string }[] }[] }[] }
  ).servers.flatMap((s) => s.programs.flatMap((p) => p.processes.map((proc) => proc.release)))
  assert.equal(releases, ['v2', 'v2'])
})

journey.run()
