import type { FastifyInstance } from 'fastify'
import { MAX_EVENTS_PER_BATCH } from '../../domain/events.js'
import type { MeterFlow } from '../../wiring.js'
import { errorResponseSchema } from '../errors.js'

const eventSchema = {
  type: 'object',
  required: ['customer_id', 'metric', 'value', 'timestamp'],
  additionalProperties: false,
  properties: {
    event_id: {
      type: 'string',
      maxLength: 128,
      description: 'Idempotency key: an event re-sent with the same id is counted once.',
    },
    customer_id: { type: 'string', minLength: 1, maxLength: 128 },
    metric: { type: 'string', description: 'A registered metric (GET /v1/metrics).' },
    value: { type: 'number', minimum: 0 },
    timestamp: {
      oneOf: [
        { type: 'string', format: 'date-time' },
        { type: 'integer', description: 'epoch milliseconds' },
      ],
      description: 'UTC; ISO 8601 or epoch milliseconds.',
    },
  },
} as const

export function eventRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.post(
    '/v1/events',
    {
      schema: {
        summary: 'Ingest usage events',
        description: `A JSON array (application/json) or NDJSON (application/x-ndjson) of up to ${MAX_EVENTS_PER_BATCH} events or 5 MiB. All-or-nothing: one invalid event rejects the batch and stores nothing; the reply names each bad field. Stored durably before the 200 is sent.`,
        tags: ['usage'],
        body: { type: 'array', maxItems: MAX_EVENTS_PER_BATCH, items: eventSchema },
        response: {
          200: {
            type: 'object',
            properties: {
              received: { type: 'integer' },
              stored: { type: 'integer' },
              duplicates: {
                type: 'integer',
                description: 'Events whose event_id was already stored or repeated.',
              },
            },
          },
          400: errorResponseSchema,
          413: errorResponseSchema,
          415: errorResponseSchema,
        },
      },
      // The schema above documents the body; validation is the domain's, which reports every bad field with
      // its index (JSON-schema validation would stop at the first and cannot check the metric registry).
      validatorCompiler: () => () => true,
    },
    async (request) => meterflow.ingest(request.body),
  )
}
