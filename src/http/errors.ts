import type { FastifyError, FastifyInstance } from 'fastify'
import { type FieldIssue, MeterFlowError } from '../errors.js'

export interface ErrorBody {
  error: string
  message: string
  details: FieldIssue[]
}

/** Every failure leaves the API as `{ error, message, details }` (DESIGN.md, conventions). */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler<FastifyError | Error>((err, request, reply) => {
    if (err instanceof MeterFlowError) {
      if (err.httpStatus >= 500) request.log.error({ err }, err.message)
      return reply.status(err.httpStatus).send(body(err.code, err.message, err.details))
    }
    const fastifyError = err as FastifyError
    if (fastifyError.validation) {
      const details = fastifyError.validation.map((v) => {
        const { missingProperty: missing, additionalProperty: unknown } = v.params as {
          missingProperty?: string
          additionalProperty?: string
        }
        const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.')
        // A missing or unknown property is named itself, not the object that lacks or has it.
        const property = missing ?? unknown
        if (property !== undefined) {
          const field = path ? `${path}.${property}` : property
          return { field, reason: missing !== undefined ? 'is required' : 'is not a known field' }
        }
        return {
          field: path || fastifyError.validationContext || 'request',
          reason: v.message ?? 'is invalid',
        }
      })
      const summary = details.map((d) => `${d.field} ${d.reason}`).join('; ')
      return reply.status(400).send(body('validation_failed', `invalid request: ${summary}`, details))
    }
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply
          .status(413)
          .send(body('payload_too_large', 'request body exceeds the 5 MiB limit: split the batch', []))
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply
          .status(415)
          .send(
            body(
              'unsupported_media_type',
              `content type '${request.headers['content-type'] ?? ''}' is not accepted: send application/json or application/x-ndjson`,
              [{ field: 'content-type', reason: 'must be application/json or application/x-ndjson' }],
            ),
          )
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply
          .status(400)
          .send(
            body('invalid_json', `request body is not valid JSON: ${err.message}`, [
              { field: 'body', reason: 'is not valid JSON' },
            ]),
          )
    }
    if (err instanceof SyntaxError || fastifyError.statusCode === 400) {
      return reply
        .status(400)
        .send(body('invalid_body', err.message, [{ field: 'body', reason: err.message }]))
    }
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return reply.status(fastifyError.statusCode).send(body('bad_request', err.message, []))
    }
    request.log.error({ err }, 'unhandled error')
    return reply.status(500).send(body('internal', 'internal error; see the server log', []))
  })

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(body('not_found', `no route ${request.method} ${request.url.split('?')[0]}`, []))
  })
}

function body(error: string, message: string, details: FieldIssue[]): ErrorBody {
  return { error, message, details }
}

export const errorResponseSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, field: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
} as const
