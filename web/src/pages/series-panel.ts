import { type Anomaly, allPages, api, query, type Series } from '../api'
import { markerList, seriesChart } from '../chart'
import { h, notice } from '../dom'

/**
 * One metric's chart: the series as the detector sees it (GET /v1/customers/:id/series: value, baseline mean, band)
 * and the anomalies the job stored in that range as markers.
 */
export async function seriesPanel(
  customer: string,
  metric: string,
  sinceMs: number,
  untilMs: number,
): Promise<{ element: HTMLElement; series: Series }> {
  const range = { since: new Date(sinceMs).toISOString(), until: new Date(untilMs).toISOString() }
  const [series, stored] = await Promise.all([
    api<Series>(`/v1/customers/${encodeURIComponent(customer)}/series${query({ metric, ...range })}`),
    allPages<Anomaly>('/v1/anomalies', { customer_id: customer, metric, ...range }, 5000),
  ])
  const figure = h('figure', {
    class: 'chart',
    'aria-label': `${metric} of ${customer} with its baseline band`,
  })
  if (series.first_event_at === null) {
    const element = notice(
      'empty',
      `No ${metric} usage recorded for ${customer}.`,
      'Send usage with POST /v1/events (or `meterflow ingest`); the chart appears once there is some.',
    )
    return { element, series }
  }
  const caption = h(
    'figcaption',
    {},
    `Each point is the ${series.window === 'day' ? '24-hour' : '1-hour'} window ending at that hour, as the detection job judges it: `,
    `the dashed line is the baseline mean over ${series.baseline_days} days, the shaded band mean ± ${series.threshold} × stddev; `,
    'circles are the anomalies the job stored.',
    series.checked
      ? ''
      : ' This series is not checked (the customer is disabled or the metric is not among its metrics).',
  )
  const holder = h('div', { class: 'chart-canvas' })
  figure.append(holder, caption)
  const wrap = h('div', {}, figure, markerList(stored.items))
  // uPlot measures its container: draw once it is in the document.
  queueMicrotask(() => requestAnimationFrame(() => seriesChart(holder, series, stored.items)))
  return { element: wrap, series }
}
