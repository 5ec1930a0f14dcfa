/**
 * The orders the anomaly and incident listings offer, declared once: the API's `sort` parameter, the stores' ORDER
 * BY and cursor keys, and the dashboard's sort menu derive from these lists. Pure: the browser bundle imports it.
 * A leading `-` means descending. Every order ends with the listing's unique key, so it is total and a
 * cursor resumes exactly. Only the time orders follow a key DynamoDB stores; the others need the SQLite store.
 */
export const ANOMALY_SORTS = {
  '-detected_at': 'newest first',
  detected_at: 'oldest first',
  severity: 'critical first, then newest',
  customer_id: 'customer A→Z, then newest',
} as const

export const INCIDENT_SORTS = {
  '-opened_at': 'newest opened first',
  opened_at: 'oldest opened first',
  severity: 'critical first, then newest',
  customer_id: 'customer A→Z, then newest',
  '-peak_z_score': 'strongest |peak z| first',
} as const

export type AnomalySort = keyof typeof ANOMALY_SORTS
export type IncidentSort = keyof typeof INCIDENT_SORTS

export const DEFAULT_ANOMALY_SORT: AnomalySort = '-detected_at'
export const DEFAULT_INCIDENT_SORT: IncidentSort = '-opened_at'

/** The orders a store keyed on time alone (DynamoDB's table, GSI and incident partition) answers without a scan. */
export const TIME_SORTS: readonly string[] = ['-detected_at', 'detected_at', '-opened_at', 'opened_at']

export function isTimeSort(sort: string): boolean {
  return TIME_SORTS.includes(sort)
}

/** Oldest first (the key read forwards) rather than newest first. */
export function isAscendingTimeSort(sort: string): boolean {
  return sort === 'detected_at' || sort === 'opened_at'
}
