import { pagePath } from '../../../src/domain/dashboard-pages.js'
import { SIGNAL_KINDS } from '../../../src/domain/signals/signal-registry.js'
import { type Anomaly, allPages, api, type Delivery, type Incident, type Page, query, type Run } from '../api'
import { histogram } from '../chart'
import { badge, h, heading, notice, num, table, time, z } from '../dom'
import type { Route, Viewer } from '../router'
import { takeAnnouncement } from './actions'
import { DELIVERIES_AREA, deliveryTable } from './deliveries'
import { customerHref, incidentShapeSlot } from './profile-panel'
import { RANGES, rangeLinks } from './ranges'

const HOUR = 3_600_000

/** The state of things: open incidents, anomalies over time, the last runs, alerts that did not get out. */
export async function overviewPage(route: Route, viewer: Viewer): Promise<HTMLElement> {
  const range = RANGES.find((r) => r.key === route.params.get('range')) ?? RANGES[0]
  const now = Date.now()
  const bucketMs = range.key === '30d' ? 24 * HOUR : range.key === '7d' ? 6 * HOUR : HOUR
  const end = Math.floor(now / bucketMs) * bucketMs + bucketMs
  const start = end - Math.ceil(range.ms / bucketMs) * bucketMs
  const [open, anomalies, runs, failed, held, pending] = await Promise.all([
    allPages<Incident>('/v1/incidents', { status: 'open' }, 5000),
    allPages<Anomaly>('/v1/anomalies', { since: new Date(start).toISOString() }, 20_000),
    api<Page<Run>>(`/v1/runs${query({ limit: 10 })}`),
    api<Page<Delivery>>(`/v1/alerts${query({ status: 'failed', limit: 20 })}`),
    api<Page<Delivery>>(`/v1/alerts${query({ status: 'held', limit: 20 })}`),
    api<Page<Delivery>>(`/v1/alerts${query({ status: 'pending', limit: 100 })}`),
  ])
  // Pending deliveries that already failed an attempt are retrying on their own (no button: they are not stuck).
  const retrying = pending.items.filter((d) => d.last_error !== null)
  const status = h('p', { class: 'action-status', role: 'status' }, takeAnnouncement(DELIVERIES_AREA))
  return h(
    'section',
    {},
    heading('Overview'),
    openIncidents(open.items),
    h('h2', { id: 'anomalies-over-time' }, 'Anomalies over time'),
    h(
      'div',
      { class: 'toolbar' },
      rangeLinks((key) => `/${query({ range: key })}`, range.key),
    ),
    anomalyChart(anomalies.items, start, end, bucketMs, anomalies.complete),
    h('h2', {}, 'Last detection runs'),
    runTable(runs.items),
    h('h2', {}, 'Alerts not delivered'),
    h(
      'p',
      { class: 'muted' },
      'Dead letters (failed), alerts held by the storm guard, and deliveries retrying after an error.',
    ),
    deliveryTable([...failed.items, ...held.items, ...retrying], viewer, status, {
      caption: 'Failed and held alert deliveries',
      empty: [
        'Every alert was delivered (or is on its way).',
        'Failed and held deliveries appear here with a Retry button, and deliveries retrying on their own.',
      ],
    }),
    status,
  )
}

function openIncidents(incidents: Incident[]): HTMLElement {
  const count = (severity: string) => incidents.filter((i) => i.severity === severity).length
  const cards = h(
    'div',
    { class: 'cards' },
    [
      ['critical', count('critical')],
      ['warning', count('warning')],
      ['acknowledged', incidents.filter((i) => i.acknowledged_at !== null).length],
    ].map(([label, n]) =>
      h(
        'a',
        {
          class: `card card-${label}`,
          href: `${pagePath('incidents')}${query({ status: 'open', severity: label === 'acknowledged' ? undefined : label })}`,
        },
        h('span', { class: 'card-number' }, String(n)),
        h('span', { class: 'card-label' }, `open ${label}`),
      ),
    ),
    // By signal as the incidents filter counts: opened by it, or firing it at the latest run (both may count one).
    SIGNAL_KINDS.map((kind) =>
      h(
        'a',
        { class: 'card card-signal', href: `${pagePath('incidents')}${query({ status: 'open', kind })}` },
        h(
          'span',
          { class: 'card-number' },
          String(
            incidents.filter((i) => i.opened_by_signal === kind || i.firing_signals.includes(kind)).length,
          ),
        ),
        h('span', { class: 'card-label' }, `open with ${kind}`),
      ),
    ),
  )
  const sorted = [...incidents].sort(
    (a, b) =>
      Number(b.severity === 'critical') - Number(a.severity === 'critical') ||
      b.opened_at.localeCompare(a.opened_at),
  )
  return h(
    'div',
    {},
    h('h2', {}, `Open incidents (${incidents.length})`),
    cards,
    incidents.length === 0
      ? notice(
          'empty',
          'No open incidents.',
          'All quiet. Past ones are under Incidents; detection runs every hour.',
        )
      : table(
          ['Severity', 'Customer', 'Metric', 'Direction', 'Opened', 'Peak z', ''],
          sorted.slice(0, 15).map((i) =>
            h(
              'tr',
              {},
              h('td', {}, badge(i.severity), i.acknowledged_at ? badge('acked', 'muted') : null),
              h(
                'td',
                {},
                h('a', { href: customerHref(i.customer_id, i.metric, incidentShapeSlot(i)) }, i.customer_id),
              ),
              h('td', {}, i.metric),
              h('td', {}, i.direction),
              h('td', {}, time(i.opened_at)),
              h('td', { class: 'num' }, z(i.peak_z_score)),
              h(
                'td',
                {},
                h(
                  'a',
                  {
                    href: pagePath('incident', i.id),
                    'aria-label': `Open incident ${i.customer_id} ${i.metric}`,
                  },
                  'Open',
                ),
              ),
            ),
          ),
          'Open incidents, critical first',
        ),
    incidents.length > 15
      ? h(
          'p',
          {},
          h('a', { href: `${pagePath('incidents')}?status=open` }, `All ${incidents.length} open incidents`),
        )
      : null,
  )
}

function anomalyChart(
  anomalies: Anomaly[],
  start: number,
  end: number,
  bucketMs: number,
  complete: boolean,
): HTMLElement {
  const buckets: number[] = []
  for (let t = start; t < end; t += bucketMs) buckets.push(t)
  const warning = buckets.map(() => 0)
  const critical = buckets.map(() => 0)
  for (const a of anomalies) {
    const index = Math.floor((Date.parse(a.detected_at) - start) / bucketMs)
    if (index < 0 || index >= buckets.length) continue
    if (a.severity === 'critical') critical[index] = (critical[index] ?? 0) + 1
    else warning[index] = (warning[index] ?? 0) + 1
  }
  const holder = h('div', { class: 'chart-canvas' })
  const figure = h(
    'figure',
    { class: 'chart', 'aria-label': 'Anomalies per time bucket' },
    holder,
    h(
      'figcaption',
      {},
      `${num(anomalies.length)} anomalies stored in this range${complete ? '' : ' (the first 20,000 shown)'}, per ${bucketMs / HOUR} h. `,
      h('a', { href: pagePath('anomalies') }, 'List them'),
    ),
  )
  queueMicrotask(() => requestAnimationFrame(() => histogram(holder, buckets, warning, critical)))
  return figure
}

function runTable(runs: Run[]): HTMLElement {
  if (runs.length === 0) {
    return notice(
      'empty',
      'No detection runs yet.',
      'The server runs detection every hour; POST /v1/runs runs one now.',
    )
  }
  return table(
    ['Slot', 'Status', 'Duration', 'Checked', 'Found', 'Opened / resolved', ''],
    runs.map((r) =>
      h(
        'tr',
        { class: r.status === 'failed' ? 'row-failed' : undefined },
        h('td', {}, time(r.slot)),
        h('td', {}, badge(r.status), r.error ? h('span', { class: 'error-text' }, ` ${r.error}`) : null),
        h('td', { class: 'num' }, r.duration_ms === null ? '—' : `${num(r.duration_ms / 1000)} s`),
        h('td', { class: 'num' }, num(r.checked)),
        h('td', { class: 'num' }, num(r.anomalies_found)),
        h('td', { class: 'num' }, `${r.incidents_opened} / ${r.incidents_resolved}`),
        h('td', {}, h('a', { href: pagePath('run', r.run_id) }, 'Details')),
      ),
    ),
    'Last detection runs, newest slot first',
  )
}
