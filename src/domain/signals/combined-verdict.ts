import type { Direction, Severity } from '../volume.js'
import type { SignalVerdict } from './signal.js'
import { SHAPE_KIND, type SignalKind, VOLUME_KIND } from './signal-registry.js'

/** Which signals an on-demand check evaluates (`mode` of GET /v1/anomalies/check, `meterflow check --mode`). */
export const CHECK_MODES = ['volume', 'shape', 'combined'] as const
export type CheckMode = (typeof CHECK_MODES)[number]
export const DEFAULT_CHECK_MODE: CheckMode = 'combined'

export function isCheckMode(value: unknown): value is CheckMode {
  return typeof value === 'string' && (CHECK_MODES as readonly string[]).includes(value)
}

/** The signals a mode evaluates, in registration order (the order that names a combined verdict's direction). */
export function modeSignals(mode: CheckMode): SignalKind[] {
  if (mode === 'volume') return [VOLUME_KIND]
  if (mode === 'shape') return [SHAPE_KIND]
  return [VOLUME_KIND, SHAPE_KIND]
}

const SEVERITY_RANK: Record<Severity, number> = { warning: 0, critical: 1 }

/** Several signals' verdicts on one series as one: what incidents and the combined check report. */
export interface CombinedVerdict {
  /** Any signal fired. */
  isAnomaly: boolean
  /** The highest severity among the firing signals. */
  severity: Severity | null
  /** The first firing signal's (registration order). */
  direction: Direction | null
  /** The firing signals, in the order given. */
  fired: SignalKind[]
  /** At least one signal reached a verdict (a run with none firing is then clean). */
  judged: boolean
}

/**
 * Combines verdicts given in registration order. A verdict fires when it has one (`ok`), is anomalous and says its
 * severity and direction (incidents need both). Pure.
 */
export function combineVerdicts(verdicts: readonly SignalVerdict<SignalKind>[]): CombinedVerdict {
  const firing = verdicts.filter(
    (v): v is SignalVerdict<SignalKind> & { severity: Severity; direction: Direction } =>
      v.status === 'ok' && v.isAnomaly && v.severity !== null && v.direction !== null,
  )
  const severity = firing.reduce<Severity | null>(
    (worst, v) => (worst === null || SEVERITY_RANK[v.severity] > SEVERITY_RANK[worst] ? v.severity : worst),
    null,
  )
  return {
    isAnomaly: firing.length > 0,
    severity,
    direction: firing[0]?.direction ?? null,
    fired: firing.map((v) => v.kind),
    judged: verdicts.some((v) => v.status === 'ok'),
  }
}
