import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../../errors.js'
import type { MeterFlow } from '../../wiring.js'

/** `GET /metrics`: Prometheus text exposition (outside /v1: scrapers expect this path). */
export function prometheusRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get(
    '/metrics',
    {
      // Counts only, but of customers' traffic and incidents: a key with `read` (Prometheus sends it as a bearer token).
      config: { scope: 'read' },
      schema: {
        summary: 'Prometheus metrics',
        description:
          'Runs, run duration, series checked, anomalies by severity, open incidents, alert deliveries, ingested events and bytes, HTTP latency by route. 404 when METERFLOW_METRICS=off.',
        tags: ['operations'],
      },
    },
    async (_request, reply) => {
      const exposition = meterflow.exposition
      if (!exposition) {
        throw new NotFoundError('metrics are switched off (METERFLOW_METRICS=off)', [
          { field: 'METERFLOW_METRICS', reason: 'off' },
        ])
      }
      const text = await exposition.render()
      return reply.type(exposition.contentType).send(text)
    },
  )
}
