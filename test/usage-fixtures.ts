const HOUR = 3_600_000
const DAY = 24 * HOUR

export interface RawEvent {
  event_id: string
  customer_id: string
  metric: string
  value: number
  timestamp: string
}

/**
 * A steady daily series for each customer: one event a day at 12:00 UTC for `days` days before `endMs`, value
 * 1000-1080 (a little deterministic noise, so the baseline is real but the stddev floor applies).
 */
export function steadyDaily(
  customers: readonly string[],
  endMs: number,
  days = 32,
  metric = 'api_calls',
): RawEvent[] {
  const events: RawEvent[] = []
  const lastNoon = Math.floor((endMs - 12 * HOUR) / DAY) * DAY + 12 * HOUR
  customers.forEach((customer, c) => {
    for (let d = 0; d < days; d++) {
      const t = lastNoon - d * DAY
      if (t >= endMs) continue
      events.push({
        event_id: `${customer}-${metric}-${t}`,
        customer_id: customer,
        metric,
        value: 1000 + ((d * 7 + c) % 5) * 20,
        timestamp: new Date(t).toISOString(),
      })
    }
  })
  return events
}

/** One extra event (a spike) for each customer at `atMs`. */
export function extra(
  customers: readonly string[],
  atMs: number,
  value: number,
  metric = 'api_calls',
): RawEvent[] {
  return customers.map((customer) => ({
    event_id: `${customer}-${metric}-extra-${atMs}`,
    customer_id: customer,
    metric,
    value,
    timestamp: new Date(atMs).toISOString(),
  }))
}
