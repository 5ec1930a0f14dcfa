import uPlot from 'uplot'
import { pagePath } from '../../../src/domain/dashboard-pages.js'
import { api, type Incident, query } from '../api'
import { responsive } from '../chart'
import { badge, h, notice, num, time } from '../dom'

const HOUR = 3_600_000
/** The customer page's URL parameter: the end (a slot) of the 24 hours the profile shows; absent = the last complete 24 hours. */
export const PROFILE_END = 'profile_end'

/** The `shape` object of GET /v1/anomalies/check in combined mode (src/http/routes/check.ts declares it). */
interface ShapeReport {
  status: 'ok' | 'insufficient_data' | 'not_evaluated'
  is_anomaly: boolean
  severity: 'warning' | 'critical' | null
  reason: string | null
  field?: string
  message?: string
  window?: { start: string; end: string }
  window_basis?: 'last_complete_hour' | 'requested'
  similarity?: number | null
  deviation_hour?: number | null
  variant?: string
  threshold?: number
  critical_threshold?: number
  baseline_weeks?: number
  configured_baseline_weeks?: number
  min_baseline_weeks?: number
  profile?: number[]
  baseline_profile?: number[] | null
  baseline_profile_scale?: 'current_total' | 'baseline_mean_total' | null
}

/** The drill-down link of a shape anomaly or incident: the customer page showing that window's profile. */
export function customerHref(customer: string, metric: string, shapeSlot?: string): string {
  return `${pagePath('customer', customer)}${query({ metric, [PROFILE_END]: shapeSlot })}`
}

/** The slot whose window a shape incident is about: its latest run if shape fires there, else its opening. */
export function incidentShapeSlot(i: Incident): string | undefined {
  if (i.firing_signals.includes('shape')) return i.last_seen_at
  return i.opened_by_signal === 'shape' ? i.opened_at : undefined
}

/** The profile_end of a URL as a whole hour that has passed, or why it is ignored. */
export function parseProfileEnd(
  raw: string | null,
  nowMs: number,
): { endMs: number | null; problem?: string } {
  if (raw === null || raw === '') return { endMs: null }
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw)
  if (!Number.isFinite(ms) || ms % HOUR !== 0 || ms > nowMs || ms < 0)
    return { endMs: null, problem: `${PROFILE_END}=${raw} is not a whole hour that has passed` }
  return { endMs: ms }
}

const hh = (hour: number) => `${String(((hour % 24) + 24) % 24).padStart(2, '0')}:00`
const hourSpan = (hour: number) => `${hh(hour)}–${hh(hour + 1)} UTC`

/**
 * One metric's 24 hourly values against the weekday baseline profile, with shape's verdict, as the on-demand
 * check computes them (mode=combined: a window shape cannot judge is reported, not refused).
 */
export async function profilePanel(
  customer: string,
  metric: string,
  endMs: number | null,
  problem?: string,
): Promise<HTMLElement> {
  const params = { customer_id: customer, metric, mode: 'combined' }
  const current = endMs === null ? {} : { current_end: new Date(endMs).toISOString() }
  const { shape } = await api<{ shape: ShapeReport }>(
    `/v1/anomalies/check${query({ ...params, ...current })}`,
  )
  const section = h(
    'section',
    { class: 'profile', 'aria-labelledby': 'profile-title' },
    h('h2', { id: 'profile-title' }, '24-hour profile against its weekday baseline'),
  )
  if (problem) section.append(h('p', { class: 'muted' }, `${problem}: showing the last complete 24 hours.`))
  if (shape.window) {
    const basis =
      shape.window_basis === 'requested'
        ? 'the window of the shape detection you opened'
        : 'the last complete 24 hours'
    section.append(
      h(
        'p',
        {},
        `${basis[0]?.toUpperCase()}${basis.slice(1)}: `,
        time(shape.window.start),
        ' to ',
        time(shape.window.end),
        '. ',
        endMs === null
          ? null
          : h('a', { href: customerHref(customer, metric) }, 'Show the last complete 24 hours'),
      ),
    )
  }
  section.append(verdict(shape))
  const start = shape.window ? new Date(shape.window.start).getUTCHours() : 0
  const profile = shape.profile ?? []
  if (profile.some((v) => v > 0) || shape.baseline_profile) {
    const holder = h('div', { class: 'chart-canvas' })
    section.append(
      h(
        'figure',
        {
          class: 'chart profile-chart',
          'aria-label': `${metric} of ${customer}: hourly profile and baseline`,
        },
        holder,
        h(
          'figcaption',
          {},
          'Hours are UTC hours (shape compares whole UTC hours, whatever your timezone). The solid line is the ',
          "window's usage per hour; the dashed line the mean shape of the same weekday in previous weeks, ",
          shape.baseline_profile_scale === 'baseline_mean_total'
            ? "scaled to those days' mean total (the window is empty)."
            : "scaled to the window's total, so the two differ only where the hours moved.",
        ),
      ),
    )
    queueMicrotask(() => requestAnimationFrame(() => profileChart(holder, shape, start)))
  }
  section.append(
    h(
      'p',
      { class: 'muted' },
      'Computed on demand (GET /v1/anomalies/check, mode=combined) with the detection.shape settings: ',
      'it works whether or not the detection job runs shape (detection.shape.enabled).',
    ),
  )
  return section
}

/** The verdict in words: similarity against threshold and the hour that differs most, or why there is none. */
function verdict(shape: ShapeReport): HTMLElement {
  if (shape.status === 'not_evaluated')
    return notice('empty', 'Shape cannot judge this window.', shape.message ?? 'No reason given.')
  if (shape.status === 'insufficient_data') {
    const title =
      shape.reason === 'too_few_baseline_days'
        ? `Not enough history for a shape verdict: it needs ${shape.min_baseline_weeks} weeks of history (the same weekday in at least ${shape.min_baseline_weeks} of the last ${shape.configured_baseline_weeks} weeks).`
        : shape.reason === 'low_volume'
          ? 'Too little usage in this window to have a shape.'
          : shape.reason === 'empty_day'
            ? 'No usage in this window: an empty day has no shape (volume judges it).'
            : 'Shape has no verdict for this window.'
    return notice('empty', title, `Shape says: ${shape.message ?? shape.reason ?? 'no reason given'}.`)
  }
  const deviation = shape.deviation_hour
  return h(
    'p',
    { class: 'profile-verdict' },
    shape.is_anomaly ? badge(shape.severity ?? 'warning') : badge('normal', 'muted'),
    ' ',
    `Similarity ${fixed(shape.similarity)} against threshold ${fixed(shape.threshold)} `,
    `(critical below ${fixed(shape.critical_threshold)}; ${shape.variant} variant, ${shape.baseline_weeks} baseline weeks): `,
    shape.is_anomaly ? 'the hours moved, a shape anomaly.' : 'the usual shape.',
    deviation === null || deviation === undefined ? '' : ` Largest difference at ${hourSpan(deviation)}.`,
  )
}

const fixed = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(3))

function profileChart(container: HTMLElement, shape: ShapeReport, startHour: number): uPlot {
  const profile = shape.profile ?? []
  const baseline = shape.baseline_profile ?? profile.map(() => null)
  const xs = profile.map((_, i) => i)
  const at = shape.deviation_hour
  const marker = profile.map((v, i) => ((startHour + i) % 24 === at ? v : null))
  const height = 260
  const plot = new uPlot(
    {
      width: Math.max(240, container.clientWidth || 600),
      height,
      legend: { live: true },
      scales: { x: { time: false, range: [0, 23] } },
      axes: [
        {
          label: 'Hour (UTC)',
          incrs: [1, 2, 3, 6],
          values: (_u, ticks) => ticks.map((t) => hh(startHour + t)),
        },
        { values: (_u, ticks) => ticks.map((t) => num(t)), size: 64 },
      ],
      series: [
        { label: 'hour', value: (_u, v) => (v === null ? '—' : hourSpan(startHour + v)) },
        { label: 'this window', stroke: '#1d4ed8', width: 2, value: (_u, v) => num(v) },
        { label: 'weekday baseline', stroke: '#475569', width: 2, dash: [6, 4], value: (_u, v) => num(v) },
        {
          label: 'largest difference',
          stroke: '#b91c1c',
          paths: () => null,
          points: { show: true, size: 11, width: 2, fill: '#fff', stroke: '#b91c1c' },
          value: (_u, v) => num(v),
        },
      ],
    },
    [xs, profile, baseline, marker],
    container,
  )
  responsive(plot, container, height)
  return plot
}
