import autocannon from 'autocannon'
import { type Config, loadConfig } from '../src/config.js'

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
