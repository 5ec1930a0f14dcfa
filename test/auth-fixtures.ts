import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import type { ApiKeyScope } from '../src/domain/api-key.js'
import { buildServer } from '../src/http/server.js'
import type { MeterFlow } from '../src/wiring.js'
import { type Harness, openHarness } from './helpers.js'

export const NOW = Date.UTC(2026, 10, 25, 12, 30)
const HOUR = 3_600_000

export type Tokens = Record<'admin' | 'read' | 'ingest' | 'ingestRead', string>

/** A harness with authentication on (the default outside tests) and a key for each kind of caller. */
export async function openAuthHarness(): Promise<{ h: Harness; tokens: Tokens }> {
  const h = await openHarness(NOW, { auth: { mode: 'on' } })
  const make = async (scopes: ApiKeyScope[]) =>
    (await h.meterflow.keys.create({ name: scopes.join('+'), scopes })).token
  return {
    h,
    tokens: {
      admin: await make(['admin']),
      read: await make(['read']),
      ingest: await make(['ingest']),
      ingestRead: await make(['ingest', 'read']),
    },
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export const event = (id: string) => ({
  event_id: id,
  customer_id: 'auth-co',
  metric: 'api_calls',
  value: 5,
  timestamp: NOW - HOUR,
})

/** The same MeterFlow behind another server, e.g. with other limits or a captured log. */
export function variant(
  meterflow: MeterFlow,
  config: Partial<MeterFlow['config']>,
  options: Parameters<typeof buildServer>[1] = {},
) {
  return buildServer({ ...meterflow, config: { ...meterflow.config, ...config } }, options)
}

export function expectUnauthorized(res: LightMyRequestResponse, invalidToken: boolean): void {
  expect(res.statusCode).toBe(401)
  expect(res.headers['www-authenticate']).toBe(
    invalidToken ? 'Bearer realm="meterflow", error="invalid_token"' : 'Bearer realm="meterflow"',
  )
  expect(res.json()).toMatchObject({
    error: 'unauthorized',
    message: expect.any(String),
    details: [expect.any(Object)],
  })
}
