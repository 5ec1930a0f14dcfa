import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { API_KEY_SCOPES } from '../../domain/api-key.js'
import { UnauthorizedError } from '../../errors.js'
import type { MeterFlow } from '../../wiring.js'
import { SESSION_COOKIE } from '../auth.js'
import { errorResponseSchema } from '../errors.js'
import { apiKeyJson } from '../serialize.js'

import { nullableTime, time } from './schemas.js'

const keySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Public id (the 12 hex digits after mf_); not a secret.' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: [...API_KEY_SCOPES] } },
    created_at: time,
    last_used_at: { ...nullableTime, description: 'Recorded at most once a minute.' },
    revoked_at: nullableTime,
  },
} as const

/** The session cookie lives as long as this (the key inside it may be revoked sooner). */
const SESSION_MAX_AGE_S = 12 * 60 * 60

/** Nothing about keys or sessions may sit in a cache. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store')
}

function sessionCookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : ''
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure}`
}

/** API keys (admin) and the dashboard's sign-in with a key. */
export function keyRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.post<{ Body: { name: string; scopes: string[] } }>(
    '/v1/keys',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Create an API key; the reply carries the key itself, shown this once',
        description:
          'Scopes: ingest (POST /v1/events), read (every GET), admin (everything). ingest does not imply read. Only a hash of the key is stored.',
        tags: ['keys'],
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            scopes: {
              type: 'array',
              minItems: 1,
              maxItems: 3,
              items: { type: 'string', enum: [...API_KEY_SCOPES] },
            },
          },
        },
        response: {
          201: { ...keySchema, properties: { ...keySchema.properties, key: { type: 'string' } } },
          400: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { key, token } = await meterflow.keys.create(request.body)
      return noStore(reply)
        .status(201)
        .send({ ...apiKeyJson(key), key: token })
    },
  )

  app.get(
    '/v1/keys',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Every API key, revoked ones too, newest first (never the key itself)',
        tags: ['keys'],
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: keySchema } } } },
      },
    },
    async (_request, reply) => noStore(reply).send({ items: (await meterflow.keys.list()).map(apiKeyJson) }),
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/keys/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Revoke an API key for good (revoking it again changes nothing)',
        tags: ['keys'],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: keySchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => noStore(reply).send(apiKeyJson(await meterflow.keys.revoke(request.params.id))),
  )

  app.post<{ Body: { api_key: string } }>(
    '/v1/session',
    {
      config: { scope: 'public' },
      schema: {
        summary: 'Sign in (the dashboard): trade an API key for an HttpOnly, SameSite=Strict session cookie',
        description: `The cookie carries the key's scopes for ${SESSION_MAX_AGE_S / 3600} hours or until the key is revoked; changes made with it must come from the same origin.`,
        tags: ['keys'],
        security: [],
        body: {
          type: 'object',
          required: ['api_key'],
          additionalProperties: false,
          properties: { api_key: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: { type: 'object', properties: { key: keySchema } }, 401: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const key = await meterflow.keys.authenticate(request.body.api_key)
      if (!key) {
        throw new UnauthorizedError('the API key is invalid or revoked', [
          { field: 'api_key', reason: 'invalid or revoked key' },
        ])
      }
      return noStore(reply)
        .header('set-cookie', sessionCookie(request, request.body.api_key, SESSION_MAX_AGE_S))
        .send({ key: apiKeyJson(key) })
    },
  )

  app.delete(
    '/v1/session',
    {
      config: { scope: 'public' },
      schema: { summary: 'Sign out: clears the session cookie', tags: ['keys'], security: [] },
    },
    async (request, reply) =>
      noStore(reply)
        .header('set-cookie', sessionCookie(request, '', 0))
        .status(204)
        .send(),
  )

  app.get(
    '/v1/session',
    {
      config: { scope: 'authenticated' },
      schema: {
        summary: 'Who is calling: the key of this request (Bearer or session cookie)',
        tags: ['keys'],
        response: {
          200: {
            type: 'object',
            properties: {
              auth: { type: 'string', enum: ['on', 'off'] },
              via: { type: ['string', 'null'], enum: ['bearer', 'cookie', null] },
              key: { anyOf: [keySchema, { type: 'null' }] },
            },
          },
        },
      },
    },
    async (request, reply) =>
      noStore(reply).send({
        auth: meterflow.config.auth.mode,
        via: request.principal?.via ?? null,
        key: request.principal ? apiKeyJson(request.principal.key) : null,
      }),
  )
}
