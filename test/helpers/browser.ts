import fs from 'node:fs/promises'
import path from 'node:path'
import puppeteer, { type Browser } from 'puppeteer-core'
import { PROJECT } from './run-task.ts'

// Debian's chromium, headless, driven over the DevTools protocol (puppeteer-core: no browser download).

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Screenshots and other files a test leaves for a person to look at (git-ignored). */
export const ARTIFACTS = path.join(PROJECT, 'test', 'artifacts')

export async function launchBrowser(): Promise<Browser> {
  await fs.access(CHROMIUM).catch(() => {
    throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`)
  })
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: chromium's own sandbox needs user namespaces it may not get.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,900'],
    defaultViewport: { width: 1400, height: 900 },
  })
}

export async function artifactPath(name: string): Promise<string> {
  await fs.mkdir(ARTIFACTS, { recursive: true })
  return path.join(ARTIFACTS, name)
}
