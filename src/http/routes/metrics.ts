import type { FastifyInstance } from 'fastify'
import type { MetricRegistration } from '../../app/metric-catalog.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'

const metricSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    aggregation: { type: 'string', enum: ['sum', 'max'] },
    description: { type: 'string' },
    unit: { type: 'string' },
    builtin: { type: 'boolean' },
  },
} as const

export function metricRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get(
    '/v1/metrics',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List metrics',
        tags: ['metrics'],
        response: {
          200: { type: 'object', properties: { metrics: { type: 'array', items: metricSchema } } },
        },
      },
    },
    async () => ({ metrics: (await meterflow.metrics.refresh()).list() }),
  )

  app.post<{ Body: MetricRegistration }>(
    '/v1/metrics',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Register a metric',
        description:
          "aggregation 'sum' for counters (a window's value is the total), 'max' for gauges (the peak). Re-registering with the same aggregation updates description/unit; a different aggregation is a 409.",
        tags: ['metrics'],
        body: {
          type: 'object',
          required: ['name', 'aggregation'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' },
            aggregation: { type: 'string', enum: ['sum', 'max'] },
            description: { type: 'string', maxLength: 500 },
            unit: { type: 'string', maxLength: 50 },
          },
        },
        response: {
          200: metricSchema,
          201: metricSchema,
          400: errorResponseSchema,
          409: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { metric, created } = await meterflow.metrics.register(request.body)
      return reply.status(created ? 201 : 200).send(metric)
    },
  )
}
