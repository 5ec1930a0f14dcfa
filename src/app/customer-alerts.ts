import type { AlertDelivery } from '../domain/alert.js'
import { incidentAlertId } from '../domain/alert-factory.js'
import type { Page } from '../domain/anomaly.js'
import type { Incident } from '../domain/incident.js'
import type { AnomalyStore } from '../ports.js'

/** The alerts an incident can have raised: its opening, its escalation (keyed by the opening) and its resolution. */
function incidentAlertIds(incident: Incident): string[] {
  const ids = [
    incidentAlertId(incident, 'opened', incident.openedAt),
    incidentAlertId(incident, 'escalated', incident.openedAt),
  ]
  if (incident.resolvedAt !== null) ids.push(incidentAlertId(incident, 'resolved', incident.resolvedAt))
  return ids
}

/**
 * The alert deliveries of a customer's incidents, a page of `limit` incidents at a time (newest opened first):
 * the outbox is keyed by alert id, which an incident's alerts derive from, so each incident costs a few key-range
 * reads and nothing scans the outbox. Deliveries newest first; the cursor continues with older incidents.
 */
export async function customerAlerts(
  store: AnomalyStore,
  customerId: string,
  page: { limit: number; cursor?: string },
): Promise<Page<AlertDelivery> & { incidents: number }> {
  const incidents = await store.listIncidents({ customerId, limit: page.limit, cursor: page.cursor })
  const deliveries = await store.alerts.ofAlerts(incidents.items.flatMap(incidentAlertIds))
  deliveries.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  return { items: deliveries, nextCursor: incidents.nextCursor, incidents: incidents.items.length }
}
