import { type FieldIssue, ValidationError } from '../../errors.js'

// Validation of numbers before they reach a store, shared by the SQLite and DynamoDB adapters.
// STRICT tables refuse a fractional value in an INTEGER column and SQLite turns NaN into NULL; both would
// surface as a confusing store failure. DynamoDB refuses NaN and Infinity too, so they are refused here alike.

/** Issues name fields as the API does (detected_at, not detectedAt). */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

type Numeric<T> = { [K in keyof T]: T[K] extends number | null ? K : never }[keyof T]

/**
 * Throws a ValidationError naming every non-integer (integers) or non-finite (reals) field; null passes.
 * Issues carry the item's index when `items` is a batch.
 */
export function checkNumbers<T extends object>(
  what: string,
  items: readonly T[],
  integers: readonly Numeric<T>[],
  reals: readonly Numeric<T>[],
  batch = true,
): void {
  const issues: FieldIssue[] = []
  items.forEach((item, index) => {
    const record = item as Record<PropertyKey, unknown>
    const at = batch ? { index } : {}
    for (const field of integers) {
      const v = record[field]
      if (v !== null && !Number.isSafeInteger(v)) {
        issues.push({
          field: snakeCase(String(field)),
          reason: `must be an integer, got ${String(v)}`,
          ...at,
        })
      }
    }
    for (const field of reals) {
      const v = record[field]
      if (v !== null && !(typeof v === 'number' && Number.isFinite(v))) {
        issues.push({
          field: snakeCase(String(field)),
          reason: `must be a finite number, got ${String(v)}`,
          ...at,
        })
      }
    }
  })
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid ${what}: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
      issues,
    )
  }
}

export const ANOMALY_INTEGERS = ['detectedAt', 'windowStart', 'windowEnd', 'samples', 'ttl'] as const
export const ANOMALY_REALS = ['currentValue', 'baselineMean', 'baselineStddev', 'zScore'] as const
export const INCIDENT_INTEGERS = [
  'openedAt',
  'lastSeenAt',
  'resolvedAt',
  'detections',
  'cleanRuns',
  'lastEvaluatedSlot',
] as const
export const INCIDENT_REALS = ['peakZScore', 'lastZScore'] as const
export const RUN_INTEGERS = [
  'slot',
  'startedAt',
  'finishedAt',
  'checked',
  'customers',
  'anomaliesFound',
  'anomaliesStored',
  'insufficientData',
  'incidentsOpened',
  'incidentsEscalated',
  'incidentsResolved',
] as const
export const RUN_REALS = ['durationMs'] as const
export const CUSTOMER_INTEGERS = ['updatedAt'] as const
export const CUSTOMER_REALS = ['threshold', 'criticalThreshold'] as const
