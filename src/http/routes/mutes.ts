import type { FastifyInstance } from 'fastify'
import { createMute } from '../../app/alerting/mutes.js'
import type { Mute } from '../../domain/alert.js'
import { BOUNDS } from '../../domain/limits.js'
import { METRIC_NAME_PATTERN } from '../../domain/metrics.js'
import { toIso } from '../../domain/time.js'
import { NotFoundError } from '../../errors.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { numberParam, parseTime, timeParam } from '../params.js'
import { time } from './schemas.js'

const muteSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    customer_id: { type: ['string', 'null'] },
    metric: { type: ['string', 'null'] },
    until: time,
    reason: { type: ['string', 'null'] },
    created_at: time,
  },
} as const

function muteJson(m: Mute) {
  return {
    id: m.id,
    customer_id: m.customerId,
    metric: m.metric,
    until: toIso(m.until),
    reason: m.reason,
    created_at: toIso(m.createdAt),
  }
}

/** Mutes: incident alerts for a customer, a metric or both held back until a time. */
export function muteRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.post<{
    Body: { customer_id?: string; metric?: string; until?: string; minutes?: number; reason?: string }
  }>(
    '/v1/mutes',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Mute incident alerts for a customer, a metric, or a customer x metric until a time',
        description:
          'Give customer_id and/or metric, and either until (ISO time or epoch ms) or minutes. The metric must be registered (400 naming metric otherwise); any customer_id is taken, also one without usage yet (a mute set up ahead of it). Alerts raised while a mute is active are stored with status muted, not sent; ops alerts (storms, job health) are never muted. At most 90 days.',
        tags: ['alerts'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            customer_id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
            metric: { type: 'string', pattern: METRIC_NAME_PATTERN.source },
            until: timeParam('ISO 8601 or epoch ms, at most 90 days ahead'),
            minutes: numberParam(BOUNDS.muteMinutes),
            reason: { type: 'string', maxLength: 500 },
          },
        },
        response: { 201: muteSchema, 400: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const body = request.body
      const mute = await createMute(meterflow, {
        customerId: body.customer_id,
        metric: body.metric,
        untilMs: parseTime('until', body.until),
        minutes: body.minutes,
        reason: body.reason,
      })
      return reply.status(201).send(muteJson(mute))
    },
  )

  app.get(
    '/v1/mutes',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Active mutes, newest first',
        tags: ['alerts'],
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: muteSchema } } } },
      },
    },
    async () => ({
      items: (await meterflow.anomalies.alerts.activeMutes(meterflow.clock.now())).map(muteJson),
    }),
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/mutes/:id',
    {
      config: { scope: 'admin' },
      schema: { summary: 'End a mute now', tags: ['alerts'], response: { 404: errorResponseSchema } },
    },
    async (request, reply) => {
      if (!(await meterflow.anomalies.alerts.deleteMute(request.params.id))) {
        throw new NotFoundError(`no mute ${request.params.id}`, [{ field: 'id', reason: 'unknown' }])
      }
      return reply.status(204).send()
    },
  )
}
