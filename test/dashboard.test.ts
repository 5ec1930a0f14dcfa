import { mkdirSync } from 'node:fs'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHOWCASE } from '../src/demo/generator.js'
import { ARTIFACTS, canvasPixels, ensureBuilt, launch, shot, type Watch, watched } from './browser.js'
import { tempDataDir } from './helpers.js'
import { freePort, type ServerProcess, startServer } from './server-process.js'

// The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real server process
// with demo data: what an on-call engineer does, and nothing leaving the machine.

const HOUR = 3_600_000

let browser: Browser
const data = tempDataDir('meterflow-dashboard-')

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  await ensureBuilt()
  browser = await launch()
}, 120_000)
afterAll(async () => {
  await browser?.close()
  data.remove()
})

describe('the dashboard with demo data (auth off on loopback)', () => {
  let server: ServerProcess
  let context: BrowserContext
  let page: Page
  let watch: Watch
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.url}${path}`, init)
    expect(res.ok, `${path}: ${res.status}`).toBe(true)
    return res.json()
  }

  beforeAll(async () => {
    // Alerts go to a webhook nobody listens on, one attempt each: failed deliveries to show and retry.
    const closedPort = await freePort()
    server = await startServer({
      METERFLOW_DATA_DIR: data.dir,
      METERFLOW_AUTH: 'off',
      METERFLOW_DEMO: '1',
      METERFLOW_DEMO_CUSTOMERS: '12',
      METERFLOW_DEMO_DAYS: '35',
      METERFLOW_WEBHOOK_URL: `http://127.0.0.1:${closedPort}/hook`,
      METERFLOW_ALERT_MAX_ATTEMPTS: '1',
      METERFLOW_PUBLIC_URL: 'http://dashboard.example',
    })
    const now = Math.floor(Date.now() / HOUR) * HOUR
    for (const slot of [now - 2 * HOUR, now - HOUR, now]) {
      await api('/v1/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ slot: new Date(slot).toISOString() }),
      })
    }
    // Wait for the deliveries to be tried (and fail) once.
    for (let i = 0; i < 100; i++) {
      if ((await api('/v1/alerts?status=failed&limit=1')).items.length > 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    ;({ context, page, watch } = await watched(browser, server.url, { timezoneId: 'America/New_York' }))
  }, 120_000)
  afterAll(async () => {
    await context?.close()
    await server?.stop()
  })

  it('shows the open demo incidents, the anomalies chart, the runs and the failed deliveries', async () => {
    const started = Date.now()
    await page.goto(`${server.url}/`)
    await page.getByRole('heading', { name: /Open incidents \(\d+\)/ }).waitFor()
    const firstViewMs = Date.now() - started
    const open = await api('/v1/incidents?status=open&limit=1000')
    expect(open.items.length).toBeGreaterThan(0)
    await expect(
      page.getByRole('heading', { name: `Open incidents (${open.items.length})` }).count(),
    ).resolves.toBe(1)
    await page.getByRole('cell', { name: SHOWCASE.spike }).first().waitFor()
    await page.waitForSelector('.chart canvas')
    expect((await canvasPixels(page, '.chart canvas')).drawn).toBeGreaterThan(200)
    expect(await page.locator('tr.row-failed').count()).toBeGreaterThan(0)
    expect(await page.getByRole('button', { name: /^Retry delivery/ }).count()).toBeGreaterThan(0)
    // Times in the viewer's zone, UTC on hover.
    const stamp = page.locator('time').first()
    expect(await stamp.getAttribute('title')).toMatch(/Z \(UTC\)$/)
    await shot(page, 'overview.png')
    console.log(`dashboard first view: ${firstViewMs} ms to the open incidents`)
    expect(firstViewMs).toBeLessThan(5_000)
  })

  it('retries a failed delivery from the overview', async () => {
    const failed = (await api('/v1/alerts?status=failed&limit=1000')).items as {
      id: string
      channel: string
    }[]
    const first = failed[0] as { id: string; channel: string }
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/retry') && r.request().method() === 'POST'),
      page
        .getByRole('button', { name: /^Retry delivery/ })
        .first()
        .click(),
    ])
    expect(response.status()).toBe(202)
    await page.getByText(/queued again/).waitFor()
    const retried = (await response.json()) as { id: string; attempts: number }
    expect(failed.map((d) => d.id)).toContain(retried.id)
    expect(first).toBeDefined()
  })

  it('filters the incidents table through the URL, server-side', async () => {
    await page.getByRole('link', { name: 'Incidents', exact: true }).click()
    await page.getByRole('heading', { name: 'Incidents', exact: true }).waitFor()
    await page.getByLabel('Metric').selectOption('api_calls')
    await page.getByLabel('Status').selectOption('open')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/metric=api_calls/)
    // The page shows the new rows once it is no longer busy (the old table stays until then).
    await page.waitForSelector('#main:not([aria-busy])')
    expect(new URL(page.url()).searchParams.get('status')).toBe('open')
    await page.locator('tbody tr').first().waitFor()
    const metrics = await page.locator('tbody tr td:nth-child(3)').allTextContents()
    expect(metrics.length).toBeGreaterThan(0)
    expect(new Set(metrics)).toEqual(new Set(['api_calls']))
    const expected = await api('/v1/incidents?status=open&metric=api_calls&limit=50')
    expect(metrics.length).toBe(expected.items.length)
    // The URL is the state: opened afresh, it shows the same filtered table.
    await page.reload()
    await page.locator('tbody tr').first().waitFor()
    expect(await page.getByLabel('Metric').inputValue()).toBe('api_calls')
    expect(await page.locator('tbody tr').count()).toBe(expected.items.length)
    await shot(page, 'incidents-filtered.png')
  })

  it('sorts the incidents table and filters it by signal, server-side, kept in the URL', async () => {
    await page.getByLabel('Metric').selectOption('')
    await page.getByLabel('Sort').selectOption({ label: 'strongest |peak z| first' })
    await page.getByLabel('Signal').selectOption('volume')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/sort=-peak_z_score/)
    await page.waitForSelector('#main:not([aria-busy])')
    const url = new URL(page.url()).searchParams
    expect([url.get('kind'), url.get('metric'), url.get('status')]).toEqual(['volume', null, 'open'])
    const expected = (await api('/v1/incidents?status=open&kind=volume&sort=-peak_z_score&limit=50'))
      .items as { peak_z_score: number; customer_id: string }[]
    expect(expected.length).toBeGreaterThan(1)
    const magnitudes = expected.map((i) => Math.abs(i.peak_z_score))
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a))
    await page.locator('tbody tr').first().waitFor()
    expect(await page.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(
      expected.map((i) => i.customer_id),
    )
    expect(await page.getByRole('columnheader', { name: /Peak z/ }).getAttribute('aria-sort')).toBe(
      'descending',
    )
    expect(await page.locator('tbody tr td:nth-child(6)').first().textContent()).toMatch(/^volume/)
    // The URL is the state: reloaded, the order and the filter stay.
    await page.reload()
    await page.locator('tbody tr').first().waitFor()
    expect(await page.getByLabel('Sort').inputValue()).toBe('-peak_z_score')
    expect(await page.getByLabel('Signal').inputValue()).toBe('volume')
    await shot(page, 'incidents-sorted.png')
    // A signal with no incidents says so and what to do.
    await page.goto(`${server.url}/incidents?kind=shape&status=open&customer_id=nobody`)
    await page.getByText('No incidents match these filters.').waitFor()
  })

  it('sorts the anomalies table critical first, and pages on in that order', async () => {
    await page.goto(`${server.url}/anomalies`)
    await page.getByRole('heading', { name: 'Anomalies', exact: true }).waitFor()
    await page.getByLabel('Sort').selectOption('severity')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/sort=severity/)
    await page.waitForSelector('#main:not([aria-busy])')
    const first = await api('/v1/anomalies?sort=severity&limit=50')
    const severities = await page.locator('tbody tr td:nth-child(4)').allTextContents()
    expect(severities).toEqual(first.items.map((a: { severity: string }) => a.severity))
    expect(severities).toEqual([...severities].sort())
    // Each volume record names the window that fired; shape records have none.
    expect(await page.locator('tbody tr td:nth-child(6)').allTextContents()).toEqual(
      first.items.map((a: { window_kind?: string | null }) => a.window_kind ?? '—'),
    )
    expect(
      first.items.filter((a: { kind: string; window_kind?: string }) => a.kind === 'volume').length,
    ).toBeGreaterThan(0)
    for (const a of first.items.filter((a: { kind: string }) => a.kind === 'volume'))
      expect(['day', 'hour', 'recent']).toContain(a.window_kind)
    expect(await page.getByRole('columnheader', { name: /Severity/ }).getAttribute('aria-sort')).toBe(
      'ascending',
    )
    if (first.next_cursor) {
      await page.getByRole('link', { name: 'Next page »' }).click()
      await page.waitForURL(/cursor=/)
      await page.waitForSelector('#main:not([aria-busy])')
      expect(new URL(page.url()).searchParams.get('sort')).toBe('severity')
      const second = await api(`/v1/anomalies?sort=severity&limit=50&cursor=${first.next_cursor}`)
      expect(await page.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(
        second.items.map((a: { customer_id: string }) => a.customer_id),
      )
    }
    await shot(page, 'anomalies-by-severity.png')
    await page.goto(`${server.url}/incidents?status=open&metric=api_calls`)
    await page.locator('tbody tr').first().waitFor()
  })

  it('says beside the filters why the server refused them, and keeps the form usable', async () => {
    // Its own page: the browser logs the 400 response, which the watched page must not see.
    const other = await browser.newContext({ offline: false })
    try {
      const tab = await other.newPage()
      await tab.goto(`${server.url}/anomalies?since=yesterday-ish`)
      await tab.getByText(/^since:/).waitFor()
      await tab.getByText('Choose another order or filter (Clear resets them all).').waitFor()
      await tab.getByRole('link', { name: 'Clear' }).click()
      await tab.locator('tbody tr').first().waitFor()
    } finally {
      await other.close()
    }
  })

  it("opens a customer's drill-down: the usage curve, the baseline band and the anomaly markers", async () => {
    await page.getByRole('link', { name: SHOWCASE.spike }).first().click()
    await page.getByRole('heading', { name: `Customer ${SHOWCASE.spike}` }).waitFor()
    await page.waitForSelector('.chart canvas')
    await page.waitForFunction(() => document.querySelectorAll('.u-legend .u-series').length >= 6)
    const pixels = await canvasPixels(page, '.chart canvas')
    expect(pixels.drawn).toBeGreaterThan(1000)
    // The band is filled: a wide strip of the band colour, not only its edges.
    expect(pixels.band).toBeGreaterThan(20_000)
    const legend = (await page.locator('.u-legend').first().textContent()) ?? ''
    expect(legend).toContain('baseline mean')
    expect(legend).toMatch(/band high/)
    expect(legend).toMatch(/band low/)
    // The band is drawn from the server's series: its upper edge has values.
    const series = await api(`/v1/customers/${SHOWCASE.spike}/series?metric=api_calls`)
    expect(series.points.filter((p: { upper: number | null }) => p.upper !== null).length).toBeGreaterThan(
      100,
    )
    await page.getByText(/Anomalies in this range: \d+/).waitFor()
    await shot(page, 'customer-drilldown.png')
  })

  it("shows the customer's alert deliveries (failed ones with Retry) and detector settings in the drill-down", async () => {
    const expected = (await api(`/v1/customers/${SHOWCASE.spike}/alerts?limit=20`)).items as {
      id: string
      status: string
      channel: string
      alert: { customer_id: string }
    }[]
    expect(expected.length).toBeGreaterThan(0)
    expect(new Set(expected.map((d) => d.alert.customer_id))).toEqual(new Set([SHOWCASE.spike]))
    const section = page.getByRole('table', { name: /Alert deliveries of/ })
    await section.waitFor()
    expect(await section.locator('tbody tr').count()).toBe(expected.length)
    expect(await section.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(
      expected.map((d) => d.channel),
    )
    await page.getByRole('heading', { name: 'Detector settings' }).waitFor()
    await section.scrollIntoViewIfNeeded()
    await shot(page, 'customer-alerts.png')
    const failed = expected.filter((d) => d.status === 'failed')
    if (failed.length > 0) {
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/retry') && r.request().method() === 'POST'),
        section
          .getByRole('button', { name: /^Retry delivery/ })
          .first()
          .click(),
      ])
      expect(response.status()).toBe(202)
      await page.getByText(/queued again/).waitFor()
    }
  })

  it('acknowledges an incident from its page (the link alerts carry) and the API shows it', async () => {
    const open = (await api(`/v1/incidents?status=open&customer_id=${SHOWCASE.spike}`)).items as {
      id: string
      metric: string
    }[]
    const incident = open.find((i) => i.metric === 'api_calls') as { id: string }
    expect(incident).toBeDefined()
    // The webhook alert for it links to this page.
    const alerts = (await api('/v1/alerts?limit=1000')).items as {
      alert: { incident_id: string; link: string }
    }[]
    const link = alerts.find((a) => a.alert.incident_id === incident.id)?.alert.link
    expect(link).toBe(`http://dashboard.example/incidents/${encodeURIComponent(incident.id)}`)
    await page.goto(`${server.url}${new URL(link as string).pathname}`)
    await page.getByRole('heading', { name: `${SHOWCASE.spike} · api_calls` }).waitFor()
    await page.waitForSelector('.chart canvas')
    await page.getByRole('button', { name: 'Acknowledge' }).click()
    await page.getByText('Incident acknowledged.').waitFor()
    await page.getByRole('button', { name: 'Acknowledged' }).waitFor()
    const after = await api(`/v1/incidents/${encodeURIComponent(incident.id)}`)
    expect(after.acknowledged_at).not.toBeNull()
    await shot(page, 'incident-acknowledged.png')
  })

  it('labels and mutes through the existing API', async () => {
    await page.getByLabel('Note').fill('load test')
    await page.getByRole('button', { name: 'Planned' }).click()
    await page.getByText('Labelled planned.').waitFor()
    await page.getByRole('button', { name: 'Mute alerts' }).click()
    await page.getByText(/^Muted for/).waitFor()
    const mutes = (await api('/v1/mutes')).items as { customer_id: string; metric: string }[]
    expect(mutes).toContainEqual(
      expect.objectContaining({ customer_id: SHOWCASE.spike, metric: 'api_calls' }),
    )
  })

  it('is keyboard reachable with a visible focus, and readable at phone width', async () => {
    await page.goto(`${server.url}/`)
    await page.getByRole('heading', { name: /Open incidents/ }).waitFor()
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement
      return { tag: el.tagName, outline: getComputedStyle(el).outlineStyle }
    })
    expect(focused.tag).toBe('A')
    expect(focused.outline).not.toBe('none')
    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForTimeout(200)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await shot(page, 'overview-phone.png')
    // The tables with their filters and order: the page does not scroll sideways (a wide table scrolls in its box).
    await page.goto(`${server.url}/incidents?sort=-peak_z_score&kind=volume`)
    await page.locator('tbody tr').first().waitFor()
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0)
    await shot(page, 'incidents-phone.png')
  })

  it('had no console errors, no failed requests and no request leaving the server', () => {
    expect(watch.problems).toEqual([])
    expect(watch.foreign).toEqual([])
  })
})
