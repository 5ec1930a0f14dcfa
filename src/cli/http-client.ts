import type { IngestResult } from '../app/ingest.js'
import type { FieldIssue } from '../errors.js'

/** An error reply from a MeterFlow server, carrying its `{ error, message, details }` body. */
export class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldIssue[],
  ) {
    super(message)
    this.name = 'RemoteError'
  }
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
    const query = new URLSearchParams()
    for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value))
    return this.request('GET', `/v1/anomalies/check?${query}`)
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
      )
    }
    return parsed as T
  }
}
