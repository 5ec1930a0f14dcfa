import { api, type Incident } from '../api'
import { badge, h, heading, num, time, z } from '../dom'
import type { Route, Viewer } from '../router'
import { incidentActions } from './actions'
import { customerHref, incidentShapeSlot } from './profile-panel'
import { seriesPanel } from './series-panel'

const DAY = 86_400_000
const HOUR = 3_600_000
const MAX_RANGE = 30 * DAY

/** One incident (alert links open this page): what happened, the chart around it, and what to do about it. */
export async function incidentPage(route: Route, viewer: Viewer): Promise<HTMLElement> {
  const incident = await api<Incident>(`/v1/incidents/${encodeURIComponent(route.id ?? '')}`)
  const nextHour = Math.floor(Date.now() / HOUR) * HOUR + HOUR
  const end = Math.min(nextHour, incident.resolved_at ? Date.parse(incident.resolved_at) + DAY : nextHour)
  const since = Math.max(Date.parse(incident.opened_at) - 3 * DAY, end - MAX_RANGE)
  const facts: [string, Node | string][] = [
    [
      'Customer',
      h(
        'a',
        {
          href: customerHref(incident.customer_id, incident.metric, incidentShapeSlot(incident)),
        },
        incident.customer_id,
      ),
    ],
    ['Metric', incident.metric],
    ['Status', badge(incident.status)],
    ['Severity', badge(incident.severity)],
    ['Direction', incident.direction],
    ['Opened', time(incident.opened_at)],
    ['Last seen', time(incident.last_seen_at)],
    ['Resolved', time(incident.resolved_at)],
    ['Peak z', z(incident.peak_z_score)],
    ['Last z', z(incident.last_z_score)],
    ['Detections', num(incident.detections)],
    [
      'Acknowledged',
      incident.acknowledged_at
        ? h(
            'span',
            {},
            time(incident.acknowledged_at),
            incident.acknowledged_by ? ` by ${incident.acknowledged_by}` : '',
          )
        : 'no',
    ],
    [
      'Label',
      incident.feedback
        ? h(
            'span',
            {},
            badge(incident.feedback.label),
            incident.feedback.note ? ` — ${incident.feedback.note}` : '',
          )
        : 'none',
    ],
  ]
  return h(
    'section',
    {},
    heading(
      `${incident.customer_id} · ${incident.metric}`,
      h('span', {}, `Incident `, h('code', {}, incident.id)),
    ),
    h(
      'div',
      { class: 'grid-2' },
      h(
        'dl',
        { class: 'facts' },
        facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
      h('div', {}, h('h2', {}, 'Actions'), incidentActions(incident, viewer)),
    ),
    h('h2', {}, 'Usage around the incident'),
    (await seriesPanel(incident.customer_id, incident.metric, since, end)).element,
  )
}
