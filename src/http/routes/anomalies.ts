import type { FastifyInstance } from 'fastify'
import { queryAnomalies } from '../../app/query-anomalies.js'
import { ANOMALY_SORTS, type AnomalySort } from '../../domain/list-sorts.js'
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
  sort?: AnomalySort
  limit: number
  cursor?: string
}

export function anomalyRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get<{ Querystring: ListQuery }>(
    '/v1/anomalies',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List stored anomalies, newest first unless sort says otherwise',
        description:
          'Filters combine. By customer the table key answers; by metric alone (e.g. all bandwidth anomalies in the last week) the metric-severity index does. since is inclusive, until exclusive (ISO 8601 or epoch ms). sort: -detected_at (default), detected_at, severity (critical first, then newest), customer_id (then newest); the DynamoDB store sorts by time only (its keys) and answers the others 400. A cursor continues the order it came from.',
        tags: ['anomalies'],
        querystring: pageQuery({
          customer_id: { type: 'string', minLength: 1, maxLength: 128 },
          metric: { type: 'string', minLength: 1, maxLength: 63 },
          severity: { type: 'string', enum: ['warning', 'critical'] },
          kind: { ...signalKindSchema, description: 'Only records of this signal' },
          since: timeParam('ISO 8601 or epoch ms, inclusive'),
          until: timeParam('ISO 8601 or epoch ms, exclusive'),
          sort: { type: 'string', enum: Object.keys(ANOMALY_SORTS), description: 'The order' },
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
        sort: q.sort,
        limit: q.limit,
        cursor: q.cursor,
      })
      return { items: page.items.map(anomalyJson), next_cursor: page.nextCursor }
    },
  )
}
