import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'
import { type Received, Receiver } from './receiver.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// The outbox end to end on the embedded store with the real webhook channel and a real local receiver:
// retries, receivers that fail / hang / are down, dead letters, mutes, acknowledgement.

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 10, 25, 13)
const RETRY_MS = 1000
const receiver = new Receiver()
let h: Harness

const CUSTOMERS = [
  'cust-a',
  'cust-b',
  'cust-c',
  'cust-d',
  'cust-e',
  'cust-f',
  'cust-g',
  'cust-h',
  'cust-i',
  'cust-j',
  'cust-k',
]

beforeAll(async () => {
  await receiver.start()
  h = await openHarness(T0, {
    alerts: {
      webhook: { url: receiver.url, secret: 'a-webhook-secret-of-32-characters' },
      maxAttempts: 3,
      retryBaseMs: RETRY_MS,
      retryMaxMs: 10 * RETRY_MS,
      timeoutMs: 300,
    },
  })
  // Every scenario's customer has 32 quiet days before T0; each scenario adds its own spike later.
  const res = await h.meterflow.ingest(steadyDaily(CUSTOMERS, T0))
  expect(res.stored).toBeGreaterThan(200)
})
afterAll(async () => {
  await h?.close()
  await receiver.stop()
})

/** Ingests a spike for `customer` half an hour before `slot`, then runs that slot with the clock at it. */
async function spikeAndRun(customer: string, slot: number, value = 5000) {
  h.clock.ms = slot
  await h.meterflow.ingest(extra([customer], slot - HOUR / 2, value))
  const { run } = await h.meterflow.job.runNow(slot, 'api')
  expect(run.status).toBe('completed')
  return run
}
const later = (ms: number) => {
  h.clock.ms += ms
}
const about = (customer: string) => (r: Received) => r.body.includes(`"customer_id":"${customer}"`)
const deliveriesOf = async (customer: string) =>
  (await h.meterflow.anomalies.alerts.list({ limit: 1000 })).items.filter(
    (d) => d.alert.kind === 'incident' && d.alert.incident.customerId === customer,
  )

describe('alert delivery through the outbox', () => {
  it('retries a receiver that answers 500 until it accepts, then never sends that alert again', async () => {
    let failures = 2
    receiver.behaviour = (r) => (about('cust-a')(r) && failures-- > 0 ? { status: 500 } : { status: 200 })
    await spikeAndRun('cust-a', T0)
    expect(await h.meterflow.alerts.deliver()).toMatchObject({ delivered: 0, retrying: 1 })
    // Not due yet: nothing is sent before the backoff has passed.
    expect(await h.meterflow.alerts.deliver()).toMatchObject({ delivered: 0, retrying: 0 })
    later(RETRY_MS)
    expect(await h.meterflow.alerts.deliver()).toMatchObject({ retrying: 1 })
    later(2 * RETRY_MS)
    expect(await h.meterflow.alerts.deliver()).toMatchObject({ delivered: 1 })
    later(60 * RETRY_MS)
    await h.meterflow.alerts.deliver()
    const sent = receiver.received.filter(about('cust-a'))
    expect(sent).toHaveLength(3)
    expect(new Set(sent.map((r) => r.headers['webhook-id'])).size).toBe(1)
    const [d] = await deliveriesOf('cust-a')
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastError: null })
  })

  it('a receiver down for two runs gets each alert once when it is back', async () => {
    receiver.behaviour = { status: 200 }
    await receiver.stop()
    await spikeAndRun('cust-b', T0 + HOUR)
    expect((await h.meterflow.alerts.deliver()).retrying).toBe(1)
    await spikeAndRun('cust-c', T0 + 2 * HOUR)
    later(RETRY_MS)
    // The first refused connection ends the pass for that channel: the rest wait instead of piling up timeouts.
    expect(await h.meterflow.alerts.deliver()).toMatchObject({ retrying: 1, delivered: 0 })
    await receiver.start()
    later(4 * RETRY_MS)
    expect((await h.meterflow.alerts.deliver()).delivered).toBe(2)
    later(60 * RETRY_MS)
    await h.meterflow.alerts.deliver()
    for (const c of ['cust-b', 'cust-c']) {
      const got = receiver.received.filter(about(c))
      expect(got.map((r) => (r.json as { transition: string }).transition)).toEqual(['opened'])
    }
  })

  it('a receiver that hangs past the timeout is retried with the same webhook-id', async () => {
    let hang = true
    receiver.behaviour = (r) => {
      if (about('cust-d')(r) && hang) {
        hang = false
        return 'hang'
      }
      return { status: 200 }
    }
    await spikeAndRun('cust-d', T0 + 3 * HOUR)
    const first = await h.meterflow.alerts.deliver()
    expect(first.retrying).toBe(1)
    const [pending] = await deliveriesOf('cust-d')
    expect(pending?.lastError).toMatch(/no answer within 300 ms/)
    later(RETRY_MS)
    expect((await h.meterflow.alerts.deliver()).delivered).toBe(1)
    const got = receiver.received.filter(about('cust-d'))
    expect(got).toHaveLength(2)
    expect(got[0]?.headers['webhook-id']).toBe(got[1]?.headers['webhook-id'])
  })

  it('dead-letters after the last attempt, lists it as failed, and retries it on request', async () => {
    let down = true
    receiver.behaviour = (r) =>
      about('cust-e')(r) && down ? { status: 503, body: 'maintenance' } : { status: 200 }
    await spikeAndRun('cust-e', T0 + 4 * HOUR)
    for (let i = 0; i < 3; i++) {
      await h.meterflow.alerts.deliver()
      later(10 * RETRY_MS)
    }
    const res = await h.app.inject({ method: 'GET', url: '/v1/alerts?status=failed' })
    expect(res.statusCode).toBe(200)
    const failed = res
      .json()
      .items.filter((d: { alert: { customer_id: string } }) => d.alert.customer_id === 'cust-e')
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatchObject({ status: 'failed', attempts: 3, channel: 'webhook' })
    expect(failed[0].last_error).toMatch(/gave up after 3 attempts.*503/)
    expect(receiver.received.filter(about('cust-e'))).toHaveLength(3)

    down = false
    const retry = await h.app.inject({
      method: 'POST',
      url: `/v1/alerts/${encodeURIComponent(failed[0].id)}/retry`,
    })
    expect(retry.statusCode, retry.body).toBe(202)
    expect(retry.json()).toMatchObject({ status: 'pending', attempts: 0 })
    await h.meterflow.alerts.deliver()
    expect((await deliveriesOf('cust-e'))[0]).toMatchObject({ status: 'delivered', attempts: 1 })
    const again = await h.app.inject({
      method: 'POST',
      url: `/v1/alerts/${encodeURIComponent(failed[0].id)}/retry`,
    })
    expect(again.statusCode).toBe(409)
  })

  it('a receiver that refuses the alert (400) is not retried', async () => {
    receiver.behaviour = (r) => (about('cust-f')(r) ? { status: 400, body: 'bad payload' } : { status: 200 })
    await spikeAndRun('cust-f', T0 + 5 * HOUR)
    expect((await h.meterflow.alerts.deliver()).failed).toBe(1)
    later(60 * RETRY_MS)
    await h.meterflow.alerts.deliver()
    expect(receiver.received.filter(about('cust-f'))).toHaveLength(1)
    expect((await deliveriesOf('cust-f'))[0]).toMatchObject({ status: 'failed', attempts: 1 })
  })

  it('a muted customer raises alerts that are stored as muted and never sent', async () => {
    receiver.behaviour = { status: 200 }
    const bad = await h.app.inject({ method: 'POST', url: '/v1/mutes', payload: { minutes: 10 } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().details[0].field).toBe('customer_id')
    const mute = await h.app.inject({
      method: 'POST',
      url: '/v1/mutes',
      payload: { customer_id: 'cust-g', minutes: 180, reason: 'planned load test' },
    })
    expect(mute.statusCode, mute.body).toBe(201)
    await spikeAndRun('cust-g', T0 + 6 * HOUR)
    await h.meterflow.alerts.deliver()
    expect(receiver.received.filter(about('cust-g'))).toHaveLength(0)
    const [d] = await deliveriesOf('cust-g')
    expect(d?.status).toBe('muted')
    expect(d?.lastError).toContain(mute.json().id)
    const active = await h.app.inject({ method: 'GET', url: '/v1/mutes' })
    expect(active.json().items.map((m: { customer_id: string }) => m.customer_id)).toContain('cust-g')
  })

  it('an acknowledged incident does not notify its escalation', async () => {
    receiver.behaviour = { status: 200 }
    const slot = T0 + 8 * HOUR
    // A warning-sized rise first (about 4 standard deviations), then a critical one an hour later.
    await spikeAndRun('cust-h', slot, 200)
    await h.meterflow.alerts.deliver()
    const opened = receiver.received.filter(about('cust-h'))
    expect(opened.map((r) => (r.json as { severity: string }).severity)).toEqual(['warning'])
    const openedAlert = opened[0]?.json as { data: { incident: { id: string } } } | undefined
    const incidentId = openedAlert?.data.incident.id ?? 'missing'
    const ack = await h.app.inject({
      method: 'POST',
      url: `/v1/incidents/${encodeURIComponent(incidentId)}/ack`,
      payload: { by: 'oncall@example.com' },
    })
    expect(ack.statusCode, ack.body).toBe(200)
    expect(ack.json()).toMatchObject({ acknowledged_by: 'oncall@example.com' })

    await spikeAndRun('cust-h', slot + HOUR, 5000)
    await h.meterflow.alerts.deliver()
    expect(receiver.received.filter(about('cust-h'))).toHaveLength(1)
    const escalation = (await deliveriesOf('cust-h')).find(
      (d) => d.alert.kind === 'incident' && d.alert.transition === 'escalated',
    )
    expect(escalation).toMatchObject({ status: 'suppressed' })
    expect((await h.meterflow.anomalies.getIncident(incidentId))?.severity).toBe('critical')
  })

  it('an escalation still undelivered when its incident resolves is dropped, and the resolve goes out', async () => {
    const slot = T0 + 10 * HOUR
    let escalationsRefused = true
    receiver.behaviour = (r) =>
      about('cust-i')(r) &&
      (r.json as { transition?: string }).transition === 'escalated' &&
      escalationsRefused
        ? { status: 503 }
        : { status: 200 }
    await spikeAndRun('cust-i', slot, 200)
    await h.meterflow.alerts.deliver()
    await spikeAndRun('cust-i', slot + HOUR, 5000)
    await h.meterflow.alerts.deliver()
    // The spike leaves the 24 h window; two clean runs resolve the incident while the escalation waits.
    for (const s of [slot + 25 * HOUR, slot + 26 * HOUR]) {
      h.clock.ms = s
      expect((await h.meterflow.job.runNow(s, 'api')).run.status).toBe('completed')
    }
    escalationsRefused = false
    later(10 * RETRY_MS)
    await h.meterflow.alerts.deliver()
    const sent = receiver.received
      .filter(about('cust-i'))
      .map((r) => [(r.json as { transition: string }).transition])
    expect(sent).toEqual([['opened'], ['escalated'], ['resolved']])
    const escalation = (await deliveriesOf('cust-i')).find(
      (d) => d.alert.kind === 'incident' && d.alert.transition === 'escalated',
    )
    expect(escalation).toMatchObject({ status: 'suppressed', attempts: 1 })
    expect(escalation?.lastError).toMatch(/superseded/)
  })

  it('a mute set after the incident was announced does not swallow its resolution', async () => {
    receiver.behaviour = { status: 200 }
    const slot = T0 + 40 * HOUR
    await spikeAndRun('cust-j', slot)
    await h.meterflow.alerts.deliver()
    const mute = await h.app.inject({
      method: 'POST',
      url: '/v1/mutes',
      payload: { customer_id: 'cust-j', minutes: 48 * 60, reason: 'working on it' },
    })
    expect(mute.statusCode).toBe(201)
    for (const s of [slot + 24 * HOUR, slot + 25 * HOUR]) {
      h.clock.ms = s
      expect((await h.meterflow.job.runNow(s, 'api')).run.status).toBe('completed')
    }
    await h.meterflow.alerts.deliver()
    const sent = receiver.received
      .filter(about('cust-j'))
      .map((r) => (r.json as { transition: string }).transition)
    expect(sent).toEqual(['opened', 'resolved'])
  })
})
