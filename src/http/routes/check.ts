import type { FastifyInstance } from 'fastify'
import { checkReport } from '../../app/check-report.js'
import { BOUNDS } from '../../domain/limits.js'
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
}

const windowSchema = {
  type: 'object',
  properties: {
    start: { type: 'string', format: 'date-time' },
    end: { type: 'string', format: 'date-time' },
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
    severity: { type: ['string', 'null'], enum: ['warning', 'critical', null] },
    direction: { type: ['string', 'null'], enum: ['spike', 'drop', null] },
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
  },
} as const

export function checkRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get<{ Querystring: CheckQuery }>(
    '/v1/anomalies/check',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Check one customer and metric for a volume anomaly now',
        description:
          "Compares the metric's aggregate over [current_start, current_end) (default: the last 24 hours) with the same window on previous days within baseline_days, and reports the z-score. Fewer than the minimum samples (7 by default) gives status insufficient_data.",
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
      })
      return checkReport(result)
    },
  )
}
