import type { FastifyInstance } from 'fastify'
import { CHECK_DETECTORS, type CheckDetector, DEFAULT_CHECK_DETECTOR } from '../../app/check-job.js'
import { checkReport } from '../../app/check-report.js'
import { DETECTOR_SETTINGS } from '../../domain/detector-settings.js'
import { BOUNDS } from '../../domain/limits.js'
import { CHECK_MODES, type CheckMode, DEFAULT_CHECK_MODE } from '../../domain/signals/combined-verdict.js'
import { SHAPE_SETTINGS } from '../../domain/signals/shape/shape-settings.js'
import { SIGNAL_KINDS } from '../../domain/signals/signal-registry.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { numberParam, parseTime, timeParam } from '../params.js'
import { detectorOverrideSchema } from './schemas.js'

interface CheckQuery {
  customer_id: string
  metric: string
  current_start?: string
  current_end?: string
  baseline_days?: number
  threshold?: number
  critical_threshold?: number
  mode?: CheckMode
  detector?: CheckDetector
}

const windowSchema = {
  type: 'object',
  properties: {
    start: { type: 'string', format: 'date-time' },
    end: { type: 'string', format: 'date-time' },
  },
} as const

const severity = { type: ['string', 'null'], enum: ['warning', 'critical', null] } as const
const direction = { type: ['string', 'null'], enum: ['spike', 'drop', null] } as const
const nullableNumber = { type: ['number', 'null'] } as const
const windowKind = { type: 'string', enum: DETECTOR_SETTINGS.windows.choices } as const
const hourly = { type: 'array', items: { type: 'number' }, minItems: 24, maxItems: 24 } as const

/** A volume verdict's fields: the `volume` block's and each of `window_verdicts`' (check-report.ts). */
const volumeVerdictProperties = {
  status: { type: 'string', enum: ['ok', 'insufficient_data'] },
  is_anomaly: { type: 'boolean' },
  severity,
  direction,
  z_score: nullableNumber,
  current_value: { type: 'number' },
} as const

const volumeSchema = {
  type: 'object',
  description: 'The volume signal (the z-score); present in volume and combined mode',
  properties: {
    ...volumeVerdictProperties,
    threshold: { type: 'number' },
    critical_threshold: { type: 'number' },
    window: { ...windowKind, description: 'detector=job: the window that decided' },
    message: { type: 'string' },
  },
} as const

const shapeSchema = {
  type: 'object',
  description:
    "The shape signal (the window's 24 hourly values against the same weekday of previous weeks); present in shape and combined mode",
  properties: {
    status: {
      type: 'string',
      enum: ['ok', 'insufficient_data', 'not_evaluated'],
      description:
        'not_evaluated: the window is not one shape can judge (combined mode; field and message say why)',
    },
    is_anomaly: { type: 'boolean' },
    severity,
    direction,
    reason: {
      type: ['string', 'null'],
      description:
        'Why there is no verdict: empty_day, low_volume, too_few_baseline_days, window_not_judgeable; null with one',
    },
    field: { type: 'string', description: 'not_evaluated: the parameter that made the window unjudgeable' },
    message: { type: 'string' },
    window: windowSchema,
    window_basis: {
      type: 'string',
      enum: ['last_complete_hour', 'requested'],
      description:
        'last_complete_hour: no window was given, so the 24 hours up to the last whole hour; requested: the window given',
    },
    similarity: {
      ...nullableNumber,
      description: 'cosine of the configured variant, compared with threshold',
    },
    mean_similarity: nullableNumber,
    nearest_similarity: nullableNumber,
    deviation_hour: { type: ['integer', 'null'], description: 'UTC hour of day where the day differs most' },
    variant: { type: 'string', enum: SHAPE_SETTINGS.variant.choices },
    threshold: { type: 'number' },
    critical_threshold: { type: 'number' },
    baseline_weeks: {
      type: 'integer',
      description: 'baseline days used (empty and low-volume days skipped)',
    },
    configured_baseline_weeks: { type: 'integer' },
    min_baseline_weeks: { type: 'integer' },
    min_daily_volume: { type: 'number' },
    current_total: { type: 'number' },
    baseline_total: { type: 'object', properties: { mean: { type: 'number' }, stddev: { type: 'number' } } },
    baseline_windows: { type: 'array', items: windowSchema, description: 'most recent first' },
    profile: { ...hourly, description: "the window's 24 hourly values, oldest hour first" },
    baseline_profile: {
      anyOf: [hourly, { type: 'null' }],
      description: 'the mean shape of the baseline days used, scaled as baseline_profile_scale says',
    },
    baseline_profile_scale: {
      type: ['string', 'null'],
      enum: ['current_total', 'baseline_mean_total', null],
      description:
        "current_total: scaled to the window's total (comparable with profile hour by hour); baseline_mean_total: the window is empty, so scaled to the baseline days' mean total",
    },
  },
} as const

const judgedBaseline = {
  type: 'object',
  properties: {
    mean: { type: 'number' },
    stddev: { type: 'number' },
    effective_stddev: { type: 'number' },
    samples: { type: 'integer' },
    min_samples: { type: 'integer' },
  },
} as const

/** detector=job (with the volume signal): how the job decided the slot. */
const jobProperties = {
  slot: {
    type: 'string',
    format: 'date-time',
    description: 'detector=job: the run slot judged (current_end)',
  },
  window: {
    ...windowKind,
    description:
      "detector=job: the window whose verdict a run stores (the strongest firing one, else the day window's); current_window, current_value, baseline, z_score and the thresholds are its",
  },
  calibrated_threshold: {
    ...nullableNumber,
    description:
      'detector=job: the |z| the deciding window needed with calibration on (null: calibration off or no verdict)',
  },
  checked: {
    type: 'boolean',
    description:
      'detector=job: false when the job does not check this series (customer disabled, or the metric not among its own); the verdict is then what it would be',
  },
  detector_settings: {
    ...detectorOverrideSchema,
    description:
      "detector=job: the job's detector settings for this series (the customer's overrides over the metric's detector)",
  },
  window_verdicts: {
    type: 'array',
    description: "detector=job: every window of the job's detector, judged",
    items: {
      type: 'object',
      properties: {
        window: windowKind,
        ...volumeVerdictProperties,
        current_window: windowSchema,
        baseline: judgedBaseline,
        threshold: { type: 'number' },
        critical_threshold: { type: 'number' },
        calibrated_threshold: nullableNumber,
      },
    },
  },
} as const

const checkResponseSchema = {
  type: 'object',
  properties: {
    customer_id: { type: 'string' },
    metric: { type: 'string' },
    aggregation: { type: 'string', enum: ['sum', 'max'] },
    status: { type: 'string', enum: ['ok', 'insufficient_data'] },
    message: { type: 'string' },
    is_anomaly: { type: 'boolean' },
    severity,
    direction,
    current_value: { type: 'number' },
    z_score: { type: ['number', 'null'] },
    baseline: {
      type: 'object',
      properties: {
        mean: { type: 'number' },
        stddev: { type: 'number', description: 'population standard deviation of the samples' },
        effective_stddev: {
          type: 'number',
          description: 'the stddev used for z, after the flat-baseline floor',
        },
        samples: { type: 'integer' },
        min_samples: { type: 'integer' },
        window: { anyOf: [windowSchema, { type: 'null' }] },
      },
    },
    current_window: windowSchema,
    baseline_days: { type: 'integer' },
    threshold: { type: 'number' },
    critical_threshold: { type: 'number' },
    method: { type: 'string' },
    mode: { type: 'string', enum: CHECK_MODES },
    fired: {
      type: 'array',
      items: { type: 'string', enum: SIGNAL_KINDS },
      description: 'the signals that fired',
    },
    detector: {
      type: 'string',
      enum: CHECK_DETECTORS,
      description: 'present with detector=job (the seed reply is unchanged)',
    },
    ...jobProperties,
    volume: volumeSchema,
    shape: shapeSchema,
  },
} as const

export function checkRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get<{ Querystring: CheckQuery }>(
    '/v1/anomalies/check',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Check one customer and metric for a volume and/or shape anomaly now',
        description:
          "Volume: compares the metric's aggregate over [current_start, current_end) (default: the last 24 hours) with the same window on previous days within baseline_days, and reports the z-score; fewer than the minimum samples (7 by default) gives status insufficient_data. Shape: compares the 24 hourly values of a 24-hour window ending on a whole hour (default: the 24 hours up to the last whole hour) with the same hours on the same weekday of previous weeks (cosine similarity, settings detection.shape). mode says which signals are evaluated; the top-level verdict is the mode's (combined: volume OR shape), each signal is reported in `volume` / `shape`, and `fired` lists those that fired. In shape mode a window shape cannot judge is a 400; in combined mode shape is then not_evaluated. detector=job judges volume as the detection job does for the slot current_end (the reply's figures are then the deciding window's, and detector, slot, window, calibrated_threshold, checked, detector_settings and window_verdicts say how it decided).",
        tags: ['anomalies'],
        querystring: {
          type: 'object',
          required: ['customer_id', 'metric'],
          additionalProperties: false,
          properties: {
            customer_id: { type: 'string', minLength: 1, maxLength: 128 },
            metric: { type: 'string', minLength: 1, maxLength: 63 },
            current_start: timeParam(
              'ISO 8601 UTC or epoch ms, not in the future; default current_end - 24h',
            ),
            current_end: timeParam(
              'ISO 8601 UTC or epoch ms, at most 366 days after current_start; default now',
            ),
            baseline_days: numberParam(BOUNDS.baselineDays, { description: 'default: configured (30)' }),
            threshold: numberParam(BOUNDS.threshold, { description: 'default: configured (3)' }),
            critical_threshold: numberParam(BOUNDS.threshold, {
              description: 'default: the configured one (5), at least threshold',
            }),
            mode: {
              type: 'string',
              enum: CHECK_MODES,
              description: `which signals to evaluate; default ${DEFAULT_CHECK_MODE}`,
            },
            detector: {
              type: 'string',
              enum: CHECK_DETECTORS,
              description: `whose method judges volume; default ${DEFAULT_CHECK_DETECTOR}. seed: the seed's z-score over the window given, with baseline_days and the thresholds given. job: what a detection run for the slot current_end stores for this series (the job's detector and the customer's settings, labelled periods left out); the window must be a run's (current_end a whole hour not in the future, current_start 24 hours before it or absent; neither: the latest slot) and baseline_days, threshold and critical_threshold are refused`,
            },
          },
        },
        response: { 200: checkResponseSchema, 400: errorResponseSchema },
      },
    },
    async (request) => {
      const q = request.query
      const result = await meterflow.check({
        customerId: q.customer_id,
        metric: q.metric,
        currentStartMs: parseTime('current_start', q.current_start),
        currentEndMs: parseTime('current_end', q.current_end),
        baselineDays: q.baseline_days,
        threshold: q.threshold,
        criticalThreshold: q.critical_threshold,
        mode: q.mode,
        detector: q.detector,
      })
      return checkReport(result)
    },
  )
}
