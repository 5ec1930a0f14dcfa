export type RunStatus = 'running' | 'completed' | 'failed'

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
  trigger: 'schedule' | 'api' | 'cli' | 'lambda'
  error: string | null
}
