import { floorToHour, HOUR_MS, MIN_TIMESTAMP_MS, toIso } from './time.js'

export type RunStatus = 'running' | 'completed' | 'failed'

/** What started a run. */
export const RUN_TRIGGERS = ['schedule', 'api', 'cli', 'lambda'] as const
export type RunTrigger = (typeof RUN_TRIGGERS)[number]

/** The record of one detection run; the seed handler's `{ checked, anomalies_found, timestamp, duration_ms }` and more. */
export interface DetectionRun {
  runId: string
  /** The scheduled slot (ms); the run's detection window is [slot - 24 h, slot). */
  slot: number
  status: RunStatus
  startedAt: number
  finishedAt: number | null
  durationMs: number | null
  /** customer x metric pairs evaluated */
  checked: number
  customers: number
  anomaliesFound: number
  /** of anomaliesFound, those this run stored for the first time (a replayed slot stores none) */
  anomaliesStored: number
  insufficientData: number
  incidentsOpened: number
  incidentsEscalated: number
  incidentsResolved: number
  trigger: RunTrigger
  error: string | null
}

/**
 * Why `slot` cannot be run at `nowMs`, or null. A slot is an hour that has begun: one beyond the current hour would
 * be recorded as the latest run, and every real run after it would count as a backfill and open no incident.
 */
export function slotProblem(slot: number, nowMs: number): string | null {
  if (!Number.isFinite(slot)) return 'must be a finite time'
  if (slot < MIN_TIMESTAMP_MS) return 'must not be before 2000-01-01'
  if (isFutureSlot(slot, nowMs)) return `must not lie beyond the current hour (${toIso(floorToHour(nowMs))})`
  return null
}

/** A slot after the current hour: a run record holding one (stored before slots were checked) is not progress. */
export function isFutureSlot(slot: number, nowMs: number): boolean {
  return slot >= firstFutureSlot(nowMs)
}

/** The first slot that cannot have run yet: stores treat a stored slot from here on as never evaluated. */
export function firstFutureSlot(nowMs: number): number {
  return floorToHour(nowMs) + HOUR_MS
}
