import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { DASHBOARD_ROOT } from '../src/http/dashboard.js'

// Driving the dashboard in Debian's chromium (playwright-core; a browser is never downloaded).

export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS = resolve('test-artifacts')
const BUILD_LOCK = resolve('dist/.web-build.lock')

/**
 * Builds the dashboard when dist/web is missing or older than any of its sources (a second or two). Test files
 * run in parallel processes: one builds (holding a lock file), the others wait for it and find the build fresh.
 */
export async function ensureBuilt(): Promise<void> {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const path = join(dir, entry.name)
      return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
    }, 0)
  const index = join(DASHBOARD_ROOT, 'index.html')
  const fresh = () =>
    existsSync(index) &&
    statSync(index).mtimeMs >=
      Math.max(newest(resolve('web')), statSync(resolve('src/domain/dashboard-pages.ts')).mtimeMs)
  for (const deadline = Date.now() + 120_000; !fresh(); ) {
    let lock: number
    try {
      mkdirSync(dirname(BUILD_LOCK), { recursive: true })
      lock = openSync(BUILD_LOCK, 'wx')
    } catch {
      if (Date.now() > deadline)
        throw new Error(`${BUILD_LOCK} held for 2 minutes: remove it if no build runs`)
      await new Promise((r) => setTimeout(r, 200))
      continue
    }
    try {
      if (!fresh()) {
        const vite = resolve('node_modules/vite/bin/vite.js')
        const args = ['build', 'web', '--outDir', '../dist/web', '--emptyOutDir', '--logLevel', 'warn']
        execFileSync(process.execPath, [vite, ...args], { stdio: 'inherit' })
      }
    } finally {
      closeSync(lock)
      rmSync(BUILD_LOCK, { force: true })
    }
  }
}

export function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does). This test never downloads a browser.`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** Everything that went wrong in the browser: console errors, page errors, failed or foreign requests. */
export interface Watch {
  problems: string[]
  foreign: string[]
}

export async function watched(
  browser: Browser,
  server: string,
  options: Parameters<Browser['newContext']>[0] = {},
) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options })
  const watch: Watch = { problems: [], foreign: [] }
  const origin = new URL(server).origin
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (new URL(url).origin === origin) return route.continue()
    watch.foreign.push(url)
    return route.abort()
  })
  const page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      watch.problems.push(`console ${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => watch.problems.push(`page error: ${e.message}`))
  page.on('requestfailed', (r) => watch.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`))
  page.on('response', (r) => {
    if (r.status() >= 400) watch.problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`)
  })
  return { context, page, watch }
}

/**
 * What a canvas shows, from one readback: pixels that are not blank (transparent or white), and pixels of the
 * threshold band's fill (uPlot draws it translucent: the band colour at low alpha).
 */
export async function canvasPixels(page: Page, selector: string): Promise<{ drawn: number; band: number }> {
  return page.$eval(selector, (canvas) => {
    const c = canvas as HTMLCanvasElement
    const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray()
    let drawn = 0
    let band = 0
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0, data[i + 3] ?? 0]
      if (a > 0 && !(r > 245 && g > 245 && b > 245)) drawn++
      if (a > 20 && a < 80 && Math.abs(r - 71) < 12 && Math.abs(g - 85) < 12 && Math.abs(b - 105) < 12) band++
    }
    return { drawn, band }
  })
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, name), fullPage: true })
