import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'
import { generateDemo } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { type Harness, openHarness } from './helpers.js'
import { Receiver } from './receiver.js'

// GET /metrics after real work (ingest over HTTP, a run, alert deliveries to a local webhook receiver, reads):
// the exposition is parsed and every number is checked against what happened.

const END = Date.UTC(2026, 10, 25, 12)
const webhook = new Receiver()
let h: Harness
let totalEvents = 0
let bodyBytes = 0
let replayedEvents = 0
let eventPosts = 0

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The Prometheus text format, samples only (comments skipped); label values unescaped. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    const raw = m[3] as string
    const value =
      raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw)
    samples.push({ name: m[1] as string, labels, value })
  }
  return samples
}

async function scrape(): Promise<Sample[]> {
  const res = await h.app.inject({ method: 'GET', url: '/metrics' })
  expect(res.statusCode, res.body).toBe(200)
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(res.body)
}

/** The one sample with this name whose labels include `labels` (undefined when there is none). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`)
  return found[0]?.value
}

const postEvents = async (batch: unknown[]) => {
  const body = JSON.stringify(batch)
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/json' },
    payload: body,
  })
  expect(res.statusCode, res.body).toBe(200)
  bodyBytes += Buffer.byteLength(body)
  eventPosts++
  return res.json()
}

beforeAll(async () => {
  await webhook.start()
  // The first delivery attempt fails (retried later), the others succeed: both outcomes get counted.
  let answered = 0
  webhook.behaviour = () => (answered++ === 0 ? { status: 503 } : { status: 200, body: 'ok' })
  h = await openHarness(END + 10 * 60_000, { alerts: { webhook: { url: webhook.url } } })
  const dataset = generateDemo({ customers: 12, days: 35, seed: 5, endMs: END })
  let first: unknown[] | null = null
  totalEvents = await loadDemo(dataset, async (batch) => {
    first ??= batch
    return postEvents(batch)
  })
  // A batch sent twice: its events are duplicates the second time.
  const again = first as unknown as unknown[]
  replayedEvents = again.length
  expect(await postEvents(again)).toMatchObject({ stored: 0, duplicates: replayedEvents })
})
afterAll(async () => {
  await h?.close()
  await webhook.stop()
})

describe('GET /metrics', () => {
  it('is a read-scope route outside /v1', () => {
    expect(h.app.routeScopes.get('GET /metrics')).toBe('read')
  })

  it('counts ingested events and bytes as they were sent', async () => {
    const s = await scrape()
    expect(value(s, 'meterflow_ingested_events_total', { outcome: 'stored' })).toBe(totalEvents)
    expect(value(s, 'meterflow_ingested_events_total', { outcome: 'duplicates' })).toBe(replayedEvents)
    expect(value(s, 'meterflow_ingested_events_total', { outcome: 'conflicts' })).toBe(0)
    expect(value(s, 'meterflow_ingested_bytes_total')).toBe(bodyBytes)
    expect(totalEvents).toBeGreaterThan(1000)
    // Nothing has run yet: the run counters exist at zero.
    expect(value(s, 'meterflow_detection_runs_total', { status: 'completed' })).toBe(0)
  })

  it('reports a run, its anomalies by severity, open incidents and alert deliveries as recorded', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { slot: new Date(END).toISOString() },
    })
    expect(res.statusCode, res.body).toBe(200)
    const run = res.json()
    expect(run.status).toBe('completed')
    expect(run.anomalies_found).toBeGreaterThan(0)
    // The delivery pass the run started, joined (the failed attempt's retry is not due: the clock stands still).
    await h.meterflow.alerts.deliver()

    const anomalies = (
      await h.app.inject({ method: 'GET', url: `/v1/anomalies?since=${END}&limit=1000` })
    ).json().items as { severity: string }[]
    const open = (await h.app.inject({ method: 'GET', url: '/v1/incidents?status=open&limit=1000' })).json()
      .items as { id: string }[]
    expect(open.length).toBeGreaterThan(0)
    const incidentId = open[0]?.id ?? ''
    expect((await h.app.inject({ method: 'GET', url: `/v1/incidents/${incidentId}` })).statusCode).toBe(200)
    expect((await h.app.inject({ method: 'GET', url: `/v1/runs/${run.run_id}` })).statusCode).toBe(200)
    expect((await h.app.inject({ method: 'GET', url: '/v1/runs/no-such-run' })).statusCode).toBe(404)
    expect((await h.app.inject({ method: 'GET', url: '/no/such/path/42' })).statusCode).toBe(404)

    const s = await scrape()
    expect(value(s, 'meterflow_detection_runs_total', { status: 'completed' })).toBe(1)
    expect(value(s, 'meterflow_detection_runs_total', { status: 'failed' })).toBe(0)
    expect(value(s, 'meterflow_detection_run_duration_seconds_count')).toBe(1)
    expect(value(s, 'meterflow_detection_run_duration_seconds_sum')).toBe(run.duration_ms / 1000)
    expect(value(s, 'meterflow_series_checked_total')).toBe(run.checked)
    const bySeverity = (severity: string) => anomalies.filter((a) => a.severity === severity).length
    const warning = value(s, 'meterflow_anomalies_found_total', { severity: 'warning' })
    const critical = value(s, 'meterflow_anomalies_found_total', { severity: 'critical' })
    expect(warning).toBe(bySeverity('warning'))
    expect(critical).toBe(bySeverity('critical'))
    expect((warning ?? 0) + (critical ?? 0)).toBe(run.anomalies_found)
    expect(value(s, 'meterflow_open_incidents')).toBe(open.length)

    // Deliveries: what the receiver saw, split by what it answered.
    const answers = webhook.received.length
    expect(answers).toBeGreaterThan(1)
    expect(value(s, 'meterflow_alert_deliveries_total', { channel: 'webhook', outcome: 'retrying' })).toBe(1)
    expect(value(s, 'meterflow_alert_deliveries_total', { channel: 'webhook', outcome: 'delivered' })).toBe(
      answers - 1,
    )
    expect(value(s, 'meterflow_alert_deliveries_total', { channel: 'webhook', outcome: 'failed' })).toBe(0)
    const delivered = await h.meterflow.anomalies.alerts.list({
      status: 'delivered',
      channel: 'webhook',
      limit: 1000,
    })
    expect(delivered.items.length).toBe(answers - 1)

    // HTTP latency: labelled by route pattern, method and status class; never by a raw id.
    const http = 'meterflow_http_request_duration_seconds_count'
    const count = (route: string, method: string, statusClass: string) =>
      value(s, http, { route, method, status_class: statusClass })
    expect(count('/v1/events', 'POST', '2xx')).toBe(eventPosts)
    expect(count('/v1/runs', 'POST', '2xx')).toBe(1)
    expect(count('/v1/incidents/:id', 'GET', '2xx')).toBe(1)
    expect(count('/v1/runs/:id', 'GET', '2xx')).toBe(1)
    expect(count('/v1/runs/:id', 'GET', '4xx')).toBe(1)
    expect(count('unmatched', 'GET', '4xx')).toBe(1)
    const routes = new Set(s.filter((x) => x.name.startsWith('meterflow_http_')).map((x) => x.labels.route))
    for (const route of routes) {
      expect(route).not.toContain(run.run_id)
      expect(route).not.toContain(incidentId)
      expect(route).not.toContain('no-such-run')
      expect(route).not.toContain('/no/such')
    }
    // The previous scrape is counted once its response was sent.
    expect(count('/metrics', 'GET', '2xx')).toBe(1)
    // Process metrics come from the instance's own registry.
    expect(value(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
  })
})

describe('METERFLOW_METRICS', () => {
  it('is on by default, takes on or off, and rejects anything else naming the variable', () => {
    expect(loadConfig({}).metrics).toBe('on')
    expect(loadConfig({ METERFLOW_METRICS: 'off' }).metrics).toBe('off')
    expect(() => loadConfig({ METERFLOW_METRICS: 'yes' })).toThrow(/metrics \(METERFLOW_METRICS\)/)
  })
})
