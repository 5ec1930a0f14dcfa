import { pagePath } from '../../../src/domain/dashboard-pages.js'
import { api, type Customer, type Delivery, type Incident, type Metric, type Page, query } from '../api'
import { badge, h, heading, notice, num, table, time, z } from '../dom'
import type { Route, Viewer } from '../router'
import { muteForm, takeAnnouncement } from './actions'
import { DELIVERIES_AREA, deliveryTable } from './deliveries'
import { PROFILE_END, parseProfileEnd, profilePanel } from './profile-panel'
import { RANGES, rangeLinks, rangeMs } from './ranges'
import { seriesPanel } from './series-panel'

const HOUR = 3_600_000

/**
 * A customer: one metric's chart and 24-hour profile at a time (metric, range and profile window in the URL), its
 * incidents, alerts and detector settings.
 */
export async function customerPage(route: Route, viewer: Viewer): Promise<HTMLElement> {
  const id = route.id ?? ''
  const [customer, metrics, incidents, alerts] = await Promise.all([
    api<Customer>(`/v1/customers/${encodeURIComponent(id)}`),
    api<{ metrics: Metric[] }>('/v1/metrics'),
    api<Page<Incident>>(`/v1/incidents${query({ customer_id: id, limit: 20 })}`),
    api<Page<Delivery>>(`/v1/customers/${encodeURIComponent(id)}/alerts${query({ limit: 20 })}`),
  ])
  const names = metrics.metrics.map((m) => m.name)
  const metric = names.includes(route.params.get('metric') ?? '')
    ? (route.params.get('metric') as string)
    : names[0]
  const range = RANGES.find((r) => r.key === route.params.get('range')) ?? RANGES[1]
  const base = pagePath('customer', id)
  const until = Math.floor(Date.now() / HOUR) * HOUR + HOUR
  // The profile's window (from a shape detection) stays while the range changes, not for another metric.
  const profile = parseProfileEnd(route.params.get(PROFILE_END), Date.now())
  const link = (m: string, r: string) =>
    `${base}${query({ metric: m, range: r, [PROFILE_END]: m === metric ? route.params.get(PROFILE_END) : null })}`

  const metricNav = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Metric' },
    names.map((m) =>
      h('a', { href: link(m, range.key), 'aria-current': m === metric ? 'page' : undefined }, m),
    ),
  )
  const [panel, profilePart] = metric
    ? await Promise.all([
        seriesPanel(id, metric, until - rangeMs(range.key), until),
        profilePanel(id, metric, profile.endMs, profile.problem),
      ])
    : [null, null]
  const chart =
    panel?.element ?? notice('empty', 'No metrics are registered.', 'Register one with POST /v1/metrics.')
  const effective = panel?.series

  const status = h('p', { class: 'action-status', role: 'status' }, takeAnnouncement())
  const alertStatus = h('p', { class: 'action-status', role: 'status' }, takeAnnouncement(DELIVERIES_AREA))
  const settings: [string, string][] = [
    ['Status', customer.status],
    ['Threshold', customer.threshold === null ? 'default' : num(customer.threshold)],
    [
      'Critical threshold',
      customer.critical_threshold === null ? 'default' : num(customer.critical_threshold),
    ],
    ['Metrics checked', customer.metrics === null ? 'all' : customer.metrics.join(', ') || 'none'],
    [
      'Detector overrides',
      customer.detector === null ? 'none (the configured detector)' : describe(customer.detector),
    ],
  ]
  if (effective) {
    settings.push(
      [`Effective for ${effective.metric}`, describe(effective.detector)],
      [
        'Thresholds used',
        `z ≥ ${num(effective.threshold)} (critical ≥ ${num(effective.critical_threshold)}), baseline ${effective.baseline_days} days`,
      ],
    )
  }
  return h(
    'section',
    {},
    heading(
      `Customer ${id}`,
      customer.registered ? 'Registered with overrides' : 'No registry entry: the defaults apply',
    ),
    metricNav,
    h(
      'div',
      { class: 'toolbar' },
      rangeLinks((r) => link(metric ?? '', r), range.key),
    ),
    chart,
    profilePart,
    h(
      'div',
      { class: 'grid-2' },
      h(
        'div',
        {},
        h('h2', {}, 'Incidents'),
        incidents.items.length === 0
          ? notice(
              'empty',
              'No incidents for this customer.',
              'Incidents open when the detection job finds an anomaly.',
            )
          : table(
              ['Opened', 'Metric', 'Severity', 'Status', 'Peak z', ''],
              incidents.items.map((i) =>
                h(
                  'tr',
                  {},
                  h('td', {}, time(i.opened_at)),
                  h('td', {}, i.metric),
                  h('td', {}, badge(i.severity)),
                  h('td', {}, badge(i.status)),
                  h('td', { class: 'num' }, z(i.peak_z_score)),
                  h('td', {}, h('a', { href: pagePath('incident', i.id) }, 'Open')),
                ),
              ),
              'Incidents of this customer',
            ),
        incidents.next_cursor
          ? h(
              'p',
              {},
              h(
                'a',
                { href: `${pagePath('incidents')}${query({ customer_id: id })}` },
                'All incidents of this customer',
              ),
            )
          : null,
      ),
      h(
        'div',
        {},
        h('h2', {}, 'Detector settings'),
        h(
          'dl',
          { class: 'facts' },
          settings.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
        h('p', { class: 'muted' }, 'Change them with PUT /v1/customers/{id} (see docs/detection.md).'),
        viewer.canAct
          ? [
              h('h2', {}, 'Mute'),
              muteForm(status, { customer_id: id, ...(metric ? { metric } : {}) }),
              status,
            ]
          : null,
      ),
    ),
    h('h2', { id: 'customer-alerts' }, 'Alerts'),
    h(
      'p',
      { class: 'muted' },
      `Every delivery of the alerts of this customer's ${alerts.next_cursor ? '20 latest ' : ''}incidents, on every channel.`,
    ),
    deliveryTable(alerts.items, viewer, alertStatus, {
      caption: `Alert deliveries of ${id}'s incidents, newest first`,
      empty: [
        'No alerts for this customer.',
        'Alerts go out when an incident opens, escalates or resolves and a channel is configured (see the README, Alerts).',
      ],
    }),
    alertStatus,
  )
}

function describe(detector: Record<string, unknown>): string {
  return Object.entries(detector)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ')
}
