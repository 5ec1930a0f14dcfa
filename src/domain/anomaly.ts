import type { Direction, Severity } from './volume.js'

export const ANOMALY_RETENTION_DAYS = 90

/** One detection of one customer's metric in one run; the seed's DynamoDB item, field for field, plus context. */
export interface AnomalyRecord {
  customerId: string
  metric: string
  /** The slot the run evaluated (ms): with customer and metric, the record's identity. */
  detectedAt: number
  currentValue: number
  baselineMean: number
  baselineStddev: number
  zScore: number
  severity: Severity
  direction: Direction
  windowStart: number
  windowEnd: number
  samples: number
  incidentId: string | null
  runId: string
  /** Epoch seconds after which the store drops the record (the seed's `ttl`). */
  ttl: number
}

export function retentionTtl(nowMs: number): number {
  return Math.floor(nowMs / 1000) + ANOMALY_RETENTION_DAYS * 86_400
}

export interface AnomalyQuery {
  customerId?: string
  metric?: string
  severity?: Severity
  /** detected_at >= since (ms) */
  since?: number
  /** detected_at < until (ms) */
  until?: number
  limit: number
  /** Opaque continuation from the previous page. */
  cursor?: string
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}
