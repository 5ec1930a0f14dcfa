import type { FastifyInstance } from 'fastify'
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../app/ingest.js'
import { MAX_EVENT_VALUE, MAX_EVENTS_PER_BATCH } from '../../domain/events.js'
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
      description:
        'Idempotency key of the event: counted once whatever a re-sent event says; a later event with this id and other content is a conflict (reported, not stored).',
    },
    customer_id: { type: 'string', minLength: 1, maxLength: 128 },
    metric: { type: 'string', description: 'A registered metric (GET /v1/metrics).' },
    value: { type: 'number', minimum: 0, maximum: MAX_EVENT_VALUE },
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
      config: { scope: 'ingest' },
      schema: {
        summary: 'Ingest usage events',
        description: `A JSON array (application/json) or NDJSON (application/x-ndjson) of up to ${MAX_EVENTS_PER_BATCH} events or 5 MiB. All-or-nothing: one invalid event rejects the batch and stores nothing; the reply names each bad field. Stored durably before the 200 is sent.`,
        tags: ['usage'],
        body: { type: 'array', maxItems: MAX_EVENTS_PER_BATCH, items: eventSchema },
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': {
              type: 'string',
              maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
              description:
                'Makes the whole request safe to retry (needed for events without event_id): a request repeated with the same key within 6 days stores nothing more; the same key with another body is a 422.',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              received: { type: 'integer' },
              stored: { type: 'integer', description: 'Events this request added.' },
              duplicates: {
                type: 'integer',
                description:
                  'Events already stored: an event_id stored before with the same content or repeated in the batch, or every event of a replayed Idempotency-Key.',
              },
              conflicts: {
                type: 'integer',
                description: 'Events whose event_id is already stored with other content: not stored.',
              },
              details: {
                type: 'array',
                description: 'The conflicting events (at most 100): index, field, reason.',
                items: errorResponseSchema.properties.details.items,
              },
              replayed: {
                type: 'boolean',
                description: 'The Idempotency-Key named a request already stored.',
              },
            },
          },
          400: errorResponseSchema,
          413: errorResponseSchema,
          415: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
      // The schema above documents the body; validation is the domain's, which reports every bad field with
      // its index (JSON-schema validation would stop at the first and cannot check the metric registry).
      validatorCompiler: () => () => true,
    },
    async (request) => {
      const key = request.headers['idempotency-key']
      return meterflow.ingest(request.body, {
        idempotencyKey: Array.isArray(key) ? key.join(',') : key,
        caller: request.principal?.key.id,
        bytes: bodyBytes(request.headers['content-length']),
      })
    },
  )
}

/** The body size Fastify checked against its limit; a chunked body (no content-length) counts 0 bytes. */
function bodyBytes(contentLength: string | undefined): number | undefined {
  return contentLength !== undefined && /^\d{1,10}$/.test(contentLength) ? Number(contentLength) : undefined
}
