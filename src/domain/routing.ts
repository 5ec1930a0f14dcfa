import type { Alert, AlertTransition } from './alert.js'
import type { Severity } from './volume.js'

/** Which alerts one channel receives. */
export interface Route {
  severities: readonly Severity[]
  transitions: readonly AlertTransition[]
  /** Storm summaries and job-health alerts. */
  ops: boolean
  /** The periodic digest. */
  digest: boolean
}

/** Whether a route takes an alert. Incident alerts go by the incident's severity at the time of the alert. */
export function routeAccepts(route: Route, alert: Alert): boolean {
  switch (alert.kind) {
    case 'incident':
      return (
        route.severities.includes(alert.incident.severity) && route.transitions.includes(alert.transition)
      )
    case 'storm':
    case 'job_health':
      return route.ops
    case 'digest':
      return route.digest
  }
}
