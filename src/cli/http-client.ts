import type { IngestResult } from '../app/ingest.js'
import type { Config } from '../config.js'
import type { FieldIssue } from '../errors.js'
import type { anomalyJson, runJson } from '../http/serialize.js'

export type RunJson = ReturnType<typeof runJson>
export type AnomalyJson = ReturnType<typeof anomalyJson>

/** GET /v1/anomalies's filters, as the API names them (times ISO 8601). */
export interface AnomalyFilters {
  customer_id?: string
  metric?: string
  severity?: string
  kind?: string
  since?: string
  until?: string
  limit: number
  cursor?: string
}

/** An error reply from a MeterFlow server, carrying its `{ error, message, details }` body. */
export class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldIssue[],
    /** The parsed reply body (null when it was not JSON). */
    readonly body: unknown = null,
  ) {
    super(message)
    this.name = 'RemoteError'
  }
}

export const API_KEY_HELP =
  'API key for --url (default: METERFLOW_API_KEY; prefer the variable: arguments show in ps)'

/** The client of a running server (--url), sending --api-key or else METERFLOW_API_KEY. */
export function remoteClient(
  config: Pick<Config, 'client'>,
  url: string,
  apiKey: string | undefined,
): MeterFlowHttpClient {
  return new MeterFlowHttpClient(url, apiKey ?? config.client.apiKey)
}

/** Long enough for a 10,000-event batch on a busy server; a server that says nothing for this long is down. */
const REQUEST_TIMEOUT_MS = 120_000

/** The CLI's way to a running server (`--url`): the embedded engine allows one process per data directory. */
export class MeterFlowHttpClient {
  private readonly base: string

  /** `apiKey`: sent as `Authorization: Bearer` (--api-key, else METERFLOW_API_KEY); none for a server with auth off. */
  constructor(
    baseUrl: string,
    private readonly apiKey?: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '')
  }

  ingest(events: unknown[]): Promise<IngestResult> {
    return this.request<IngestResult>('POST', '/v1/events', events)
  }

  check(params: Record<string, string | number | undefined>): Promise<Record<string, unknown>> {
    return this.request('GET', `/v1/anomalies/check?${query(params)}`)
  }

  /** POST /v1/runs: the run record, of a failed run too (the server answers it with a 500). */
  async runSlot(slotMs: number | undefined): Promise<RunJson> {
    const body = slotMs === undefined ? {} : { slot: new Date(slotMs).toISOString() }
    try {
      return await this.request<RunJson>('POST', '/v1/runs', body)
    } catch (err) {
      if (err instanceof RemoteError && err.status === 500 && isRun(err.body)) return err.body
      throw err
    }
  }

  listAnomalies(filters: AnomalyFilters): Promise<{ items: AnomalyJson[]; next_cursor: string | null }> {
    return this.request('GET', `/v1/anomalies?${query({ ...filters })}`)
  }

  createKey(name: string, scopes: string[]): Promise<Record<string, unknown> & { key: string }> {
    return this.request('POST', '/v1/keys', { name, scopes })
  }

  listKeys(): Promise<{ items: Record<string, unknown>[] }> {
    return this.request('GET', '/v1/keys')
  }

  revokeKey(id: string): Promise<Record<string, unknown>> {
    return this.request('DELETE', `/v1/keys/${encodeURIComponent(id)}`)
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.apiKey === undefined ? {} : { authorization: `Bearer ${this.apiKey}` }),
      },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new RemoteError(
        response.status,
        'invalid_response',
        `${method} ${path}: HTTP ${response.status}: ${text.slice(0, 200)}`,
        [],
      )
    }
    if (!response.ok) {
      const e = parsed as { error?: string; message?: string; details?: FieldIssue[] }
      const hint = response.status === 401 ? ' (set METERFLOW_API_KEY or pass --api-key)' : ''
      throw new RemoteError(
        response.status,
        e.error ?? 'http_error',
        `${e.message ?? `HTTP ${response.status}`}${hint}`,
        e.details ?? [],
        parsed,
      )
    }
    return parsed as T
  }
}

function query(params: Record<string, string | number | undefined>): URLSearchParams {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value))
  return search
}

function isRun(body: unknown): body is RunJson {
  return (
    typeof body === 'object' && body !== null && typeof (body as { run_id?: unknown }).run_id === 'string'
  )
}
