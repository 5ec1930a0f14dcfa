import { pagePath } from '../../../src/domain/dashboard-pages.js'
import {
  ANOMALY_SORTS,
  DEFAULT_ANOMALY_SORT,
  DEFAULT_INCIDENT_SORT,
  INCIDENT_SORTS,
} from '../../../src/domain/list-sorts.js'
import { SIGNAL_KINDS } from '../../../src/domain/signals/signal-registry.js'
import { type Anomaly, ApiError, api, type Incident, type Metric, type Page, query } from '../api'
import { badge, h, heading, notice, num, table, time, z } from '../dom'
import { navigate, type Route } from '../router'
import { customerHref, incidentShapeSlot } from './profile-panel'
import { RANGES, rangeMs } from './ranges'

const PAGE_SIZE = 50

type Option = [value: string, text: string]

interface Field {
  name: string
  label: string
  options?: Option[]
}

interface Column<T> {
  header: string
  cell: (item: T) => Node | string | (Node | string | null)[]
  numeric?: boolean
  /** The sort that orders by this column (its name without the `-`): the header says when it is in force. */
  sortKey?: string
}

/** One table page (incidents, anomalies): its filters, orders and columns; the rest is shared. */
interface ListSpec<T> {
  page: 'incidents' | 'anomalies'
  title: string
  /** What a row is, before the order ("One incident per ... ; "). */
  about: string
  endpoint: string
  /** Filters besides customer, metric, severity, signal and time range. */
  extraFields: Field[]
  timeLabel: string
  sorts: Record<string, string>
  defaultSort: string
  columns: Column<T>[]
  rowClass?: (item: T) => string | undefined
  empty: [title: string, next: string]
}

const ANY: Option = ['', 'any']
const rangeOptions: Option[] = [ANY, ...RANGES.map((r): Option => [r.key, `last ${r.label}`])]
const severityOptions: Option[] = [ANY, ['critical', 'critical'], ['warning', 'warning']]
const signalOptions: Option[] = [ANY, ...SIGNAL_KINDS.map((k): Option => [k, k])]
/** The URL parameters a table passes to the API as they are (range becomes since). */
const PASSED = ['customer_id', 'metric', 'severity', 'status', 'kind', 'sort', 'cursor'] as const

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

async function metricOptions(): Promise<Option[]> {
  const { metrics } = await api<{ metrics: Metric[] }>('/v1/metrics')
  return [ANY, ...metrics.map((m): Option => [m.name, m.name])]
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

/** The drill-down; from a shape detection it shows that window's profile. */
function customerLink(customer: string, metric: string, shapeSlot?: string): HTMLElement {
  return h('a', { href: customerHref(customer, metric, shapeSlot) }, customer)
}

async function listPage<T>(spec: ListSpec<T>, route: Route): Promise<HTMLElement> {
  const p = route.params
  const path = pagePath(spec.page)
  const passed: Record<string, string | undefined> = {}
  for (const name of PASSED) passed[name] = p.get(name) ?? undefined
  const [metrics, answer] = await Promise.all([
    metricOptions(),
    api<Page<T>>(`${spec.endpoint}${query({ ...passed, ...timeBounds(p), limit: PAGE_SIZE })}`).catch(
      (err: unknown) => {
        // A filter or order this deployment refuses (DynamoDB sorts by time only): say why beside the form.
        if (err instanceof ApiError && err.status === 400) return err
        throw err
      },
    ),
  ])
  const refused = answer instanceof ApiError ? answer : null
  const page: Page<T> = refused ? { items: [], next_cursor: null } : (answer as Page<T>)
  const asked = p.get('sort') ?? ''
  const sort = asked in spec.sorts ? asked : spec.defaultSort
  const sortOptions = Object.entries(spec.sorts).map(
    ([v, text]): Option => [v === spec.defaultSort ? '' : v, text],
  )
  const form = filterForm(
    path,
    [
      { name: 'customer_id', label: 'Customer' },
      { name: 'metric', label: 'Metric', options: metrics },
      { name: 'severity', label: 'Severity', options: severityOptions },
      { name: 'kind', label: 'Signal', options: signalOptions },
      ...spec.extraFields,
      { name: 'range', label: spec.timeLabel, options: rangeOptions },
      { name: 'sort', label: 'Sort', options: sortOptions },
    ],
    p,
  )
  const sortedBy = sort.replace(/^-/, '')
  const headers = spec.columns.map((c) => ({
    text: c.header,
    numeric: c.numeric,
    sort:
      c.sortKey === sortedBy
        ? ((sort.startsWith('-') ? 'descending' : 'ascending') as 'ascending' | 'descending')
        : undefined,
  }))
  const rows = page.items.map((item) =>
    h(
      'tr',
      { class: spec.rowClass?.(item) },
      spec.columns.map((c) => h('td', { class: c.numeric ? 'num' : undefined }, c.cell(item))),
    ),
  )
  return h(
    'section',
    {},
    heading(spec.title, `${spec.about}; ${spec.sorts[sort] ?? ''}.`),
    form,
    refused
      ? notice(
          'error',
          refused.details.map((d) => `${d.field}: ${d.reason}`).join('; ') || refused.message,
          'Choose another order or filter (Clear resets them all).',
        )
      : rows.length === 0
        ? notice('empty', ...spec.empty)
        : table(headers, rows, `${spec.title}, ${spec.sorts[sort] ?? ''}`),
    pager(path, p, page.next_cursor),
  )
}

const INCIDENTS: ListSpec<Incident> = {
  page: 'incidents',
  title: 'Incidents',
  about: 'One incident per customer × metric while an anomaly persists across runs',
  endpoint: '/v1/incidents',
  extraFields: [
    { name: 'status', label: 'Status', options: [ANY, ['open', 'open'], ['resolved', 'resolved']] },
  ],
  timeLabel: 'Opened',
  sorts: INCIDENT_SORTS,
  defaultSort: DEFAULT_INCIDENT_SORT,
  rowClass: (i) => (i.status === 'open' && i.severity === 'critical' ? 'row-critical' : undefined),
  columns: [
    { header: 'Opened', cell: (i) => time(i.opened_at), sortKey: 'opened_at' },
    {
      header: 'Customer',
      cell: (i) => customerLink(i.customer_id, i.metric, incidentShapeSlot(i)),
      sortKey: 'customer_id',
    },
    { header: 'Metric', cell: (i) => i.metric },
    { header: 'Severity', cell: (i) => badge(i.severity), sortKey: 'severity' },
    {
      header: 'Status',
      cell: (i) => [
        badge(i.status),
        i.acknowledged_at ? ' ' : null,
        i.acknowledged_at ? badge('acked', 'muted') : null,
      ],
    },
    { header: 'Signal', cell: (i) => signals(i) },
    { header: 'Direction', cell: (i) => i.direction },
    { header: 'Peak z', cell: (i) => z(i.peak_z_score), numeric: true, sortKey: 'peak_z_score' },
    { header: 'Detections', cell: (i) => num(i.detections), numeric: true },
    { header: 'Label', cell: (i) => (i.feedback ? badge(i.feedback.label) : '') },
    {
      header: '',
      cell: (i) =>
        h(
          'a',
          { href: pagePath('incident', i.id), 'aria-label': `Open incident ${i.customer_id} ${i.metric}` },
          'Open',
        ),
    },
  ],
  empty: [
    'No incidents match these filters.',
    'Widen the filters (Clear), or wait for the next detection run.',
  ],
}

/** The signal that opened it, and any other firing now. */
function signals(i: Incident): string {
  const others = i.firing_signals.filter((k) => k !== i.opened_by_signal)
  return others.length === 0 ? i.opened_by_signal : `${i.opened_by_signal} (+${others.join(', ')})`
}

const ANOMALIES: ListSpec<Anomaly> = {
  page: 'anomalies',
  title: 'Anomalies',
  about: 'Every detection the job stored (kept 90 days)',
  endpoint: '/v1/anomalies',
  extraFields: [],
  timeLabel: 'Detected',
  sorts: ANOMALY_SORTS,
  defaultSort: DEFAULT_ANOMALY_SORT,
  columns: [
    { header: 'Detected', cell: (a) => time(a.detected_at), sortKey: 'detected_at' },
    {
      header: 'Customer',
      cell: (a) => customerLink(a.customer_id, a.metric, a.kind === 'shape' ? a.detected_at : undefined),
      sortKey: 'customer_id',
    },
    { header: 'Metric', cell: (a) => a.metric },
    { header: 'Severity', cell: (a) => badge(a.severity), sortKey: 'severity' },
    { header: 'Signal', cell: (a) => a.kind },
    // Volume's window that fired; shape records, and volume ones stored before it was recorded, have none.
    { header: 'Window', cell: (a) => a.window_kind ?? '—' },
    { header: 'Direction', cell: (a) => a.direction },
    { header: 'Value', cell: (a) => num(a.current_value), numeric: true },
    { header: 'Baseline', cell: (a) => num(a.baseline_mean), numeric: true },
    {
      header: 'z / similarity',
      cell: (a) => (a.kind === 'shape' ? num(a.shape_similarity) : z(a.z_score)),
      numeric: true,
    },
    {
      header: '',
      cell: (a) => (a.incident_id ? h('a', { href: pagePath('incident', a.incident_id) }, 'Incident') : '—'),
    },
  ],
  empty: [
    'No anomalies match these filters.',
    'Widen the filters (Clear); detections appear after each hourly run.',
  ],
}

export const incidentsPage = (route: Route) => listPage(INCIDENTS, route)
export const anomaliesPage = (route: Route) => listPage(ANOMALIES, route)
