import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, ensureBuilt, launch, shot, watched } from './browser.js'
import { tempDataDir } from './helpers.js'
import { startServer } from './server-process.js'

// Signing in to the dashboard with an API key, in a real browser, with authentication on (the default).

let browser: Browser

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  await ensureBuilt()
  browser = await launch()
}, 120_000)
afterAll(async () => {
  await browser?.close()
})

describe('signing in with a key (auth on)', () => {
  it('asks for a key once, keeps it out of page-readable storage, and shows the dashboard', async () => {
    const key = `mf_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`
    const other = tempDataDir('meterflow-dashboard-auth-')
    const server = await startServer({ METERFLOW_DATA_DIR: other.dir, METERFLOW_ADMIN_KEY: key })
    const { context, page, watch } = await watched(browser, server.url)
    try {
      await page.goto(`${server.url}/incidents`)
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
      await page.getByLabel('API key').fill(key)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: 'Incidents', exact: true }).waitFor()
      await page.getByText('No incidents match these filters.').waitFor()
      const readable = await page.evaluate(() => ({
        cookie: document.cookie,
        local: JSON.stringify(localStorage),
        session: JSON.stringify(sessionStorage),
      }))
      expect(readable).toEqual({ cookie: '', local: '{}', session: '{}' })
      expect((await context.cookies()).find((c) => c.name === 'meterflow_session')?.httpOnly).toBe(true)
      // A reload stays signed in (the cookie), without asking again.
      await page.reload()
      await page.getByRole('heading', { name: 'Incidents', exact: true }).waitFor()
      await shot(page, 'signed-in-empty.png')
      expect(watch.problems).toEqual([])
      expect(watch.foreign).toEqual([])
    } finally {
      await context.close()
      await server.stop()
      other.remove()
    }
  })
})
