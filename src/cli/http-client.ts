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

/** The CLI's way to a running server (`--url`): the embedded engine allows one process per data directory. */
export class MeterFlowHttpClient {
  private readonly base: string

  constructor(baseUrl: string) {
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

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
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
      throw new RemoteError(
        response.status,
        e.error ?? 'http_error',
        e.message ?? `HTTP ${response.status}`,
        e.details ?? [],
      )
    }
    return parsed as T
  }
}
