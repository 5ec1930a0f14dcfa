import { isIP } from 'node:net'
import { z } from 'zod'
import { API_KEY_PATTERN } from './domain/api-key.js'

/** Who may call the API (README, Security; docs/decisions.md, Access). */
export const authConfigSchema = z.object({
  /** on: every route but the public ones needs an API key. off: anyone may call anything (loopback hosts only). */
  mode: z.enum(['on', 'off']).default('on'),
  /** A known admin key stored at start (automated deploys); otherwise the first start prints a new one. */
  adminKey: z
    .string()
    .regex(API_KEY_PATTERN, 'must look like mf_<12 hex digits>_<43 base64url characters>')
    .optional(),
})

/** Requests per window per API key (per client address for requests without a valid key). */
export const rateLimitConfigSchema = z.object({
  max: z.coerce.number().int().min(1).max(1_000_000).default(3_000),
  windowMs: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
})

/** The CLI's side of `--url`: the key it sends to a running server. */
export const clientConfigSchema = z.object({
  apiKey: z.string().min(1).max(200).optional(),
})

export const AUTH_ENV_VARIABLES: Record<string, string> = {
  METERFLOW_AUTH: 'auth.mode',
  METERFLOW_ADMIN_KEY: 'auth.adminKey',
  METERFLOW_RATE_LIMIT: 'rateLimit.max',
  METERFLOW_RATE_LIMIT_WINDOW_MS: 'rateLimit.windowMs',
  METERFLOW_API_KEY: 'client.apiKey',
}

/** Whether a listen address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (bare === 'localhost') return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  return bare === '::1' || /^::ffff:127\./.test(bare)
}

/** An open API (auth off) is refused on any address another machine can reach. */
export function refuseOpenNonLoopback(
  config: { auth: { mode: 'on' | 'off' }; http: { host: string } },
  ctx: z.RefinementCtx,
): void {
  if (config.auth.mode === 'off' && !isLoopbackHost(config.http.host)) {
    ctx.addIssue({
      code: 'custom',
      path: ['auth', 'mode'],
      message: `off is only allowed on a loopback host (127.0.0.1, ::1, localhost), not ${config.http.host}: create an API key instead`,
    })
  }
}
