import type { FastifyInstance } from 'fastify'
import { checkReport } from '../../app/check-report.js'
import { BOUNDS } from '../../domain/limits.js'
import { CHECK_MODES, type CheckMode, DEFAULT_CHECK_MODE } from '../../domain/signals/combined-verdict.js'
import { SHAPE_SETTINGS } from '../../domain/signals/shape/shape-settings.js'
import { SIGNAL_KINDS } from '../../domain/signals/signal-registry.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { numberParam, parseTime, timeParam } from '../params.js'

interface CheckQuery {
  customer_id: string
  metric: string
  current_start?: string
  current_end?: string
  baseline_days?: number
  threshold?: number
  critical_threshold?: number
  mode?: CheckMode
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
const hourly = { type: 'array', items: { type: 'number' }, minItems: 24, maxItems: 24 } as const

const volumeSchema = {
  type: 'object',
  description: 'The volume signal (the z-score); present in volume and combined mode',
  properties: {
    status: { type: 'string', enum: ['ok', 'insufficient_data'] },
    is_anomaly: { type: 'boolean' },
    severity,
    direction,
    z_score: nullableNumber,
    current_value: { type: 'number' },
    threshold: { type: 'number' },
    critical_threshold: { type: 'number' },
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
          "Volume: compares the metric's aggregate over [current_start, current_end) (default: the last 24 hours) with the same window on previous days within baseline_days, and reports the z-score; fewer than the minimum samples (7 by default) gives status insufficient_data. Shape: compares the 24 hourly values of a 24-hour window ending on a whole hour (default: the 24 hours up to the last whole hour) with the same hours on the same weekday of previous weeks (cosine similarity, settings detection.shape). mode says which signals are evaluated; the top-level verdict is the mode's (combined: volume OR shape), each signal is reported in `volume` / `shape`, and `fired` lists those that fired. In shape mode a window shape cannot judge is a 400; in combined mode shape is then not_evaluated.",
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
      })
      return checkReport(result)
    },
  )
}
