import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import type { Browser, Page } from 'puppeteer-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startDashboardServer } from '../../lib/dashboard/server.ts'
import { buildView, type DashboardView } from '../../lib/dashboard/view.ts'
import type { ServerOutcome } from '../../lib/fleet.ts'
import type { ServerStatus } from '../../lib/status/summarize.ts'
import { hostExec } from '../../sandbox/index.ts'
import { artifactPath, launchBrowser } from '../helpers/browser.ts'
import { type RunningDashboard, startDashboard } from '../helpers/dashboard.ts'
import { runTask, waitFor } from '../helpers/run-task.ts'
import { addSites, deployApp, processesOn, startSandbox, type TestSandbox } from '../helpers/sandbox.ts'

// supervisor-dashboard against three sandbox servers, in Debian's chromium: the grid shows every program, a worker
// stopped by hand shows STOPPED (as text) within two intervals, a worker that exits at once shows BACKOFF/FATAL, a conf
// edited by hand a DRIFT badge; a click shows the log and new lines arrive; a log line with HTML stays text; keyboard
// navigation; requests without the token, with a foreign Host or Origin, and control without --allow-control are 403;
// with it, restart asks first and works; Ctrl-C is exit 130 with no tail left on any server.

interface Context {
  sandbox: TestSandbox
  browser: Browser
  dashboard?: RunningDashboard
}
const dash = suite<Context>('supervisor-dashboard in a browser')

const SERVERS = ['sandbox-1', 'sandbox-2', 'sandbox-3']
// One line a second, one of them with markup in it (it must reach the page as text).
const TICKER = `#!/bin/sh
i=0
while true; do
  i=$((i+1))
  echo "tick $i from $SUPERVISOR_PROCESS_NAME <b>bold</b><img src=x onerror=window.pwned=1>"
  sleep 1
done
`
const CRASHER = '#!/bin/sh\necho "cannot start: no database"\nexit 1\n'

dash.before(async (context) => {
  context.sandbox = await startSandbox(3)
  const { sandbox } = context
  await addSites(
    sandbox.inventory,
    `
  - domain: app.test
    server: [${SERVERS.join(', ')}]
    supervisors:
      - program: ticker
        script: ticker.sh
        numprocs: 2
        stopwaitsecs: 2
  - domain: broken.test
    server: sandbox-2
    supervisors:
      - program: crasher
        script: crasher.sh
        startsecs: 1
        startretries: 1
`,
  )
  for (const name of SERVERS) {
    await deployApp(sandbox.host(name), 'app.test', { 'ticker.sh': TICKER })
    if (name === 'sandbox-2') await deployApp(sandbox.host(name), 'broken.test', { 'crasher.sh': CRASHER })
  }
  const sync = await runTask('supervisor-sync', ['--all', '--inventory', sandbox.inventory])
  assert.is(sync.exitCode, 0, sync.all)
  context.browser = await launchBrowser()
})

dash.after(async ({ sandbox, browser, dashboard }) => {
  await dashboard?.stop().catch(() => undefined)
  await browser?.close()
  await sandbox?.down()
})

async function openPage(context: Context, url: string): Promise<Page> {
  const page = await context.browser.newPage()
  await page.goto(url)
  await page.waitForSelector('#grid button.cell', { timeout: 20_000 })
  return page
}

async function cellText(page: Page, domain: string, server: string): Promise<string> {
  return page.$eval(`[data-key="${domain}|${server}"]`, (button) => button.textContent ?? '')
}

dash(
  'the grid shows every program; stopped, crashing and drifting programs show as text and badges',
  async (context) => {
    const { sandbox } = context
    context.dashboard = await startDashboard(['--inventory', sandbox.inventory, '--interval', '1'])
    const page = await openPage(context, context.dashboard.url)
    for (const server of SERVERS) assert.match(await cellText(page, 'app.test', server), /RUNNING ticker 2\/2/)
    assert.match(await page.$eval('#summary', (e) => e.textContent ?? ''), /3\/3 servers reached/)

    await waitFor('the crasher to show BACKOFF or FATAL', async () =>
      /(BACKOFF|FATAL) crasher 0\/1/.test(await cellText(page, 'broken.test', 'sandbox-2')),
    )
    const stoppedAt = Date.now()
    await hostExec(sandbox.host('sandbox-1'), ['supervisorctl', 'stop', 'app.test-ticker:app.test-ticker_00'])
    await waitFor(
      'STOPPED on sandbox-1',
      async () => /STOPPED ticker 1\/2/.test(await cellText(page, 'app.test', 'sandbox-1')),
      10_000,
    )
    // Two intervals (1 s each) and a round's own time: the page follows within a few seconds, without a reload.
    assert.ok(Date.now() - stoppedAt < 8_000, `STOPPED appeared after ${Date.now() - stoppedAt} ms`)

    const conf = path.join(sandbox.host('sandbox-3').root, 'etc/supervisor/conf.d/app.test-ticker.conf')
    await fs.appendFile(conf, '; edited by hand\n')
    await waitFor('a DRIFT badge on sandbox-3', async () => /DRIFT/.test(await cellText(page, 'app.test', 'sandbox-3')))
    assert.not.match(await cellText(page, 'app.test', 'sandbox-2'), /DRIFT/)

    await page.screenshot({ path: await artifactPath('dashboard.png') })
    await page.close()
  },
)

dash('a click shows the process table and the log, following; markup in a log line stays text', async (context) => {
  const page = await openPage(context, (context.dashboard as RunningDashboard).url)
  await page.click('[data-key="app.test|sandbox-2"]')
  await page.waitForSelector('#detail:not([hidden])')
  const detail = await page.$eval('#detail-body', (e) => e.textContent ?? '')
  assert.match(detail, /app\.test-ticker_00/)
  assert.match(detail, /RUNNING/)
  assert.match(detail, /r1/, 'the release each process runs')
  const firstTicks = await waitFor('log lines', async () => {
    const text = await page.$eval('#log', (e) => e.textContent ?? '')
    return /tick \d+/.test(text) ? text : ''
  })
  const last = (text: string) => Math.max(...[...text.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])))
  await waitFor(
    'a new line to arrive',
    async () => last(await page.$eval('#log', (e) => e.textContent ?? '')) > last(firstTicks),
  )
  assert.match(firstTicks, /<b>bold<\/b><img src=x onerror=window\.pwned=1>/, 'the markup is shown as text')
  assert.is(await page.$$eval('#log b, #log img', (nodes) => nodes.length), 0, 'no element made from a log line')
  assert.is(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined)
  await page.screenshot({ path: await artifactPath('dashboard-detail.png') })
  await page.keyboard.press('Escape')
  await page.waitForSelector('#detail[hidden]')
  await page.close()
})

dash('the grid is driven by the keyboard; state is never colour alone', async (context) => {
  const page = await openPage(context, (context.dashboard as RunningDashboard).url)
  await page.focus('[data-key="app.test|sandbox-1"]')
  await page.keyboard.press('ArrowRight')
  assert.is(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), 'app.test|sandbox-2')
  await page.keyboard.press('ArrowDown')
  assert.is(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), 'broken.test|sandbox-2')
  const label = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))
  assert.match(label ?? '', /broken\.test on sandbox-2: (BACKOFF|FATAL), needs attention/)
  await page.keyboard.press('Enter')
  await page.waitForSelector('#detail:not([hidden])')
  await page.keyboard.press('Escape')
  await page.waitForSelector('#detail[hidden]')
  assert.is(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), 'broken.test|sandbox-2')
  await page.close()
})

dash('without the token, with a foreign Host or Origin, or control while read-only: 403', async (context) => {
  const { port, token } = context.dashboard as RunningDashboard
  const ask = (requestPath: string, headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    request(port, requestPath, { host: `127.0.0.1:${port}`, ...headers }, method, body)
  assert.is((await ask('/')).status, 403)
  assert.is((await ask('/?token=wrong')).status, 403)
  assert.is((await ask(`/?token=${token}`)).status, 200)
  assert.is((await ask(`/?token=${token}`, { host: `localhost:${port}` })).status, 200, 'an ssh -L tunnel works')
  assert.is((await ask(`/?token=${token}`, { host: `evil.example:${port}` })).status, 403, 'DNS rebinding')
  assert.is((await ask(`/events?token=${token}`, { origin: 'http://evil.example' })).status, 403)
  const forged = JSON.stringify({ action: 'stop', domain: 'app.test', program: 'ticker', servers: ['sandbox-1'] })
  const refused = await ask(`/control?token=${token}`, { origin: `http://127.0.0.1:${port}` }, 'POST', forged)
  assert.is(refused.status, 403)
  assert.match(refused.body, /read-only/)
})

dash('Ctrl-C: exit 130, no tail left on any server', async (context) => {
  const dashboard = context.dashboard as RunningDashboard
  const page = await openPage(context, dashboard.url)
  await page.click('[data-key="app.test|sandbox-1"]')
  await waitFor('log lines', async () => /tick/.test(await page.$eval('#log', (e) => e.textContent ?? '')))
  assert.is(await dashboard.stop(), 130, dashboard.output())
  context.dashboard = undefined
  for (const server of SERVERS)
    await waitFor(
      `no tail on ${server}`,
      async () => (await hostExec(context.sandbox.host(server), ['pgrep', '-x', 'tail'])).exitCode === 1,
    )
  await page.close()
})

dash('--allow-control: restart asks first, names the program and server, and restarts it', async (context) => {
  const { sandbox } = context
  context.dashboard = await startDashboard(['--inventory', sandbox.inventory, '--interval', '1', '--allow-control'])
  const page = await openPage(context, context.dashboard.url)
  const pidBefore = (await processesOn(sandbox.host('sandbox-3'))).find(
    (p) => p.name === 'app.test-ticker:app.test-ticker_01',
  )?.pid
  await page.click('[data-key="app.test|sandbox-3"]')
  await page.waitForSelector('#detail .controls button')
  const asked: string[] = []
  page.once('dialog', (dialog) => {
    asked.push(dialog.message())
    void dialog.dismiss()
  })
  const restart = async () => {
    const buttons = await page.$$('#detail .controls button')
    for (const button of buttons)
      if ((await button.evaluate((b) => b.textContent)) === 'Restart on sandbox-3') return button.click()
    throw new Error('no Restart on sandbox-3 button')
  }
  await restart()
  await waitFor('the confirmation', async () => asked.length > 0)
  assert.match(asked[0] ?? '', /restart app\.test ticker on sandbox-3\?/)
  assert.is(
    (await processesOn(sandbox.host('sandbox-3'))).find((p) => p.name === 'app.test-ticker:app.test-ticker_01')?.pid,
    pidBefore,
    'dismissed: nothing restarted',
  )
  page.once('dialog', (dialog) => void dialog.accept())
  await restart()
  const outcome = await waitFor(
    'the outcome',
    async () => {
      const text = await page.$eval('#detail .outcome', (e) => e.textContent ?? '')
      return /done|failed|refused/.test(text) ? text : ''
    },
    60_000,
  )
  assert.match(outcome, /restart: done/)
  const pidAfter = (await processesOn(sandbox.host('sandbox-3'))).find(
    (p) => p.name === 'app.test-ticker:app.test-ticker_01',
  )?.pid
  assert.ok(pidAfter && pidAfter !== pidBefore, `restarted: pid ${pidBefore} → ${pidAfter}`)
  assert.match(context.dashboard.output(), /restart app\.test ticker on sandbox-3 \(from the page\): exit 0/)
  // A forged request with the token but from another origin is still refused.
  const forged = await request(
    context.dashboard.port,
    `/control?token=${context.dashboard.token}`,
    { host: `127.0.0.1:${context.dashboard.port}`, origin: 'http://evil.example' },
    'POST',
    JSON.stringify({ action: 'stop', domain: 'app.test', program: 'ticker', servers: ['sandbox-1'] }),
  )
  assert.is(forged.status, 403)
  await page.close()
})

dash(
  '64 servers × 20 programs: the page draws every cell (the time it takes is printed, for the README)',
  async (context) => {
    const servers = Array.from({ length: 64 }, (_, i) => `web-${i + 1}`)
    const sites = Array.from({ length: 5 }, (_, i) => ({ domain: `site-${i + 1}.test`, servers }))
    const server = await startDashboardServer({
      port: 0,
      token: 'bench',
      allowControl: false,
      handlers: {
        followLog: async () => undefined,
        control: async () => ({ ok: false, exitCode: 1, result: { servers: [] } }),
      },
    })
    const page = await context.browser.newPage()
    try {
      const round = (n: number) => fleetView(servers, sites, n)
      server.publish(round(0))
      await page.goto(server.url)
      await page.waitForSelector('#grid button.cell')
      const draws: number[] = []
      for (let n = 1; n <= 5; n++) {
        server.publish(round(n))
        await page.waitForFunction((at) => document.body.dataset.at === at, {}, round(n).at)
        draws.push(Number(await page.evaluate(() => document.body.dataset.drawMs)))
      }
      assert.is(await page.$$eval('#grid button.cell', (cells) => cells.length), 64 * 5)
      assert.is(await page.$$eval('#grid .prog', (programs) => programs.length), 64 * 20)
      await page.screenshot({ path: await artifactPath('dashboard-64x20.png') })
      console.log(`  64 servers × 20 programs: draws of ${draws.map((d) => `${d} ms`).join(', ')}`)
    } finally {
      await page.close()
      await server.close()
    }
  },
)

/** A fleet's view without SSH: every 7th process STOPPED and the round's number in the time, so each draw differs. */
function fleetView(servers: string[], sites: { domain: string; servers: string[] }[], round: number): DashboardView {
  const outcomes = servers.map(
    (name, s): ServerOutcome<ServerStatus> => ({
      server: {
        name,
        host: '127.0.0.9',
        groups: [s % 2 ? 'odd' : 'even'],
        siteUser: 'deployer',
        sitesPath: '/srv',
        local: false,
      },
      ok: true,
      applied: [],
      value: {
        daemon: 'running',
        siteDrift: [],
        leftovers: [],
        unknown: [],
        healthy: false,
        programs: sites.flatMap((site) =>
          ['queue', 'mail', 'ws', 'cron'].map((program, p) => {
            const processes = [0, 1].map((i) => ({
              name: `${site.domain}-${program}:${site.domain}-${program}_0${i}`,
              group: `${site.domain}-${program}`,
              process: `${site.domain}-${program}_0${i}`,
              state: (s + p + i + round) % 7 ? 'RUNNING' : 'STOPPED',
              pid: 1000 + i,
              uptime: '1:00:00',
              description: '',
              release: 'r1',
              stale: false,
            }))
            return {
              domain: site.domain,
              program,
              fullName: `${site.domain}-${program}`,
              expected: 2,
              processes,
              running: processes.filter((x) => x.state === 'RUNNING').length,
              drift: [],
            }
          }),
        ),
      },
    }),
  )
  return buildView({ sites }, outcomes, { at: new Date(Date.UTC(2026, 11, 5, 12, 0, round)), allowControl: false })
}

function request(
  port: number,
  requestPath: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: requestPath, method, headers }, (res) => {
      // An event stream never ends: its status is all this needs.
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        res.destroy()
        return resolve({ status: res.statusCode ?? 0, body: '' })
      }
      let text = ''
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

dash.run()
