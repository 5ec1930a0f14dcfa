import type { FastifyInstance } from 'fastify'
import { queryAnomalies } from '../../app/query-anomalies.js'
import type { SignalKind } from '../../domain/signals/signal-registry.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { parseTime, timeParam } from '../params.js'
import { anomalyJson } from '../serialize.js'
import { anomalySchema, pageQuery, pageSchema, signalKindSchema } from './schemas.js'

interface ListQuery {
  customer_id?: string
  metric?: string
  severity?: 'warning' | 'critical'
  kind?: SignalKind
  since?: string
  until?: string
  limit: number
  cursor?: string
}

export function anomalyRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get<{ Querystring: ListQuery }>(
    '/v1/anomalies',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List stored anomalies, newest first',
        description:
          'Filters combine. By customer the table key answers; by metric alone (e.g. all bandwidth anomalies in the last week) the metric-severity index does. since is inclusive, until exclusive (ISO 8601 or epoch ms).',
        tags: ['anomalies'],
        querystring: pageQuery({
          customer_id: { type: 'string', minLength: 1, maxLength: 128 },
          metric: { type: 'string', minLength: 1, maxLength: 63 },
          severity: { type: 'string', enum: ['warning', 'critical'] },
          kind: { ...signalKindSchema, description: 'Only records of this signal' },
          since: timeParam('ISO 8601 or epoch ms, inclusive'),
          until: timeParam('ISO 8601 or epoch ms, exclusive'),
        }),
        response: { 200: pageSchema(anomalySchema), 400: errorResponseSchema },
      },
    },
    async (request) => {
      const q = request.query
      const page = await queryAnomalies(meterflow.anomalies, meterflow.metrics.current().names(), {
        customerId: q.customer_id,
        metric: q.metric,
        severity: q.severity,
        kind: q.kind,
        since: parseTime('since', q.since),
        until: parseTime('until', q.until),
        limit: q.limit,
        cursor: q.cursor,
      })
      return { items: page.items.map(anomalyJson), next_cursor: page.nextCursor }
    },
  )
}
