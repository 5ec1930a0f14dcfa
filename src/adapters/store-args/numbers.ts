import type { AnomalyRecord } from '../../domain/anomaly.js'
import { signalFieldProblem } from '../../domain/signals/signal.js'
import { isSignalKind, SIGNAL_KINDS, signalFields } from '../../domain/signals/signal-registry.js'
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
  const issues = items.flatMap((item, index) =>
    numberIssues(item as Record<PropertyKey, unknown>, integers, reals, batch ? { index } : {}),
  )
  throwIfAny(what, issues)
}

function numberIssues(
  record: Record<PropertyKey, unknown>,
  integers: readonly PropertyKey[],
  reals: readonly PropertyKey[],
  at: { index?: number },
): FieldIssue[] {
  const issues: FieldIssue[] = []
  for (const field of integers) {
    const v = record[field]
    if (v !== null && !Number.isSafeInteger(v)) {
      issues.push({ field: snakeCase(String(field)), reason: `must be an integer, got ${String(v)}`, ...at })
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
  return issues
}

function throwIfAny(what: string, issues: readonly FieldIssue[]): void {
  if (issues.length > 0) {
    throw new ValidationError(`invalid ${what}: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`, [
      ...issues,
    ])
  }
}

const ANOMALY_INTEGERS = ['detectedAt', 'windowStart', 'windowEnd', 'ttl'] as const
const ANOMALY_REALS = ['currentValue'] as const

/**
 * Refuses records of an unregistered kind, any common number that is not an integer / finite, and any of the
 * signal's own fields whose value its declaration does not allow (a choice field: one of its choices or null);
 * issues carry the record's index and name a signal field as it declares it.
 */
export function checkAnomalyRecords(records: readonly AnomalyRecord[]): void {
  const issues: FieldIssue[] = []
  records.forEach((record, index) => {
    if (!isSignalKind(record.kind)) {
      issues.push({ field: 'kind', reason: `must be one of ${SIGNAL_KINDS.join(', ')}`, index })
      return
    }
    const values = record as unknown as Record<string, unknown>
    issues.push(...numberIssues(values, ANOMALY_INTEGERS, ANOMALY_REALS, { index }))
    for (const [key, field] of signalFields(record.kind)) {
      const reason = signalFieldProblem(field, values[key])
      if (reason !== null) issues.push({ field: field.name, reason, index })
    }
  })
  throwIfAny('anomaly records', issues)
}

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
