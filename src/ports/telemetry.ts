import type { DetectionRun } from '../domain/run.js'
import type { Severity } from '../domain/volume.js'
import type { ChannelDeliveries } from './alerts.js'

// Operational metrics the use cases report.

/** One answered HTTP request, labelled by its route pattern (never the raw URL: labels must stay few). */
export interface HttpRequestRecord {
  /** The route as declared (`/v1/incidents/:id`); null when no route matched. */
  route: string | null
  method: string
  statusCode: number
  durationMs: number
}

/**
 * Operational counters the use cases report once per event (Prometheus on the server, nothing in the CLI).
 * Reporting never throws and never waits: a broken metrics backend must not fail a run or a request.
 */
export interface Telemetry {
  runFinished(run: DetectionRun, anomaliesBySeverity: Readonly<Record<Severity, number>>): void
  openIncidents(count: number): void
  deliveriesFinished(byChannel: Readonly<Record<string, ChannelDeliveries>>): void
  eventsIngested(events: { stored: number; duplicates: number; conflicts: number }, bytes: number): void
  httpRequest(request: HttpRequestRecord): void
}

/** For code paths without metrics (the CLI, the eval). */
export const noTelemetry: Telemetry = {
  runFinished: () => undefined,
  openIncidents: () => undefined,
  deliveriesFinished: () => undefined,
  eventsIngested: () => undefined,
  httpRequest: () => undefined,
}

/** The metrics in a scrapeable text format (`GET /metrics`). */
export interface MetricsExposition {
  readonly contentType: string
  render(): Promise<string>
}
