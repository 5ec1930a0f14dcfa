import type { FastifyInstance } from 'fastify'
import { BOUNDS } from '../../domain/limits.js'
import { INCIDENT_SORTS, type IncidentSort } from '../../domain/list-sorts.js'
import type { SignalKind } from '../../domain/signals/signal-registry.js'
import { NotFoundError } from '../../errors.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { numberParam, parseTime, timeParam } from '../params.js'
import { customerJson, type DetectorJson, detectorFromJson, incidentJson, runJson } from '../serialize.js'
import {
  customerSchema,
  detectorOverrideSchema,
  incidentSchema,
  pageQuery,
  pageSchema,
  runSchema,
  signalKindSchema,
} from './schemas.js'

export function jobRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.post<{ Body: { slot?: string | number } | undefined }>(
    '/v1/runs',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Run detection for a slot now',
        description:
          'Runs the detection job for `slot` (an ISO hour or epoch ms, floored to the hour; default: the current hour). The window is [slot - 24 h, slot). Re-running a slot stores and triggers nothing twice. 409 while another run is in progress.',
        tags: ['job'],
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            slot: {
              anyOf: [timeParam('ISO hour or epoch ms, not after the current hour'), { type: 'integer' }],
            },
          },
        },
        response: { 200: runSchema, 400: errorResponseSchema, 409: errorResponseSchema, 500: runSchema },
      },
    },
    async (request, reply) => {
      const raw = request.body?.slot
      const slot = parseTime('slot', raw === undefined ? undefined : String(raw)) ?? meterflow.clock.now()
      const { run, delivery } = await meterflow.runSlot(slot, 'api', 'refuse')
      // The run's alerts go out right after it, without holding up the response.
      delivery.catch((err: unknown) => request.log.error({ err }, 'alert delivery pass failed'))
      return reply.status(run.status === 'failed' ? 500 : 200).send(runJson(run))
    },
  )

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/v1/runs',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List detection runs, newest slot first',
        tags: ['job'],
        querystring: pageQuery({}),
        response: { 200: pageSchema(runSchema), 400: errorResponseSchema },
      },
    },
    async (request) => {
      const page = await meterflow.anomalies.listRuns({
        limit: request.query.limit,
        cursor: request.query.cursor,
      })
      return { items: page.items.map(runJson), next_cursor: page.nextCursor }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/v1/runs/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One detection run',
        tags: ['job'],
        response: { 200: runSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const run = await meterflow.anomalies.getRun(request.params.id)
      if (!run) throw new NotFoundError(`no run ${request.params.id}`)
      return runJson(run)
    },
  )

  app.get<{
    Querystring: {
      status?: 'open' | 'resolved'
      customer_id?: string
      metric?: string
      severity?: 'warning' | 'critical'
      kind?: SignalKind
      since?: string
      until?: string
      sort?: IncidentSort
      limit: number
      cursor?: string
    }
  }>(
    '/v1/incidents',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List incidents, newest opened first unless sort says otherwise',
        description:
          'Filters combine. since (inclusive) and until (exclusive) bound when the incident opened (ISO 8601 or epoch ms). kind: incidents the signal opened or fires in at the latest verdict. sort: -opened_at (default), opened_at, severity (critical first, then newest), customer_id (then newest), -peak_z_score (largest |peak z| first); the DynamoDB store sorts by opening time only (its key) and answers the others 400. A cursor continues the order it came from.',
        tags: ['anomalies'],
        querystring: pageQuery({
          status: { type: 'string', enum: ['open', 'resolved'] },
          customer_id: { type: 'string', minLength: 1, maxLength: 128 },
          metric: { type: 'string', minLength: 1, maxLength: 63 },
          severity: { type: 'string', enum: ['warning', 'critical'] },
          kind: {
            ...signalKindSchema,
            description: 'Opened by this signal, or firing it at the latest verdict',
          },
          since: timeParam('ISO 8601 or epoch ms: opened at or after'),
          until: timeParam('ISO 8601 or epoch ms: opened before'),
          sort: { type: 'string', enum: Object.keys(INCIDENT_SORTS), description: 'The order' },
        }),
        response: { 200: pageSchema(incidentSchema), 400: errorResponseSchema },
      },
    },
    async (request) => {
      const q = request.query
      const page = await meterflow.anomalies.listIncidents({
        status: q.status,
        customerId: q.customer_id,
        metric: q.metric,
        severity: q.severity,
        kind: q.kind,
        openedSince: parseTime('since', q.since),
        openedUntil: parseTime('until', q.until),
        sort: q.sort,
        limit: q.limit,
        cursor: q.cursor,
      })
      return { items: page.items.map(incidentJson), next_cursor: page.nextCursor }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/v1/customers/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A customer's registry entry (defaults when it has none)",
        tags: ['customers'],
        response: { 200: customerSchema },
      },
    },
    async (request) => {
      const { profile, registered } = await meterflow.customers.get(request.params.id)
      return customerJson(profile, registered)
    },
  )

  app.put<{
    Params: { id: string }
    Body: {
      status?: 'active' | 'disabled'
      threshold?: number | null
      critical_threshold?: number | null
      metrics?: string[] | null
      detector?: DetectorJson | null
    }
  }>(
    '/v1/customers/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Enable/disable a customer or override its thresholds and metrics',
        description: 'Absent fields keep their value; null clears an override.',
        tags: ['customers'],
        params: {
          type: 'object',
          properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['active', 'disabled'] },
            threshold: { ...numberParam(BOUNDS.threshold), type: ['number', 'null'] },
            critical_threshold: { ...numberParam(BOUNDS.threshold), type: ['number', 'null'] },
            metrics: { type: ['array', 'null'], items: { type: 'string', maxLength: 63 }, maxItems: 100 },
            detector: detectorOverrideSchema,
          },
        },
        response: { 200: customerSchema, 400: errorResponseSchema },
      },
    },
    async (request) => {
      const b = request.body
      const profile = await meterflow.customers.put(request.params.id, {
        status: b.status,
        threshold: b.threshold,
        criticalThreshold: b.critical_threshold,
        metrics: b.metrics,
        detector:
          b.detector === undefined ? undefined : b.detector === null ? null : detectorFromJson(b.detector),
      })
      return customerJson(profile, true)
    },
  )
}
