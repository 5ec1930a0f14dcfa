const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Business hours 09-17 UTC, about 100 an hour with a small deterministic wobble (so volume's stddev is not 0). */
export const businessHour = (day: number, hour: number) =>
  hour >= 9 && hour < 17 ? 100 + ((day * 7 + hour * 3) % 11) - 5 : 0

/**
 * `days` days of business-hours api_calls for `customerId` up to `endMs` (a whole hour): day d covers
 * [end - (d + 1) days, end - d days). With `moved`, day 0 has the same total, all of it at 02:30-04:30 UTC of that
 * day (inside day 0 when `endMs` is 05:00 UTC or later): a day whose total is normal but whose hours moved.
 */
export function businessDays(
  customerId: string,
  endMs: number,
  days: number,
  moved: boolean,
): { event_id: string; customer_id: string; metric: string; value: number; timestamp: number }[] {
  const out = []
  const event = (id: string, value: number, timestamp: number) => ({
    event_id: `${customerId}-${id}`,
    customer_id: customerId,
    metric: 'api_calls',
    value,
    timestamp,
  })
  for (let d = moved ? 1 : 0; d < days; d++) {
    const start = endMs - (d + 1) * DAY
    for (let i = 0; i < 24; i++) {
      const t = start + i * HOUR
      const value = businessHour(d, new Date(t).getUTCHours())
      if (value > 0) out.push(event(`${d}-${i}`, value, t))
    }
  }
  if (moved) {
    let total = 0
    for (let hour = 0; hour < 24; hour++) total += businessHour(0, hour)
    const third = Math.floor(total / 3)
    const day = new Date(endMs - 1)
    const at = (hour: number) => Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour, 30)
    ;[third, third, total - 2 * third].forEach((value, k) => {
      out.push(event(`0-moved-${k}`, value, at(2 + k)))
    })
  }
  return out
}
