import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'

// GET /v1/anomalies/check?detector=job against what real runs (POST /v1/runs, the default detector: day + recent
// windows, auto baseline, calibration) stored for the same slot, on series where the seed's check and the job's
// detector disagree: a last hour that jumps (the recent window fires, the seed's 24 h z-score does not), a customer
// whose overrides make the day window decide, and a period labelled planned that the job leaves out of baselines.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
/** The slot at which 'planned-co' and its twin begin six hours of 1000 (a load test). */
const BURST = END - 50 * HOUR
let h: Harness

/** Ten days of hourly usage ending at END: 90 and 110 in turn, `override(t)` where it says. */
function hourly(customer: string, override: (t: number) => number | undefined = () => undefined) {
  return Array.from({ length: 240 }, (_, i) => {
    const t = END - (240 - i) * HOUR
    return {
      event_id: `${customer}-${i}`,
      customer_id: customer,
      metric: 'api_calls',
      value: override(t) ?? (i % 2 ? 110 : 90),
      timestamp: t,
    }
  })
}
const lastHourJumps = (t: number) => (t === END - HOUR ? 400 : undefined)
const burstThenJump = (t: number) => (t >= BURST && t < BURST + 6 * HOUR ? 1000 : lastHourJumps(t))

const run = async (slot: number) => {
  h.clock.ms = slot + 30 * 60_000
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/runs',
    payload: { slot: new Date(slot).toISOString() },
  })
  expect(res.statusCode, res.body).toBe(200)
}
const get = async (url: string, status = 200) => {
  const res = await h.app.inject({ method: 'GET', url })
  expect(res.statusCode, res.body).toBe(status)
  return res
}
const check = async (query: string, status = 200) =>
  (await get(`/v1/anomalies/check?metric=api_calls&${query}`, status)).json()

interface StoredAnomaly {
  customer_id: string
  current_value: number
  baseline_mean: number
  baseline_stddev: number
  z_score: number
  samples: number
  severity: string
  direction: string
  window: { start: string; end: string }
}
const storedAt = async (customer: string, slot: number): Promise<StoredAnomaly[]> =>
  (await get(`/v1/anomalies?customer_id=${customer}&since=${slot}&until=${slot + 1}`)).json().items

/** The check's verdict in the stored anomaly's terms: what a run for the slot stored, field for field. */
const asStored = (body: Record<string, unknown> & { baseline: Record<string, unknown> }) => ({
  customer_id: body.customer_id,
  current_value: body.current_value,
  baseline_mean: body.baseline.mean,
  baseline_stddev: body.baseline.stddev,
  z_score: body.z_score,
  samples: body.baseline.samples,
  severity: body.severity,
  direction: body.direction,
  window: body.current_window,
})
const pick = (a: StoredAnomaly) => ({
  customer_id: a.customer_id,
  current_value: a.current_value,
  baseline_mean: a.baseline_mean,
  baseline_stddev: a.baseline_stddev,
  z_score: a.z_score,
  samples: a.samples,
  severity: a.severity,
  direction: a.direction,
  window: a.window,
})

beforeAll(async () => {
  h = await openHarness(END + 30 * 60_000)
  await h.meterflow.ingest(hourly('jumpy', lastHourJumps))
  await h.meterflow.ingest(hourly('tuned', lastHourJumps))
  await h.meterflow.ingest(hourly('planned-co', burstThenJump))
  await h.meterflow.ingest(hourly('twin-co', burstThenJump))
  await h.meterflow.ingest(hourly('calm'))
  // 'tuned' has its own threshold and a day-only detector.
  const put = await h.app.inject({
    method: 'PUT',
    url: '/v1/customers/tuned',
    payload: { threshold: 2, detector: { windows: ['day'] } },
  })
  expect(put.statusCode, put.body).toBe(200)
  // The load test's first hour opens an incident for both; only 'planned-co' is labelled planned, once it is over.
  await run(BURST + HOUR)
  const open = (await get('/v1/incidents?status=open')).json().items as { id: string; customer_id: string }[]
  expect(open.map((i) => i.customer_id).sort()).toEqual(['planned-co', 'twin-co'])
  const planned = open.find((i) => i.customer_id === 'planned-co')
  h.clock.ms = BURST + 7 * HOUR
  const label = await h.app.inject({
    method: 'POST',
    url: `/v1/incidents/${encodeURIComponent(planned?.id ?? '')}/feedback`,
    payload: { label: 'planned', note: 'load test' },
  })
  expect(label.statusCode, label.body).toBe(200)
  await run(END)
}, 120_000)
afterAll(async () => {
  await h?.close()
})

describe('detector=job: what a run for the slot stored', () => {
  it('a last hour that jumps: the recent window fires where the seed z-score does not', async () => {
    const [stored, ...more] = await storedAt('jumpy', END)
    expect(more).toEqual([])
    if (!stored) throw new Error('the run stored no anomaly for jumpy')
    const job = await check(`customer_id=jumpy&detector=job&current_end=${END}`)
    expect(asStored(job)).toStrictEqual(pick(stored))
    expect(job).toMatchObject({
      status: 'ok',
      is_anomaly: true,
      severity: 'critical',
      direction: 'spike',
      detector: 'job',
      slot: new Date(END).toISOString(),
      window: 'recent',
      current_value: 400,
      threshold: 4.5,
      critical_threshold: 5,
      checked: true,
      method: 'zscore',
      baseline: { samples: 168, min_samples: 24 },
      mode: 'combined',
      fired: ['volume'],
      volume: { is_anomaly: true, window: 'recent', z_score: job.z_score },
      detector_settings: { windows: ['day', 'recent'], baseline: 'auto', recent_threshold: 4.5 },
    })
    // The 168 hours before the last: mean 100, stddev 10.
    expect(job.z_score).toBeCloseTo(30, 9)
    expect(job.current_window).toEqual({
      start: new Date(END - HOUR).toISOString(),
      end: new Date(END).toISOString(),
    })
    expect(job.baseline.window).toEqual({
      start: new Date(END - 169 * HOUR).toISOString(),
      end: new Date(END - HOUR).toISOString(),
    })
    // Every window of the detector, judged: the day window had its verdict and did not fire.
    expect(job.window_verdicts.map((w: { window: string }) => w.window)).toEqual(['day', 'recent'])
    expect(job.window_verdicts[0]).toMatchObject({ window: 'day', status: 'ok', is_anomaly: false })
    expect(job.window_verdicts[0].z_score).toBeCloseTo(290 / 120, 12)
    expect(job.window_verdicts[1].calibrated_threshold).toBe(job.calibrated_threshold)

    // The seed's check of the same 24 hours: one window, 5% floor on the day's 2400: z = 290 / 120.
    const seed = await check(`customer_id=jumpy&current_start=${END - DAY}&current_end=${END}`)
    expect(seed).toMatchObject({ status: 'ok', is_anomaly: false, current_value: 2690, method: 'zscore' })
    expect(seed.z_score).toBeCloseTo(290 / 120, 12)
    expect(seed.detector).toBeUndefined()
    expect(seed.window_verdicts).toBeUndefined()
  })

  it('detector=seed is the reply without the parameter, byte for byte', async () => {
    for (const query of [
      `customer_id=jumpy&current_start=${END - DAY}&current_end=${END}`,
      `customer_id=jumpy&mode=volume&current_end=${END - 3 * HOUR}&threshold=2&baseline_days=7`,
      'customer_id=tuned&mode=shape',
    ]) {
      const without = await get(`/v1/anomalies/check?metric=api_calls&${query}`)
      const seed = await get(`/v1/anomalies/check?metric=api_calls&${query}&detector=seed`)
      expect(seed.body, query).toBe(without.body)
    }
  })

  it('judges a customer with overrides by its own threshold and detector (the day window decides)', async () => {
    const [stored] = await storedAt('tuned', END)
    if (!stored) throw new Error('the run stored no anomaly for tuned')
    const job = await check(`customer_id=tuned&detector=job&mode=volume&current_end=${END}`)
    expect(asStored(job)).toStrictEqual(pick(stored))
    expect(job).toMatchObject({
      is_anomaly: true,
      severity: 'warning',
      window: 'day',
      threshold: 2,
      critical_threshold: 5,
      current_value: 2690,
      baseline: { samples: 9, mean: 2400 },
      detector_settings: { windows: ['day'] },
    })
    expect(job.window_verdicts.map((w: { window: string }) => w.window)).toEqual(['day'])
    expect(job.current_window).toEqual({
      start: new Date(END - DAY).toISOString(),
      end: new Date(END).toISOString(),
    })
    // The seed's check knows nothing of the customer's threshold.
    const seed = await check(`customer_id=tuned&mode=volume&current_end=${END}`)
    expect(seed).toMatchObject({ is_anomaly: false, threshold: 3 })
  })

  it('leaves a period labelled planned out of the baseline, as the run did; its unlabelled twin does not fire', async () => {
    const [stored] = await storedAt('planned-co', END)
    if (!stored) throw new Error('the run stored no anomaly for planned-co')
    const job = await check(`customer_id=planned-co&detector=job&current_end=${END}`)
    expect(asStored(job)).toStrictEqual(pick(stored))
    // The label covers [opened - 24 h, labelled at): the hours ending 43..72 hours before END leave the 168.
    expect(job).toMatchObject({ is_anomaly: true, window: 'recent', baseline: { samples: 138 } })
    expect(job.z_score).toBeCloseTo(30, 9)
    // The day window: the three days that overlap the label are not samples, six remain (7 needed).
    expect(job.window_verdicts[0]).toMatchObject({
      window: 'day',
      status: 'insufficient_data',
      baseline: { samples: 6 },
    })

    expect(await storedAt('twin-co', END)).toEqual([])
    const twin = await check(`customer_id=twin-co&detector=job&current_end=${END}`)
    expect(twin).toMatchObject({ status: 'ok', is_anomaly: false, severity: null, direction: null })
    expect(twin.window_verdicts[1].baseline.samples).toBe(168)
  })

  it('defaults to the latest slot and takes current_start 24 hours before current_end', async () => {
    const given = await check(`customer_id=jumpy&detector=job&mode=volume&current_end=${END}`)
    h.clock.ms = END + 59 * 60_000
    expect(await check('customer_id=jumpy&detector=job&mode=volume')).toStrictEqual(given)
    const both = `current_start=${END - DAY}&current_end=${END}`
    expect(await check(`customer_id=jumpy&detector=job&mode=volume&${both}`)).toStrictEqual(given)
    h.clock.ms = END + 30 * 60_000
  })

  it('keeps shape as it is in combined and shape mode', async () => {
    const combined = await check(`customer_id=calm&detector=job&current_end=${END}`)
    const seedCombined = await check(`customer_id=calm&current_end=${END}`)
    expect(combined.shape).toStrictEqual(seedCombined.shape)
    expect(combined).toMatchObject({ detector: 'job', is_anomaly: false, window: 'day' })
    const shape = await check(`customer_id=calm&mode=shape&detector=job&current_end=${END}`)
    const { detector, ...rest } = shape
    expect(detector).toBe('job')
    expect(rest).toStrictEqual(await check(`customer_id=calm&mode=shape&current_end=${END}`))
  })

  it('says when the job does not check the series, and why there is no verdict', async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/customers/dormant',
      payload: { status: 'disabled' },
    })
    expect(put.statusCode, put.body).toBe(200)
    const body = await check(`customer_id=dormant&detector=job&mode=volume&current_end=${END}`)
    expect(body).toMatchObject({
      checked: false,
      status: 'insufficient_data',
      is_anomaly: false,
      z_score: null,
    })
    expect(body.message).toMatch(/day 0 of 7, recent 0 of 24/)
  })
})

describe('the OpenAPI document', () => {
  it('lists detector with its values, and the fields a job reply adds', async () => {
    const doc = (await get('/openapi.json')).json()
    const op = doc.paths['/v1/anomalies/check'].get
    const param = op.parameters.find((p: { name: string }) => p.name === 'detector')
    expect(param.schema.enum).toEqual(['seed', 'job'])
    const reply = op.responses['200'].content['application/json'].schema.properties
    for (const field of [
      'detector',
      'slot',
      'window',
      'calibrated_threshold',
      'checked',
      'detector_settings',
    ]) {
      expect(reply[field], field).toBeDefined()
    }
    expect(reply.window_verdicts.items.properties.calibrated_threshold).toBeDefined()
  })
})

describe('bad detector=job requests', () => {
  const cases: [string, string, string, RegExp][] = [
    ['an unknown detector', 'detector=robust', 'detector', /seed, job/],
    ['an empty detector', 'detector=', 'detector', /seed, job/],
    ['an end off the hour', `detector=job&current_end=${END - 1}`, 'current_end', /whole hour/],
    ['an end to come', `detector=job&current_end=${END + HOUR}`, 'current_end', /future/],
    [
      'a window of 23 hours',
      `detector=job&current_start=${END - 23 * HOUR}&current_end=${END}`,
      'current_start',
      /exactly 24 hours/,
    ],
    ['a start without an end', `detector=job&current_start=${END - DAY}`, 'current_end', /required/],
    ['a threshold', `detector=job&threshold=4`, 'threshold', /detector=seed/],
    ['baseline_days', `detector=job&baseline_days=7`, 'baseline_days', /detector=seed/],
    ['a critical threshold', `detector=job&critical_threshold=9`, 'critical_threshold', /detector=seed/],
  ]
  for (const [name, query, field, reason] of cases) {
    it(`rejects ${name} with a 400 naming ${field}`, async () => {
      const body = await check(`customer_id=jumpy&${query}`, 400)
      expect(body.error).toBe('validation_failed')
      const detail = body.details.find((d: { field: string }) => d.field === field)
      expect(detail, JSON.stringify(body)).toBeDefined()
      expect(detail.reason).toMatch(reason)
    })
  }
})
