import { type Detection, type DetectorConfig, detect, type SeriesHistory } from '../detector.js'
import { DETECTOR_SETTINGS } from '../detector-settings.js'
import type { VolumeOptions, VolumeVerdict } from '../volume.js'
import type { SignalDeclaration, SignalFieldValues, SignalVerdict } from './signal.js'

/**
 * The volume signal (the seed's z-score): the series' aggregate over the window against the same window on
 * previous days. Its settings are the detector settings (detector-settings.ts), its record fields the seed's
 * DynamoDB attributes.
 */
export const VOLUME_SIGNAL = {
  kind: 'volume',
  description: 'The window aggregate against the same window on previous days (z-score).',
  fields: {
    baselineMean: {
      name: 'baseline_mean',
      type: 'real',
      description: 'Mean (or median) of the baseline samples.',
    },
    baselineStddev: {
      name: 'baseline_stddev',
      type: 'real',
      description: 'Standard deviation (or scaled MAD) of the samples, before the floor.',
    },
    zScore: { name: 'z_score', type: 'real', description: '(current - mean) / floored stddev.' },
    samples: { name: 'samples', type: 'integer', description: 'Baseline samples the verdict used.' },
    // Not `window`: the API already has `window` as the record's { start, end }, and `hour` and `recent` are both
    // one hour long, so start and end cannot tell them apart.
    windowKind: {
      name: 'window_kind',
      type: 'choice',
      choices: DETECTOR_SETTINGS.windows.choices,
      description:
        'The window that judged the series (the statistic is its): day (the 24 h against the same 24 h of ' +
        'previous days), hour (the last hour against the same hour of previous days) or recent (the last hour ' +
        'against the hours just before it). Null on records stored before MeterFlow recorded it.',
    },
  },
  statistic: 'zScore',
  settings: DETECTOR_SETTINGS,
} as const satisfies SignalDeclaration

export type VolumeFields = SignalFieldValues<typeof VOLUME_SIGNAL>

/** One series judged by the volume signal. */
export interface VolumeEvaluation {
  verdict: SignalVerdict<'volume'>
  /** The detector's own result (which window won, the full verdict with its baseline). */
  detection: Detection
  /** The record's volume fields (with the window that won); null without a verdict (too little data). */
  fields: VolumeFields | null
}

/** A volume verdict stated as the signal's verdict (z-score as its statistic): the job's and the check's. */
export function volumeSignalVerdict(v: VolumeVerdict): SignalVerdict<'volume'> {
  return {
    kind: VOLUME_SIGNAL.kind,
    status: v.status,
    isAnomaly: v.isAnomaly,
    severity: v.severity,
    direction: v.direction,
    currentValue: v.currentValue,
    statistic: v.zScore,
  }
}

/** Judges one series with `detect()` (unchanged: the eval's figures rest on it) and states it as a signal verdict. */
export function evaluateVolume(
  history: SeriesHistory,
  config: DetectorConfig,
  options: VolumeOptions,
): VolumeEvaluation {
  const detection = detect(history, config, options)
  const { verdict: v } = detection
  return {
    verdict: volumeSignalVerdict(v),
    detection,
    fields:
      v.zScore === null
        ? null
        : {
            baselineMean: v.baseline.mean,
            baselineStddev: v.baseline.stddev,
            zScore: v.zScore,
            samples: v.baseline.samples,
            windowKind: detection.window,
          },
  }
}
