import type { FastifyInstance } from 'fastify'
import type { CustomerSeries } from '../../app/customer-series.js'
import { detectorToJson } from '../../domain/detector-settings.js'
import { METRIC_NAME_PATTERN } from '../../domain/metrics.js'
import { toIso } from '../../domain/time.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { parseTime, timeParam } from '../params.js'
import { detectorOverrideSchema } from './schemas.js'

const nullableNumber = { type: ['number', 'null'] } as const

const seriesSchema = {
  type: 'object',
  properties: {
    customer_id: { type: 'string' },
    metric: { type: 'string' },
    aggregation: { type: 'string', enum: ['sum', 'max'] },
    window: {
      type: 'string',
      enum: ['day', 'hour', 'recent'],
      description: 'the window each point aggregates',
    },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    baseline_days: { type: 'integer' },
    threshold: { type: 'number' },
    critical_threshold: { type: 'number' },
    detector: detectorOverrideSchema,
    checked: {
      type: 'boolean',
      description: 'false: the customer is disabled or the metric not among its own',
    },
    first_event_at: { type: ['string', 'null'], format: 'date-time' },
    points: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          slot: { type: 'string', format: 'date-time', description: 'the window ends here' },
          value: { type: 'number' },
          status: { type: 'string', enum: ['ok', 'insufficient_data'] },
          baseline_mean: { type: 'number' },
          baseline_stddev: { type: 'number' },
          effective_stddev: { type: 'number' },
          samples: { type: 'integer' },
          lower: { ...nullableNumber, description: 'baseline_mean - threshold x effective_stddev' },
          upper: { ...nullableNumber, description: 'baseline_mean + threshold x effective_stddev' },
          z_score: nullableNumber,
          anomaly: {
            type: ['object', 'null'],
            properties: {
              window: { type: 'string', enum: ['day', 'hour', 'recent'] },
              z_score: { type: 'number' },
              severity: { type: 'string', enum: ['warning', 'critical'] },
              direction: { type: ['string', 'null'], enum: ['spike', 'drop', null] },
            },
          },
        },
      },
    },
  },
} as const

function seriesJson(s: CustomerSeries) {
  return {
    customer_id: s.customerId,
    metric: s.metric,
    aggregation: s.aggregation,
    window: s.window,
    since: toIso(s.sinceMs),
    until: toIso(s.untilMs),
    baseline_days: s.baselineDays,
    threshold: s.options.threshold,
    critical_threshold: s.options.criticalThreshold,
    detector: detectorToJson(s.detector),
    checked: s.checked,
    first_event_at: s.firstEventMs === null ? null : toIso(s.firstEventMs),
    points: s.points.map((p) => ({
      slot: toIso(p.slot),
      value: p.value,
      status: p.status,
      baseline_mean: p.baselineMean,
      baseline_stddev: p.baselineStddev,
      effective_stddev: p.effectiveStddev,
      samples: p.samples,
      lower: p.lower,
      upper: p.upper,
      z_score: p.zScore,
      anomaly:
        p.anomaly === null
          ? null
          : {
              window: p.anomaly.window,
              z_score: p.anomaly.zScore,
              severity: p.anomaly.severity,
              direction: p.anomaly.direction,
            },
    })),
  }
}

/** A customer's usage series with the detector's baseline, slot by slot (the dashboard's drill-down chart). */
export function seriesRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get<{ Params: { id: string }; Querystring: { metric: string; since?: string; until?: string } }>(
    '/v1/customers/:id/series',
    {
      config: { scope: 'read' },
      schema: {
        summary:
          "A customer's metric per hourly slot, with the baseline and threshold band the detector used",
        description:
          "For every hourly slot S in [since, until) up to the current hour: the value of the window ending at S (24 h, or 1 h for an hour-only detector), the baseline mean and stddev the detection job computes for it (with the customer's thresholds and detector, leaving out labelled periods as the job does today), the band mean -/+ threshold x effective_stddev, z and the verdict. At most 30 days; default the 7 days up to the end of the current hour.",
        tags: ['customers'],
        params: {
          type: 'object',
          properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['metric'],
          properties: {
            metric: { type: 'string', pattern: METRIC_NAME_PATTERN.source },
            since: timeParam('ISO 8601 or epoch ms, inclusive; default: 7 days before until'),
            until: timeParam(
              'ISO 8601 or epoch ms, exclusive; default and latest: the end of the current hour',
            ),
          },
        },
        response: { 200: seriesSchema, 400: errorResponseSchema },
      },
    },
    async (request) => {
      const q = request.query
      const series = await meterflow.series({
        customerId: request.params.id,
        metric: q.metric,
        sinceMs: parseTime('since', q.since),
        untilMs: parseTime('until', q.until),
      })
      return seriesJson(series)
    },
  )
}
