import { ApiError, api, type Incident, type Mute } from '../api'
import { button, h } from '../dom'
import { refresh, type Viewer } from '../router'

const MUTE_PERIODS: [label: string, minutes: number][] = [
  ['1 hour', 60],
  ['4 hours', 240],
  ['1 day', 1440],
  ['7 days', 10080],
]

let announcement = { area: '', text: '' }

/**
 * Runs an action; its outcome is announced (role=status), the page is shown again with fresh data. `area` names
 * the status line that shows the outcome on the fresh page, when a page has more than one.
 */
export async function act(
  status: HTMLElement,
  done: string,
  work: () => Promise<unknown>,
  area = '',
): Promise<void> {
  status.textContent = 'Working…'
  try {
    await work()
    announcement = { area, text: done }
    refresh()
  } catch (err) {
    status.textContent = err instanceof ApiError ? `Failed: ${err.message}` : `Failed: ${String(err)}`
  }
}

/** What an admin can do about an incident: acknowledge, label, mute. */
export function incidentActions(incident: Incident, viewer: Viewer): HTMLElement {
  const status = h('p', { class: 'action-status', role: 'status' }, takeAnnouncement())
  if (!viewer.canAct) {
    return h(
      'div',
      { class: 'actions' },
      h('p', { class: 'muted' }, 'Actions need a key with the admin scope.'),
      status,
    )
  }
  const id = encodeURIComponent(incident.id)
  const note = h('input', { id: 'feedback-note', type: 'text', maxlength: 1000, placeholder: 'optional' })
  const ack = button(
    incident.acknowledged_at ? 'Acknowledged' : 'Acknowledge',
    () =>
      act(status, 'Incident acknowledged.', () =>
        api(`/v1/incidents/${id}/ack`, { method: 'POST', body: {} }),
      ),
    { disabled: incident.status !== 'open' || incident.acknowledged_at !== null, class: 'primary' },
  )
  const label = (value: 'planned' | 'false_positive', text: string) =>
    button(text, () =>
      act(status, `Labelled ${text.toLowerCase()}.`, () =>
        api(`/v1/incidents/${id}/feedback`, {
          method: 'POST',
          body: { label: value, ...(note.value.trim() ? { note: note.value.trim() } : {}) },
        }),
      ),
    )
  return h(
    'div',
    { class: 'actions' },
    h('div', { class: 'action-row' }, ack),
    h(
      'div',
      { class: 'action-row' },
      h('label', { for: 'feedback-note' }, 'Note'),
      note,
      label('planned', 'Planned'),
      label('false_positive', 'False positive'),
    ),
    muteForm(status, { customer_id: incident.customer_id, metric: incident.metric }),
    status,
  )
}

/** Mute alerts for the customer, the metric, or both, for a period (POST /v1/mutes). */
export function muteForm(status: HTMLElement, target: { customer_id: string; metric?: string }): HTMLElement {
  const scope = h(
    'select',
    { id: 'mute-scope' },
    target.metric ? h('option', { value: 'both' }, `${target.customer_id} × ${target.metric}`) : null,
    h('option', { value: 'customer' }, `customer ${target.customer_id} (all metrics)`),
    target.metric ? h('option', { value: 'metric' }, `metric ${target.metric} (all customers)`) : null,
  )
  const period = h(
    'select',
    { id: 'mute-period' },
    MUTE_PERIODS.map(([text, minutes]) => h('option', { value: minutes }, text)),
  )
  const submit = button('Mute alerts', () => {
    const body: Record<string, string | number> = {
      minutes: Number(period.value),
      reason: 'muted from the dashboard',
    }
    if (scope.value !== 'metric') body.customer_id = target.customer_id
    if (scope.value !== 'customer' && target.metric) body.metric = target.metric
    return act(status, `Muted for ${period.selectedOptions[0]?.textContent ?? ''}.`, () =>
      api<Mute>('/v1/mutes', { method: 'POST', body }),
    )
  })
  return h(
    'div',
    { class: 'action-row' },
    h('label', { for: 'mute-scope' }, 'Mute'),
    scope,
    h('label', { for: 'mute-period' }, 'for'),
    period,
    submit,
  )
}

/** The outcome of the action that led to this render, said once. */
export function takeAnnouncement(area = ''): string {
  if (announcement.area !== area) return ''
  const { text } = announcement
  announcement = { area: '', text: '' }
  return text
}
