import { type AnomalyRecord, retentionTtl } from '../domain/anomaly.js'
import type { CustomerProfile } from '../domain/customer.js'
import type { DetectorConfig } from '../domain/detector.js'
import { applySignals, feedbackExclusion, type Incident, type TimeRange } from '../domain/incident.js'
import { isFutureSlot } from '../domain/run.js'
import { type CustomerRange, inRange } from '../domain/shard.js'
import type { SignalVerdict } from '../domain/signals/signal.js'
import type { SignalKind } from '../domain/signals/signal-registry.js'
import { evaluateVolume, VOLUME_SIGNAL, type VolumeEvaluation } from '../domain/signals/volume-signal.js'
import { DAY_MS, HOUR_MS, toIso } from '../domain/time.js'
import type { Severity, VolumeOptions } from '../domain/volume.js'
import { OutOfTimeError } from '../errors.js'
import type { SeriesWindows } from '../ports.js'
import type { TransitionAlert } from './alerting/raise.js'
import { chunkShapeReader, type SeriesShape, seriesKey } from './chunk-shapes.js'
import { embeddedVectorIndex } from './embedded-vector-index.js'
import type { DetectionDeps } from './run-detection.js'
import { windowReadsNeeded } from './window-reads.js'

/** The run an evaluation belongs to: decided once per run (by the coordinator when sharded). */
export interface RunFrame {
  runId: string
  slot: number
  startedAt: number
  /** A slot older than the latest completed one: anomalies are stored, incidents do not move. */
  backfill: boolean
}

/** What evaluating one customer range came to: counts, plus what the finish writes once for the whole run. */
export interface RangeEvaluation {
  checked: number
  /** Distinct customers checked (ranges are disjoint, so shards add up). */
  customers: number
  insufficientData: number
  anomaliesFound: number
  anomaliesStored: number
  anomaliesBySeverity: Record<Severity, number>
  /** Transitions computed for this range; the finish raises them (storm guard over the whole run), then writes. */
  candidates: TransitionAlert[]
  /** Incidents whose state changed. */
  changed: Incident[]
}

const WRITE_CHUNK = 500
const key = seriesKey

/**
 * Judges every series of the customers in `range` for the run's slot and stores their anomalies (keyed, so a
 * repeat stores nothing twice). Incidents and alerts are not written here: the finish does that once for the whole
 * run, so that the storm guard and the outbox-before-incidents order hold across shards. `deadline` (ms) stops the
 * evaluation between chunks with an OutOfTimeError, leaving enough time to record the failure.
 */
export async function evaluateRange(
  deps: DetectionDeps,
  frame: RunFrame,
  range: CustomerRange,
  deadline?: number,
  /** Told the series checked so far after every chunk: a run that fails part-way records how far it got. */
  progress?: (checked: number) => void,
): Promise<RangeEvaluation> {
  const { slot, backfill } = frame
  const shapeConfig = deps.shape ?? null
  const shapeIndex = deps.shapeIndex ?? embeddedVectorIndex(deps.usage)
  const registry = await deps.metrics.refresh()
  const profiles = new Map((await deps.anomalies.listCustomers()).map((p) => [p.customerId, p]))
  // Open incidents not yet met in this run's series; what is left at the end had no usage in the whole period.
  // An incident last evaluated at a future slot (by a run accepted before slots were checked) counts as not yet
  // evaluated by this run; otherwise it would never move again (the stores accept the overwrite).
  const unseen = new Map(
    (await deps.anomalies.openIncidents())
      .filter((i) => inRange(i.customerId, range))
      .map((i) => [
        key(i.customerId, i.metric),
        isFutureSlot(i.lastEvaluatedSlot, frame.startedAt) ? { ...i, lastEvaluatedSlot: slot - HOUR_MS } : i,
      ]),
  )
  const open = new Map(unseen)
  // Periods people labelled (planned activity; false positives too if configured) are not baseline samples.
  const baselineStart = slot - (deps.volume.baselineDays + 1) * DAY_MS
  const excluded = new Map<string, TimeRange[]>()
  const excludedLabels = deps.excludedLabels ?? ['planned']
  for (const incident of await deps.anomalies.labelledIncidents(baselineStart)) {
    if (!incident.feedback || !excludedLabels.includes(incident.feedback.label)) continue
    const k = key(incident.customerId, incident.metric)
    excluded.set(k, [...(excluded.get(k) ?? []), feedbackExclusion(incident)])
  }
  const result: RangeEvaluation = {
    checked: 0,
    customers: 0,
    insufficientData: 0,
    anomaliesFound: 0,
    anomaliesStored: 0,
    anomaliesBySeverity: { warning: 0, critical: 0 },
    candidates: [],
    changed: [],
  }
  const records: AnomalyRecord[] = []
  const customers = new Set<string>()
  const ttl = retentionTtl(frame.startedAt)

  // Persistence (N of M runs): how many of the previous M - 1 slots stored an anomaly for the series. Asked only
  // for an anomalous series without an open incident, so a run makes a handful of these lookups.
  const anomalousBefore = async (s: SeriesWindows, window: number): Promise<number> => {
    if (window <= 1) return 0
    const page = await deps.anomalies.queryAnomalies({
      customerId: s.customerId,
      metric: s.metric,
      // Persistence is the volume detector's setting: it counts that signal's own detections.
      kind: VOLUME_SIGNAL.kind,
      since: slot - (window - 1) * HOUR_MS,
      until: slot,
      limit: window,
    })
    return page.items.length
  }

  /** Applies one series' verdicts: incident step, alert candidate, anomaly records. */
  const settle = (
    s: SeriesWindows,
    volume: VolumeEvaluation,
    shape: SeriesShape | null,
    current: Incident | null,
    persisted: boolean,
  ) => {
    const { detection } = volume
    // A volume anomaly short of its persistence opens nothing (its record is still stored); shape still may.
    const volumeVerdict = persisted ? volume.verdict : { ...volume.verdict, isAnomaly: false }
    const verdicts = shape ? [volumeVerdict, shape.evaluation.verdict] : [volumeVerdict]
    const step = backfill
      ? { incident: current, transition: null }
      : applySignals(s, current, verdicts, slot, deps.incidents)
    if (step.incident && step.incident !== current) result.changed.push(step.incident)
    const quoted =
      step.transition && step.transition !== 'updated' ? quotedVerdict(step.transition, verdicts) : null
    if (step.incident && step.transition && step.transition !== 'updated' && quoted) {
      const common = { slot, currentValue: quoted.currentValue }
      result.candidates.push({
        incident: step.incident,
        transition: step.transition,
        detection:
          quoted.kind === 'shape' && shape
            ? {
                ...common,
                signal: 'shape',
                baselineMean: shape.baselineMean,
                baselineStddev: shape.baselineStddev,
                zScore: null,
                shapeSimilarity: quoted.statistic,
                shapeThreshold: shape.evaluation.fields?.shapeThreshold ?? null,
                windowStart: slot - DAY_MS,
                windowEnd: slot,
              }
            : {
                ...common,
                signal: 'volume',
                baselineMean: detection.verdict.baseline.mean,
                baselineStddev: detection.verdict.baseline.stddev,
                zScore: quoted.statistic,
                windowStart: detection.windowStart,
                windowEnd: detection.windowEnd,
                windowKind: detection.window,
              },
      })
    }
    const incidentId = step.incident?.id ?? null
    const { verdict, fields } = volume
    if (verdict.isAnomaly && verdict.severity && verdict.direction && fields) {
      records.push({
        kind: verdict.kind,
        customerId: s.customerId,
        metric: s.metric,
        detectedAt: slot,
        currentValue: verdict.currentValue,
        severity: verdict.severity,
        direction: verdict.direction,
        windowStart: detection.windowStart,
        windowEnd: detection.windowEnd,
        ...fields,
        incidentId,
        runId: frame.runId,
        ttl,
      })
    }
    const sv = shape?.evaluation.verdict
    const shapeFields = shape?.evaluation.fields
    if (sv?.isAnomaly && sv.severity && sv.direction && shapeFields) {
      records.push({
        kind: sv.kind,
        customerId: s.customerId,
        metric: s.metric,
        detectedAt: slot,
        currentValue: sv.currentValue,
        severity: sv.severity,
        direction: sv.direction,
        windowStart: slot - DAY_MS,
        windowEnd: slot,
        ...shapeFields,
        incidentId,
        runId: frame.runId,
        ttl,
      })
    }
  }

  // Once per metric, not per series: this loop runs for every customer x metric.
  const detectors = new Map<string, DetectorConfig>()
  const detectorOf = (metric: string): DetectorConfig => {
    let detector = detectors.get(metric)
    if (!detector) {
      detector = deps.detectorFor(metric)
      detectors.set(metric, detector)
    }
    return detector
  }

  // A customer without a profile (most of them) is judged with the defaults: one options object for all of them.
  const defaultOptions = optionsFor(deps.volume, undefined)

  /** Judges one series; returns a promise only when persistence needs the stored history (rare). */
  const evaluate = (s: SeriesWindows, sKey: string, shape: SeriesShape | null): Promise<void> | undefined => {
    const profile = profiles.get(s.customerId)
    if (!isChecked(profile, s)) return undefined
    customers.add(s.customerId)
    result.checked++
    const base = detectorOf(s.metric)
    const detector = profile?.detector ? { ...base, ...profile.detector } : base
    const ranges = excluded.get(sKey)
    const history = ranges ? { ...s, excluded: ranges } : s
    const volume = evaluateVolume(
      history,
      detector,
      profile ? optionsFor(deps.volume, profile) : defaultOptions,
    )
    if (volume.verdict.status === 'insufficient_data') result.insufficientData++
    const current = open.get(sKey) ?? null
    // Nothing open and nothing firing: no incident step, no record (applySignals would return no incident).
    if (current === null && !volume.verdict.isAnomaly && !shape?.evaluation.verdict.isAnomaly)
      return undefined
    if (current !== null || !volume.verdict.isAnomaly || backfill || detector.persistRuns <= 1) {
      settle(s, volume, shape, current, true)
      return undefined
    }
    // A window shorter than the runs asked for could never be satisfied: it is at least persistRuns long.
    return anomalousBefore(s, Math.max(detector.persistWindow, detector.persistRuns)).then((before) =>
      settle(s, volume, shape, current, before + 1 >= detector.persistRuns),
    )
  }

  const checkTime = (what: string) => {
    if (deadline !== undefined && deps.clock.now() > deadline) {
      throw new OutOfTimeError(
        `out of time: stopped ${what} at ${toIso(deps.clock.now())} (deadline ${toIso(deadline)}); ${result.checked} series checked so far, nothing of this run's incidents or alerts written`,
      )
    }
  }

  // The store reads the recent hours and each day's hour only when a detector in use (a metric's, or a customer's
  // override) has that window.
  const reads = windowReadsNeeded(
    registry.list().map((m) => detectorOf(m.name)),
    [...profiles.values()].flatMap((p) => (p.detector ? [p.detector] : [])),
  )
  // Shape: judged chunk by chunk beside volume, its profiles read in the same scan where the index allows.
  const shapeReader = shapeConfig ? chunkShapeReader(shapeIndex, slot, shapeConfig, registry.list()) : null
  for await (const chunk of deps.usage.seriesWindows(slot, deps.volume.baselineDays, registry.list(), range, {
    ...reads,
    shapeWeeks: shapeReader?.scanWeeks ?? null,
  })) {
    checkTime('between chunks')
    const shapes = shapeReader ? await shapeReader.shapesOf(chunk) : null
    for (let i = 0; i < chunk.length; i++) {
      const s = chunk[i] as SeriesWindows
      const k = key(s.customerId, s.metric)
      unseen.delete(k)
      const pending = evaluate(s, k, shapes?.[i] ?? null)
      if (pending) await pending
    }
    progress?.(result.checked)
  }
  // A series with an open incident but no usage left in the whole period is zero against zero: clean, so the
  // incident can resolve instead of staying open forever.
  for (const incident of unseen.values()) {
    if (!registry.has(incident.metric)) continue
    const { customerId, metric } = incident
    const zeros = new Array<number>(deps.volume.baselineDays + 1).fill(0)
    const firstHourMs = slot - (deps.volume.baselineDays + 1) * DAY_MS
    await evaluate(
      { customerId, metric, slot, firstHourMs, daily: zeros, hourly: zeros },
      key(customerId, metric),
      null,
    )
  }
  checkTime('before storing anomalies')
  result.customers = customers.size
  result.anomaliesFound = records.length
  for (const r of records) result.anomaliesBySeverity[r.severity]++
  for (let i = 0; i < records.length; i += WRITE_CHUNK) {
    result.anomaliesStored += await deps.anomalies.putAnomalies(records.slice(i, i + WRITE_CHUNK))
  }
  return result
}

/**
 * The verdict an alert quotes for a transition: the opener for an opening, the first critical firing verdict for
 * an escalation, the first with a verdict for a resolution (its clean value); null when none fits.
 */
function quotedVerdict(
  transition: 'opened' | 'escalated' | 'resolved',
  verdicts: readonly SignalVerdict<SignalKind>[],
): SignalVerdict<SignalKind> | null {
  const firing = verdicts.filter((v) => v.status === 'ok' && v.isAnomaly && v.severity && v.direction)
  if (transition === 'opened') return firing[0] ?? null
  if (transition === 'escalated') return firing.find((v) => v.severity === 'critical') ?? null
  return verdicts.find((v) => v.status === 'ok') ?? null
}

/** Whether the job checks this series: the customer is not disabled and the metric is among its metrics. */
export function isChecked(
  profile: CustomerProfile | undefined,
  series: Pick<SeriesWindows, 'metric'>,
): boolean {
  if (!profile) return true
  if (profile.status === 'disabled') return false
  return profile.metrics === null || profile.metrics.includes(series.metric)
}

/** The volume options for a customer: its threshold overrides over the defaults. */
export function optionsFor(defaults: VolumeOptions, profile: CustomerProfile | undefined): VolumeOptions {
  const threshold = profile?.threshold ?? defaults.threshold
  const critical = profile?.criticalThreshold ?? defaults.criticalThreshold
  return { ...defaults, threshold, criticalThreshold: Math.max(critical, threshold) }
}
