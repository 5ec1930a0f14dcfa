import { mkdirSync } from 'node:fs'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, ensureBuilt, launch, shot, type Watch, watched } from './browser.js'
import { tempDataDir } from './helpers.js'
import { type ServerProcess, startServer } from './server-process.js'
import { businessDays } from './shape-fixtures.js'

// The customer drill-down's 24-hour profile in a real browser against a real server process: a day whose total is
// normal but whose hours moved (business hours -> 02:30-04:30 UTC) is stored by the job as a shape anomaly; its
// link opens the drill-down on that day's profile against the weekday baseline. A customer with one week of
// history gets the explanation instead of a verdict.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const MOVED = 'profile-moved'
const YOUNG = 'profile-young'
const LAST_HOUR = Math.floor(Date.now() / HOUR) * HOUR
/** The moved day's slot: the latest 06:00 UTC that has passed, so the moved hours (02:30-04:30) are inside it. */
const SLOT = (() => {
  const sixToday = Math.floor(LAST_HOUR / DAY) * DAY + 6 * HOUR
  return sixToday > LAST_HOUR ? sixToday - DAY : sixToday
})()

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON is walked field by field
type Json = Record<string, any>

let browser: Browser
let server: ServerProcess
let context: BrowserContext
let page: Page
let watch: Watch
const data = tempDataDir('meterflow-dashboard-profile-')

async function api(path: string, init: RequestInit = {}): Promise<Json> {
  const res = await fetch(`${server.url}${path}`, init)
  expect(res.ok, `${path}: ${res.status} ${res.ok ? '' : await res.text()}`).toBe(true)
  return res.json()
}
const post = (path: string, body: unknown) =>
  api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

/**
 * Opaque pixels of each stroke colour on a canvas, from one readback (uPlot draws on a transparent canvas: the
 * edges of a line keep its colour at a lower alpha).
 */
function strokePixels(selector: string, colours: [number, number, number][]): Promise<number[]> {
  return page.$eval(
    selector,
    (canvas, rgbs) => {
      const c = canvas as HTMLCanvasElement
      const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray()
      const counts = rgbs.map(() => 0)
      for (let i = 0; i < d.length; i += 4) {
        if ((d[i + 3] ?? 0) <= 120) continue
        rgbs.forEach(([r, g, b], k) => {
          const near =
            Math.abs((d[i] ?? 0) - r) < 16 &&
            Math.abs((d[i + 1] ?? 0) - g) < 16 &&
            Math.abs((d[i + 2] ?? 0) - b) < 16
          if (near) counts[k] = (counts[k] ?? 0) + 1
        })
      }
      return counts
    },
    colours,
  )
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  await ensureBuilt()
  browser = await launch()
  server = await startServer({
    METERFLOW_DATA_DIR: data.dir,
    METERFLOW_AUTH: 'off',
    METERFLOW_SHAPE_ENABLED: '1',
  })
  const events = [...businessDays(MOVED, SLOT, 42, true), ...businessDays(YOUNG, LAST_HOUR, 8, false)]
  for (let i = 0; i < events.length; i += 5000) await post('/v1/events', events.slice(i, i + 5000))
  await post('/v1/runs', { slot: new Date(SLOT).toISOString() })
  ;({ context, page, watch } = await watched(browser, server.url, { timezoneId: 'Asia/Kolkata' }))
}, 120_000)

afterAll(async () => {
  await context?.close()
  await browser?.close()
  await server?.stop()
  data.remove()
})

describe("the customer drill-down's 24-hour profile", () => {
  it("opens from a shape anomaly on that day's profile: both series drawn, similarity against threshold", async () => {
    const stored = (await api(`/v1/anomalies?kind=shape&customer_id=${MOVED}`)).items as Json[]
    expect(stored.map((a) => a.detected_at)).toEqual([new Date(SLOT).toISOString()])
    const expected = (
      await api(
        `/v1/anomalies/check?customer_id=${MOVED}&metric=api_calls&mode=combined&current_end=${new Date(SLOT).toISOString()}`,
      )
    ).shape as Json
    expect(expected).toMatchObject({ status: 'ok', is_anomaly: true, window_basis: 'requested' })

    await page.goto(`${server.url}/anomalies?kind=shape`)
    await page.getByRole('link', { name: MOVED }).first().click()
    await page.waitForURL(/profile_end=/)
    await page.getByRole('heading', { name: '24-hour profile against its weekday baseline' }).waitFor()
    await page.waitForSelector('.profile-chart canvas')
    await page.waitForFunction(
      () => document.querySelectorAll('.profile-chart .u-legend .u-series').length === 4,
    )
    // Both series have pixels of their own colour: the day (blue) and the weekday baseline (slate, dashed).
    const [day, baseline] = await strokePixels('.profile-chart canvas', [
      [29, 78, 216],
      [71, 85, 105],
    ])
    expect(day).toBeGreaterThan(150)
    expect(baseline).toBeGreaterThan(150)
    const text = (await page.locator('section.profile').textContent()) ?? ''
    expect(text).toContain(
      `Similarity ${expected.similarity.toFixed(3)} against threshold ${expected.threshold.toFixed(3)}`,
    )
    expect(text).toContain('The window of the shape detection you opened')
    expect(text).toMatch(/the hours moved, a shape anomaly/)
    // The hour that differs most, named in UTC (the moved usage sits at 02:00-05:00 UTC, or the business hours it left).
    const hour = String(expected.deviation_hour).padStart(2, '0')
    expect(text).toContain(`Largest difference at ${hour}:00–`)
    expect(text).toContain('Hours are UTC hours')
    expect(text).toContain('whether or not the detection job runs shape')
    // The x axis is labelled in UTC hours starting at the window's start (06:00 UTC), not the viewer's zone.
    expect(await page.locator('.profile-chart .u-legend').textContent()).toContain('this window')
    await page.locator('section.profile').scrollIntoViewIfNeeded()
    await shot(page, 'customer-profile.png')
  })

  it('shows the last complete 24 hours by default and says why an unusable window in the URL is ignored', async () => {
    await page.goto(`${server.url}/customers/${MOVED}?metric=api_calls&profile_end=yesterday`)
    await page.getByText('profile_end=yesterday is not a whole hour that has passed').waitFor()
    await page.getByText(/^The last complete 24 hours:/).waitFor()
  })

  it('explains, instead of judging, when a customer has too little history', async () => {
    const expected = (await api(`/v1/anomalies/check?customer_id=${YOUNG}&metric=api_calls&mode=combined`))
      .shape as Json
    expect(expected).toMatchObject({ status: 'insufficient_data', reason: 'too_few_baseline_days' })
    await page.goto(`${server.url}/customers/${YOUNG}?metric=api_calls`)
    await page.getByRole('heading', { name: '24-hour profile against its weekday baseline' }).waitFor()
    await page.getByText(/it needs 2 weeks of history/).waitFor()
    expect(await page.locator('section.profile').textContent()).toContain(expected.message)
    expect(await page.locator('section.profile .profile-verdict').count()).toBe(0)
  })

  it('had no console errors, no failed requests and no request leaving the server', () => {
    expect(watch.problems).toEqual([])
    expect(watch.foreign).toEqual([])
  })
})
