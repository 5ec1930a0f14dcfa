// The MeterFlow HTTP API as the dashboard uses it (same origin; the session cookie rides along).

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface Incident {
  id: string
  customer_id: string
  metric: string
  status: 'open' | 'resolved'
  severity: 'warning' | 'critical'
  direction: 'spike' | 'drop'
  opened_at: string
  last_seen_at: string
  resolved_at: string | null
  peak_z_score: number
  last_z_score: number
  opened_by_signal: string
  firing_signals: string[]
  detections: number
  acknowledged_at: string | null
  acknowledged_by: string | null
  feedback: { label: 'planned' | 'false_positive'; at: string; by: string | null; note: string | null } | null
}

export interface Anomaly {
  customer_id: string
  metric: string
  detected_at: string
  /** The signal; volume records carry baseline_* and z_score, shape records the similarity. */
  kind: string
  current_value: number
  baseline_mean?: number
  baseline_stddev?: number
  z_score?: number
  /** Volume: the window that fired (null on records stored before it was recorded). */
  window_kind?: 'day' | 'hour' | 'recent' | null
  shape_similarity?: number
  shape_threshold?: number
  severity: 'warning' | 'critical'
  direction: 'spike' | 'drop'
  window: { start: string; end: string }
  incident_id: string | null
}

export interface Run {
  run_id: string
  slot: string
  status: 'running' | 'completed' | 'failed'
  checked: number
  anomalies_found: number
  timestamp: string
  duration_ms: number | null
  finished_at: string | null
  customers: number
  insufficient_data: number
  incidents_opened: number
  incidents_escalated: number
  incidents_resolved: number
  trigger: string
  error: string | null
}

export interface Delivery {
  id: string
  channel: string
  status: 'pending' | 'delivered' | 'failed' | 'held' | 'muted' | 'suppressed'
  attempts: number
  next_attempt_at: string | null
  last_error: string | null
  created_at: string
  updated_at: string
  alert: {
    id: string
    kind: string
    severity: string
    title: string
    incident_id: string | null
    customer_id: string | null
    metric: string | null
  }
}

export interface Mute {
  id: string
  customer_id: string | null
  metric: string | null
  until: string
  reason: string | null
  created_at: string
}

export interface Customer {
  customer_id: string
  status: 'active' | 'disabled'
  threshold: number | null
  critical_threshold: number | null
  metrics: string[] | null
  detector: Record<string, unknown> | null
  registered: boolean
}

export interface SeriesPoint {
  slot: string
  value: number
  status: 'ok' | 'insufficient_data'
  baseline_mean: number
  baseline_stddev: number
  effective_stddev: number
  samples: number
  lower: number | null
  upper: number | null
  z_score: number | null
  anomaly: { window: string; z_score: number; severity: string; direction: string | null } | null
}

export interface Series {
  customer_id: string
  metric: string
  aggregation: string
  window: 'day' | 'hour' | 'recent'
  since: string
  until: string
  baseline_days: number
  threshold: number
  critical_threshold: number
  detector: Record<string, unknown>
  checked: boolean
  first_event_at: string | null
  points: SeriesPoint[]
}

export interface Session {
  auth: 'on' | 'off'
  via: 'bearer' | 'cookie' | null
  key: { id: string; name: string; scopes: string[] } | null
}

export interface Metric {
  name: string
  aggregation: string
  description?: string | null
  unit?: string | null
}

/** An API error as the server describes it: `{ error, message, details }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; reason: string }[] = [],
  ) {
    super(message)
  }
}

/** Told when a request finds the session gone (never signed in, expired, or the key revoked). */
export const sessionLost = new EventTarget()

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
  } catch {
    throw new ApiError(0, 'network', 'The MeterFlow server did not answer. Is it running? Retry in a moment.')
  }
  if (response.status === 204) return undefined as T
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    const error = body as { error?: string; message?: string; details?: { field: string; reason: string }[] }
    if (response.status === 401) sessionLost.dispatchEvent(new Event('lost'))
    throw new ApiError(
      response.status,
      error?.error ?? 'http_error',
      error?.message ?? `HTTP ${response.status}`,
      error?.details ?? [],
    )
  }
  return body as T
}

/** A query string from the set values (undefined and '' are left out). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}

/** Every page of a list, up to `max` items (the overview's counts and histogram). */
export async function allPages<T>(
  path: string,
  params: Record<string, string | number | undefined>,
  max: number,
) {
  const items: T[] = []
  let cursor: string | undefined
  do {
    const page = await api<Page<T>>(`${path}${query({ ...params, limit: 1000, cursor })}`)
    items.push(...page.items)
    cursor = page.next_cursor ?? undefined
  } while (cursor && items.length < max)
  return { items: items.slice(0, max), complete: cursor === undefined }
}
