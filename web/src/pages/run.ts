import { api, type Run } from '../api'
import { badge, h, heading, num, time } from '../dom'
import type { Route } from '../router'

/** One detection run (job-health alerts link here). */
export async function runPage(route: Route): Promise<HTMLElement> {
  const run = await api<Run>(`/v1/runs/${encodeURIComponent(route.id ?? '')}`)
  const facts: [string, Node | string][] = [
    ['Slot', time(run.slot)],
    ['Status', badge(run.status)],
    ['Started', time(run.timestamp)],
    ['Finished', time(run.finished_at)],
    ['Duration', run.duration_ms === null ? '—' : `${num(run.duration_ms / 1000)} s`],
    ['Trigger', run.trigger],
    ['Customers', num(run.customers)],
    ['Series checked', num(run.checked)],
    ['Insufficient data', num(run.insufficient_data)],
    ['Anomalies found', num(run.anomalies_found)],
    [
      'Incidents opened / escalated / resolved',
      `${run.incidents_opened} / ${run.incidents_escalated} / ${run.incidents_resolved}`,
    ],
  ]
  return h(
    'section',
    {},
    heading('Detection run', h('code', {}, run.run_id)),
    run.error ? h('p', { class: 'notice notice-error', role: 'alert' }, `Error: ${run.error}`) : null,
    h(
      'dl',
      { class: 'facts' },
      facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    h('p', {}, h('a', { href: '/' }, 'Back to the overview')),
  )
}
