import autocannon from 'autocannon'
import { HISTORY_CACHE_ENTRIES } from '../src/adapters/clickhouse/history-cache.js'
import { type Config, loadConfig } from '../src/config.js'
import { HOUR_MS } from '../src/domain/time.js'

export interface LatencyResult {
  scenario: string
  connections: number
  seconds: number
  requests: number
  requestsPerSecond: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  errors: number
  non2xx: number
}

/** Drives GET /v1/anomalies/check with `connections` concurrent clients over varying customers and metrics. */
export async function checkLatency(
  scenario: string,
  baseUrl: string,
  paths: string[],
  connections: number,
  seconds: number,
): Promise<LatencyResult> {
  let next = 0
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => {
          request.path = paths[next++ % paths.length] as string
          return request
        },
      },
    ],
  })
  return {
    scenario,
    connections,
    seconds,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    non2xx: result.non2xx,
  }
}

/** The benchmarks measure the API, not its guard: anonymous (loopback) and unthrottled. */
/** The demo data and the load the check benches share (`npm run bench`, bench/check-only.ts): their CLI options. */
export const CHECK_BENCH_OPTIONS = {
  customers: { type: 'string', default: '100' },
  days: { type: 'string', default: '35' },
  seconds: { type: 'string', default: '10' },
  connections: { type: 'string', default: '10' },
} as const

export function apiBenchConfig(dataDir: string): Config {
  return loadConfig(
    {},
    {
      dataDir,
      logLevel: 'warn',
      demo: { enabled: false },
      http: { port: 0 },
      auth: { mode: 'off' },
      rateLimit: { max: 1_000_000 },
    },
  )
}

/**
 * Check paths for 24 h windows ending on each of `hours` whole hours, `skipHours` before `endMs` and earlier, every
 * pair in turn: pairs x hours distinct checks (9,600 on the bench's data) cycled through in order, more than the
 * embedded store keeps (HISTORY_CACHE_ENTRIES), so each one is read from the engine: the cost of a check nobody asked
 * before. Runs in one process take different `skipHours`, or a later run would meet the checks an earlier one kept.
 */
export function distinctAlignedChecks(
  pairs: readonly string[],
  endMs: number,
  mode: string,
  skipHours = 0,
  hours = 24,
): string[] {
  if (pairs.length * hours <= HISTORY_CACHE_ENTRIES)
    throw new RangeError('too few distinct checks to miss the cache')
  return Array.from({ length: hours }, (_, h) =>
    new Date(endMs - (skipHours + h) * HOUR_MS).toISOString(),
  ).flatMap((end) => pairs.map((p) => `/v1/anomalies/check?${p}&current_end=${end}&mode=${mode}`))
}
