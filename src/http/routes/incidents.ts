import type { FastifyInstance } from 'fastify'
import { FEEDBACK_LABELS, type FeedbackLabel, type Incident } from '../../domain/incident.js'
import { ConflictError, NotFoundError } from '../../errors.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'
import { incidentJson } from '../serialize.js'
import { incidentSchema } from './schemas.js'

/** One incident, and what people do with it: acknowledge it, say what it was. */
export function incidentRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  const find = async (id: string): Promise<Incident> => {
    const incident = await meterflow.anomalies.getIncident(id)
    if (!incident)
      throw new NotFoundError(`no incident ${id}`, [{ field: 'id', reason: 'unknown incident id' }])
    return incident
  }

  app.get<{ Params: { id: string } }>(
    '/v1/incidents/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One incident (alerts link here)',
        tags: ['anomalies'],
        response: { 200: incidentSchema, 404: errorResponseSchema },
      },
    },
    async (request) => incidentJson(await find(request.params.id)),
  )

  app.post<{ Params: { id: string }; Body: { by?: string } | undefined }>(
    '/v1/incidents/:id/ack',
    {
      config: { scope: 'admin' },
      schema: {
        summary:
          'Acknowledge an open incident: its escalations are no longer notified (its resolution still is)',
        tags: ['alerts'],
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { by: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: incidentSchema, 404: errorResponseSchema, 409: errorResponseSchema },
      },
    },
    async (request) => {
      const { id } = request.params
      const current = await find(id)
      if (current.status !== 'open') {
        throw new ConflictError(`incident ${id} is ${current.status}`, [{ field: 'id', reason: 'not open' }])
      }
      const acked = await meterflow.anomalies.acknowledgeIncident(
        id,
        meterflow.clock.now(),
        request.body?.by ?? null,
      )
      return incidentJson(acked ?? (await find(id)))
    },
  )

  app.post<{ Params: { id: string }; Body: { label: FeedbackLabel; note?: string; by?: string } }>(
    '/v1/incidents/:id/feedback',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Say what an incident was: false_positive or planned (its period leaves future baselines)',
        description:
          "The detection job leaves the labelled period out of the series' baseline from its next run on, so a load test or a bad day does not make the following month look normal or abnormal. Labelling an open incident also acknowledges it. A later label replaces an earlier one.",
        tags: ['anomalies'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['label'],
          properties: {
            label: { type: 'string', enum: [...FEEDBACK_LABELS] },
            note: { type: 'string', maxLength: 1000 },
            by: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: { 200: incidentSchema, 400: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const { id } = request.params
      const current = await find(id)
      const now = meterflow.clock.now()
      const by = request.body.by ?? null
      if (current.status === 'open' && current.acknowledgedAt === null) {
        await meterflow.anomalies.acknowledgeIncident(id, now, by)
      }
      const labelled = await meterflow.anomalies.setIncidentFeedback(id, {
        label: request.body.label,
        at: now,
        by,
        note: request.body.note ?? null,
      })
      return incidentJson(labelled ?? (await find(id)))
    },
  )
}
