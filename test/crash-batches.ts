import { expect } from 'vitest'

export type CrashMode = 'ids' | 'key'

/**
 * The batches the kill -9 tests send (round by round, each its own customer) and how they read the totals back:
 * `events` events spread over `hours` hours from `t0` + 1 s, with event ids (`ids`) or one idempotency key (`key`).
 */
export function crashBatches(options: {
  prefix: string
  t0: number
  hours: number
  events: number
  /** Values are 1 + (k % valueCycle). */
  valueCycle: number
}) {
  const { prefix, t0, hours, events, valueCycle } = options
  const HOUR = 3_600_000
  const customer = (round: number) => `${prefix}-${String(round).padStart(2, '0')}`
  const batch = (round: number, mode: CrashMode) =>
    Array.from({ length: events }, (_, k) => ({
      ...(mode === 'ids' ? { event_id: `${prefix}${round}-e${k}` } : {}),
      customer_id: customer(round),
      metric: 'api_calls',
      value: 1 + (k % valueCycle),
      // from t0 + 1 s so that a window starting 1 ms after t0 (answered from raw events) holds them all
      timestamp: t0 + 1000 + Math.floor((k * hours * HOUR) / events),
    }))
  const expectedSum = (round: number, mode: CrashMode) => batch(round, mode).reduce((s, e) => s + e.value, 0)
  const send = (url: string, round: number, mode: CrashMode): Promise<Response> =>
    fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(mode === 'key' ? { 'idempotency-key': `${prefix}-round-${round}` } : {}),
      },
      body: JSON.stringify(batch(round, mode)),
    })
  /** The customer's total over the hours, from the rollup (hour-aligned window) and from raw events (unaligned). */
  const totals = async (url: string, round: number): Promise<{ rollup: number; raw: number }> => {
    const value = async (start: number) => {
      const q = new URLSearchParams({
        customer_id: customer(round),
        metric: 'api_calls',
        current_start: new Date(start).toISOString(),
        current_end: new Date(t0 + hours * HOUR).toISOString(),
      })
      const res = await fetch(`${url}/v1/anomalies/check?${q}`)
      expect(res.status, await res.clone().text()).toBe(200)
      return ((await res.json()) as { current_value: number }).current_value
    }
    return { rollup: await value(t0), raw: await value(t0 + 1) }
  }
  return { customer, batch, expectedSum, send, totals }
}
