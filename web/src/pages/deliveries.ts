import { pagePath } from '../../../src/domain/dashboard-pages.js'
import { api, type Delivery } from '../api'
import { badge, button, h, notice, num, table, time } from '../dom'
import type { Viewer } from '../router'
import { act } from './actions'

/** The status line of a page's delivery table (its retries' outcome shows there). */
export const DELIVERIES_AREA = 'deliveries'

/** What POST /v1/alerts/{id}/retry takes: dead letters, storm-held and muted deliveries. */
const RETRYABLE: readonly Delivery['status'][] = ['failed', 'held', 'muted']

/**
 * Alert deliveries with their status and last error; failed, held and muted ones get a Retry button (admin keys), which
 * queues them again and shows the page afresh. The overview's dead letters and a customer's alerts both use it.
 */
export function deliveryTable(
  items: Delivery[],
  viewer: Viewer,
  status: HTMLElement,
  text: { caption: string; empty: [title: string, next: string] },
): HTMLElement {
  if (items.length === 0) return notice('empty', ...text.empty)
  return table(
    ['Created', 'Channel', 'Status', 'Alert', 'Attempts', 'Last error', ''],
    items.map((d) =>
      h(
        'tr',
        { class: d.status === 'failed' ? 'row-failed' : undefined },
        h('td', {}, time(d.created_at)),
        h('td', {}, d.channel),
        h('td', {}, badge(d.status)),
        h(
          'td',
          {},
          d.alert.incident_id
            ? h('a', { href: pagePath('incident', d.alert.incident_id) }, d.alert.title)
            : d.alert.title,
        ),
        h('td', { class: 'num' }, num(d.attempts)),
        h('td', { class: 'error-text' }, d.last_error ?? ''),
        h('td', {}, viewer.canAct && RETRYABLE.includes(d.status) ? retry(d, status) : ''),
      ),
    ),
    text.caption,
  )
}

function retry(d: Delivery, status: HTMLElement): HTMLButtonElement {
  return button(
    'Retry',
    async (event) => {
      const target = event.currentTarget as HTMLButtonElement
      target.disabled = true
      await act(
        status,
        `Delivery to ${d.channel} queued again.`,
        () => api(`/v1/alerts/${encodeURIComponent(d.id)}/retry`, { method: 'POST' }),
        DELIVERIES_AREA,
      )
      target.disabled = false
    },
    { 'aria-label': `Retry delivery to ${d.channel}: ${d.alert.title}` },
  )
}
