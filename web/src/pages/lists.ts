import { pagePath } from '../../../src/domain/dashboard-pages.js'
import { type Anomaly, api, type Incident, type Metric, type Page, query } from '../api'
import { badge, h, heading, notice, num, table, time, z } from '../dom'
import { navigate, type Route } from '../router'
import { RANGES, rangeMs } from './ranges'

const PAGE_SIZE = 50

interface Field {
  name: string
  label: string
  options?: [value: string, text: string][]
}

/** The filters as a form whose submit puts them in the URL (shareable; the back button works). */
function filterForm(path: string, fields: Field[], params: URLSearchParams): HTMLElement {
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    fields.map((f) => {
      const id = `filter-${f.name}`
      const value = params.get(f.name) ?? ''
      const control = f.options
        ? h(
            'select',
            { id, name: f.name },
            f.options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
          )
        : h('input', { id, name: f.name, type: 'search', value, autocomplete: 'off', spellcheck: 'false' })
      return h('div', { class: 'field' }, h('label', { for: id }, f.label), control)
    }),
    h(
      'div',
      { class: 'field field-buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
      h('a', { href: path }, 'Clear'),
    ),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const values: Record<string, string> = {}
    for (const [k, v] of new FormData(form)) values[k] = String(v).trim()
    navigate(`${path}${query(values)}`)
  })
  return form
}

const ANY: [string, string] = ['', 'any']
const rangeOptions: [string, string][] = [
  ANY,
  ...RANGES.map((r): [string, string] => [r.key, `last ${r.label}`]),
]

async function metricOptions(): Promise<[string, string][]> {
  const { metrics } = await api<{ metrics: Metric[] }>('/v1/metrics')
  return [ANY, ...metrics.map((m): [string, string] => [m.name, m.name])]
}

/** since from the range shortcut, or an explicit since/until from a shared link. */
function timeBounds(params: URLSearchParams): { since?: string; until?: string } {
  const range = params.get('range')
  if (range) return { since: new Date(Date.now() - rangeMs(range)).toISOString() }
  return { since: params.get('since') ?? undefined, until: params.get('until') ?? undefined }
}

function pager(path: string, params: URLSearchParams, next: string | null): HTMLElement {
  const first = new URLSearchParams(params)
  first.delete('cursor')
  const following = new URLSearchParams(params)
  if (next) following.set('cursor', next)
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    params.has('cursor') ? h('a', { href: `${path}${first.size ? `?${first}` : ''}` }, '« First page') : null,
    next ? h('a', { href: `${path}?${following}` }, 'Next page »') : null,
  )
}

function customerLink(customer: string, metric: string): HTMLElement {
  return h('a', { href: `${pagePath('customer', customer)}${query({ metric })}` }, customer)
}

export async function incidentsPage(route: Route): Promise<HTMLElement> {
  const p = route.params
  const path = pagePath('incidents')
  const [metrics, page] = await Promise.all([
    metricOptions(),
    api<Page<Incident>>(
      `/v1/incidents${query({
        customer_id: p.get('customer_id') ?? undefined,
        metric: p.get('metric') ?? undefined,
        severity: p.get('severity') ?? undefined,
        status: p.get('status') ?? undefined,
        ...timeBounds(p),
        limit: PAGE_SIZE,
        cursor: p.get('cursor') ?? undefined,
      })}`,
    ),
  ])
  const form = filterForm(
    path,
    [
      { name: 'customer_id', label: 'Customer' },
      { name: 'metric', label: 'Metric', options: metrics },
      {
        name: 'severity',
        label: 'Severity',
        options: [ANY, ['critical', 'critical'], ['warning', 'warning']],
      },
      { name: 'status', label: 'Status', options: [ANY, ['open', 'open'], ['resolved', 'resolved']] },
      { name: 'range', label: 'Opened', options: rangeOptions },
    ],
    p,
  )
  const rows = page.items.map((i) =>
    h(
      'tr',
      { class: i.status === 'open' && i.severity === 'critical' ? 'row-critical' : undefined },
      h('td', {}, time(i.opened_at)),
      h('td', {}, customerLink(i.customer_id, i.metric)),
      h('td', {}, i.metric),
      h('td', {}, badge(i.severity)),
      h(
        'td',
        {},
        badge(i.status),
        i.acknowledged_at ? ' ' : null,
        i.acknowledged_at ? badge('acked', 'muted') : null,
      ),
      h('td', {}, i.direction),
      h('td', { class: 'num' }, z(i.peak_z_score)),
      h('td', { class: 'num' }, num(i.detections)),
      h('td', {}, i.feedback ? badge(i.feedback.label) : ''),
      h(
        'td',
        {},
        h(
          'a',
          { href: pagePath('incident', i.id), 'aria-label': `Open incident ${i.customer_id} ${i.metric}` },
          'Open',
        ),
      ),
    ),
  )
  return h(
    'section',
    {},
    heading(
      'Incidents',
      'One incident per customer × metric while an anomaly persists across runs; newest opened first.',
    ),
    form,
    rows.length === 0
      ? notice(
          'empty',
          'No incidents match these filters.',
          'Widen the filters (Clear), or wait for the next detection run.',
        )
      : table(
          [
            'Opened',
            'Customer',
            'Metric',
            'Severity',
            'Status',
            'Direction',
            'Peak z',
            'Detections',
            'Label',
            '',
          ],
          rows,
          'Incidents',
        ),
    pager(path, p, page.next_cursor),
  )
}

export async function anomaliesPage(route: Route): Promise<HTMLElement> {
  const p = route.params
  const path = pagePath('anomalies')
  const [metrics, page] = await Promise.all([
    metricOptions(),
    api<Page<Anomaly>>(
      `/v1/anomalies${query({
        customer_id: p.get('customer_id') ?? undefined,
        metric: p.get('metric') ?? undefined,
        severity: p.get('severity') ?? undefined,
        ...timeBounds(p),
        limit: PAGE_SIZE,
        cursor: p.get('cursor') ?? undefined,
      })}`,
    ),
  ])
  const form = filterForm(
    path,
    [
      { name: 'customer_id', label: 'Customer' },
      { name: 'metric', label: 'Metric', options: metrics },
      {
        name: 'severity',
        label: 'Severity',
        options: [ANY, ['critical', 'critical'], ['warning', 'warning']],
      },
      { name: 'range', label: 'Detected', options: rangeOptions },
    ],
    p,
  )
  const rows = page.items.map((a) =>
    h(
      'tr',
      {},
      h('td', {}, time(a.detected_at)),
      h('td', {}, customerLink(a.customer_id, a.metric)),
      h('td', {}, a.metric),
      h('td', {}, badge(a.severity)),
      h('td', {}, a.direction),
      h('td', { class: 'num' }, num(a.current_value)),
      h('td', { class: 'num' }, num(a.baseline_mean)),
      h('td', { class: 'num' }, z(a.z_score)),
      h('td', {}, a.incident_id ? h('a', { href: pagePath('incident', a.incident_id) }, 'Incident') : '—'),
    ),
  )
  return h(
    'section',
    {},
    heading('Anomalies', 'Every detection the job stored (kept 90 days), newest first.'),
    form,
    rows.length === 0
      ? notice(
          'empty',
          'No anomalies match these filters.',
          'Widen the filters (Clear); detections appear after each hourly run.',
        )
      : table(
          ['Detected', 'Customer', 'Metric', 'Severity', 'Direction', 'Value', 'Baseline', 'z', ''],
          rows,
          'Anomalies',
        ),
    pager(path, p, page.next_cursor),
  )
}
