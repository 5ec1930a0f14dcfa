import type { FastifyInstance } from 'fastify'
import { customerAlerts } from '../../app/customer-alerts.js'
import { type AlertDelivery, DELIVERY_STATUSES, type DeliveryStatus } from '../../domain/alert.js'
import { BOUNDS } from '../../domain/limits.js'
import { toIso } from '../../domain/time.js'
import { NotFoundError, ValidationError } from '../../errors.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { numberParam, parseTime, timeParam } from '../params.js'
import { nullableTime, pageQuery, pageSchema, time } from './schemas.js'

const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    channel: { type: 'string' },
    status: { type: 'string', enum: [...DELIVERY_STATUSES] },
    attempts: { type: 'integer' },
    next_attempt_at: {
      ...nullableTime,
      description: 'when a pending delivery is tried next (null otherwise)',
    },
    last_error: {
      type: ['string', 'null'],
      description: 'why it failed, or why it is held / muted / suppressed',
    },
    created_at: time,
    updated_at: time,
    delivered_at: nullableTime,
    alert: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        kind: { type: 'string', enum: ['incident', 'storm', 'job_health', 'digest'] },
        severity: { type: 'string', enum: ['warning', 'critical'] },
        title: { type: 'string' },
        link: { type: ['string', 'null'] },
        created_at: time,
        transition: { type: ['string', 'null'], enum: ['opened', 'escalated', 'resolved', null] },
        incident_id: { type: ['string', 'null'] },
        customer_id: { type: ['string', 'null'] },
        metric: { type: ['string', 'null'] },
      },
    },
  },
} as const

function deliveryJson(d: AlertDelivery) {
  const a = d.alert
  const incident = a.kind === 'incident' ? a.incident : null
  return {
    id: d.id,
    channel: d.channel,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? toIso(d.nextAttemptAt) : null,
    last_error: d.lastError,
    created_at: toIso(d.createdAt),
    updated_at: toIso(d.updatedAt),
    delivered_at: d.deliveredAt === null ? null : toIso(d.deliveredAt),
    alert: {
      id: a.id,
      kind: a.kind,
      severity: a.severity,
      title: a.title,
      link: a.link,
      created_at: toIso(a.createdAt),
      transition: a.kind === 'incident' ? a.transition : null,
      incident_id: incident?.id ?? null,
      customer_id: incident?.customerId ?? null,
      metric: incident?.metric ?? null,
    },
  }
}

/** The outbox (what was sent, what failed, retries), a customer's deliveries and the ops digest. */
export function alertRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  const deliverSoon = () => {
    meterflow.alerts.deliver().catch((err: unknown) => app.log.error({ err }, 'alert delivery pass failed'))
  }

  app.get<{ Querystring: { status?: DeliveryStatus; channel?: string; limit: number; cursor?: string } }>(
    '/v1/alerts',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Alert deliveries (one per alert and channel), newest first',
        description:
          'status=failed lists the dead letters (retry them with POST /v1/alerts/{id}/retry); held: stopped by the storm guard; muted; suppressed (acknowledged incident); pending; delivered.',
        tags: ['alerts'],
        querystring: pageQuery({
          status: { type: 'string', enum: [...DELIVERY_STATUSES] },
          channel: { type: 'string', minLength: 1, maxLength: 64 },
        }),
        response: { 200: pageSchema(deliverySchema), 400: errorResponseSchema },
      },
    },
    async (request) => {
      const q = request.query
      const page = await meterflow.anomalies.alerts.list({
        limit: q.limit,
        ...(q.status ? { status: q.status } : {}),
        ...(q.channel ? { channel: q.channel } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      })
      return { items: page.items.map(deliveryJson), next_cursor: page.nextCursor }
    },
  )

  app.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>(
    '/v1/customers/:id/alerts',
    {
      config: { scope: 'read' },
      schema: {
        summary: "The alert deliveries of a customer's incidents, newest first",
        description:
          "A page covers `limit` of the customer's incidents, newest opened first (default 20): every delivery of their opening, escalation and resolution alerts, on every channel, with its status (failed: a dead letter, retry with POST /v1/alerts/{id}/retry). next_cursor continues with older incidents. Storm, job-health and digest alerts belong to no customer.",
        tags: ['alerts'],
        params: {
          type: 'object',
          properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        querystring: {
          ...pageQuery({}),
          properties: {
            ...pageQuery({}).properties,
            limit: numberParam({ ...BOUNDS.pageSize, max: 100 }, { default: 20 }),
          },
        },
        response: {
          200: {
            ...pageSchema(deliverySchema),
            properties: {
              ...pageSchema(deliverySchema).properties,
              incidents: { type: 'integer', description: 'How many incidents this page covers' },
            },
          },
          400: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const page = await customerAlerts(meterflow.anomalies, request.params.id, request.query)
      return { items: page.items.map(deliveryJson), next_cursor: page.nextCursor, incidents: page.incidents }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/v1/alerts/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One alert delivery',
        tags: ['alerts'],
        response: { 200: deliverySchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const d = await meterflow.anomalies.alerts.get(request.params.id)
      if (!d)
        throw new NotFoundError(`no alert delivery ${request.params.id}`, [
          { field: 'id', reason: 'unknown' },
        ])
      return deliveryJson(d)
    },
  )

  app.post<{ Params: { id: string } }>(
    '/v1/alerts/:id/retry',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Send a failed, held or muted delivery again (fresh attempts, due now)',
        tags: ['alerts'],
        response: { 202: deliverySchema, 404: errorResponseSchema, 409: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const next = await meterflow.alerts.requeue(request.params.id)
      deliverSoon()
      return reply.status(202).send(deliveryJson(next))
    },
  )

  app.post<{ Body: { to?: string } | undefined }>(
    '/v1/alerts/digest',
    {
      config: { scope: 'admin' },
      schema: {
        summary:
          'Send the ops digest now (the day before `to`, default now) to the channels routed for digests',
        tags: ['alerts'],
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { to: timeParam('ISO 8601 or epoch ms, not in the future; default now') },
        },
        response: {
          202: { type: 'object', properties: { enqueued: { type: 'integer' } } },
          400: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const now = meterflow.clock.now()
      const to = parseTime('to', request.body?.to) ?? now
      if (to > now) {
        // A future period would take the id of the digest the schedule sends then, which would be skipped.
        throw new ValidationError('invalid to: in the future', [
          { field: 'to', reason: 'must not be in the future' },
        ])
      }
      const enqueued = await meterflow.alerts.raiseDigest(to)
      deliverSoon()
      return reply.status(202).send({ enqueued })
    },
  )
}
