import { maxHeaderSize, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BusyError, type FieldIssue, MeterFlowError } from '../errors.js'

export interface ErrorBody {
  error: string
  message: string
  details: FieldIssue[]
}

/** Every failure leaves the API as `{ error, message, details }` (DESIGN.md, conventions). */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler<FastifyError | Error>((err, request, reply) => {
    if (err instanceof MeterFlowError) {
      if (err instanceof BusyError) reply.header('retry-after', err.retryAfterSeconds)
      else if (err.httpStatus >= 500) request.log.error({ err }, err.message)
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
        // An enum's reason lists its values (Ajv's message only says there are some).
        const allowed =
          v.keyword === 'enum' ? (v.params as { allowedValues?: unknown[] }).allowedValues : undefined
        return {
          field: path || fastifyError.validationContext || 'request',
          reason: allowed
            ? `must be one of the allowed values: ${allowed.join(', ')}`
            : (v.message ?? 'is invalid'),
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
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
        const accepted = acceptedBodyTypes(request)
        return reply
          .status(415)
          .send(
            body(
              'unsupported_media_type',
              `content type '${(request.headers['content-type'] ?? '').slice(0, 100)}' is not accepted: send ${accepted}`,
              [{ field: 'content-type', reason: `must be ${accepted}` }],
            ),
          )
      }
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

/**
 * What a 415 tells the client to send. Ingest takes NDJSON batches as well as JSON (the NDJSON parser is
 * installed for every route, src/http/ndjson.ts, but only ingest bodies are lists of events).
 */
function acceptedBodyTypes(request: FastifyRequest): string {
  return request.routeOptions.config?.scope === 'ingest'
    ? 'application/json or application/x-ndjson'
    : 'application/json'
}

/**
 * Errors Fastify raises before a route is found (Fastify's `frameworkErrors`); the path is not echoed. No hook
 * runs for these (helmet's headers included): the reply is JSON marked nosniff.
 */
export function replyToFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.header('x-content-type-options', 'nosniff')
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      reply
        .status(414)
        .send(
          body('uri_too_long', `a path parameter is longer than ${MAX_PATH_PARAM_LENGTH} characters`, [
            { field: 'path', reason: `a parameter exceeds ${MAX_PATH_PARAM_LENGTH} characters` },
          ]),
        )
      return
    case 'FST_ERR_BAD_URL':
      reply
        .status(400)
        .send(
          body('bad_url', 'the path is not a valid URL (a malformed percent-encoding?)', [
            { field: 'path', reason: 'is not a valid URL component' },
          ]),
        )
      return
    default:
      reply.status(error.statusCode ?? 500).send(body('bad_request', error.message, []))
  }
}

/** The longest path parameter (encoded) routed: a 128-character id, percent-encoded, inside an alert id. */
export const MAX_PATH_PARAM_LENGTH = 1024

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (Fastify's `clientErrorHandler`): written to the
 * socket as a whole response in the API's error shape, then the connection is closed.
 */
export function replyToClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer (as Fastify's default handler does).
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const { status, payload } = clientErrorReply(error.code)
  if (socket.writable) {
    const text = JSON.stringify(payload)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${text}`,
    )
  }
  socket.destroy(error)
}

function clientErrorReply(code: string | undefined): { status: number; payload: ErrorBody } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        payload: body(
          'header_fields_too_large',
          `the request line and headers exceed ${maxHeaderSize} bytes: send a shorter URL or fewer, smaller headers`,
          [{ field: 'headers', reason: `exceed ${maxHeaderSize} bytes together with the URL` }],
        ),
      }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, payload: body('request_timeout', 'the request was not received in time', []) }
    default:
      return {
        status: 400,
        payload: body('bad_request', 'the request is not valid HTTP', [
          { field: 'request', reason: 'malformed' },
        ]),
      }
  }
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
