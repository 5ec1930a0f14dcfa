import { mapLimit } from '../../concurrency.js'
import {
  type Alert,
  type AlertDelivery,
  type DeliveryStatus,
  deliveryId,
  type IncidentAlert,
  type Mute,
} from '../../domain/alert.js'
import {
  digestAlert,
  incidentAlert,
  incidentAlertId,
  jobHealthAlert,
  matchingMute,
  stormAlert,
} from '../../domain/alert-factory.js'
import { pagePath } from '../../domain/dashboard-pages.js'
import type { Incident } from '../../domain/incident.js'
import { type Route, routeAccepts } from '../../domain/routing.js'
import type { DetectionRun } from '../../domain/run.js'
import { DAY_MS } from '../../domain/time.js'
import type { AlertChannel, AnomalyStore, Clock } from '../../ports.js'

export interface RoutedChannel {
  channel: AlertChannel
  route: Route
}

export interface AlertingOptions {
  stormLimit: number
  jobSlowMs: number
  /** The dashboard / API base URL for links, without a trailing slash. */
  publicUrl: string | null
}

export interface RaiseDeps {
  anomalies: AnomalyStore
  channels: readonly RoutedChannel[]
  clock: Clock
  options: AlertingOptions
}

export interface TransitionAlert {
  incident: Incident
  transition: IncidentAlert['transition']
  detection: IncidentAlert['detection']
}

/** What a run raised: deliveries written to the outbox, by status. */
export type RaiseSummary = Partial<Record<DeliveryStatus, number>> & { storm: boolean }

/**
 * Writes a run's incident transitions to the outbox, one delivery per routed channel, before the run records the
 * incidents themselves (delivery only sends alerts whose transition the incident store confirms). Mutes,
 * acknowledgements and the storm guard decide a delivery's first status; nothing is dropped silently.
 */
export async function raiseTransitions(
  deps: RaiseDeps,
  run: Pick<DetectionRun, 'runId' | 'slot'>,
  transitions: readonly TransitionAlert[],
): Promise<RaiseSummary> {
  if (transitions.length === 0) return { storm: false }
  const now = deps.clock.now()
  const mutes = await deps.anomalies.alerts.activeMutes(now)
  // Openings and escalations both page: together they are what the storm guard counts and holds.
  const paging = transitions.filter((t) => t.transition !== 'resolved')
  const storm = paging.length > deps.options.stormLimit
  // An escalation or resolution follows what became of the incident's opening on the same channel.
  const followers = transitions.filter((t) => t.transition !== 'opened')
  const openings = new Map<string, AlertDelivery | null>()
  const openingIds = followers.flatMap((t) =>
    deps.channels.map((routed) => deliveryId(openingAlertId(t.incident), routed.channel.name)),
  )
  await mapLimit(openingIds, 16, async (id) => {
    openings.set(id, await deps.anomalies.alerts.get(id))
  })
  const deliveries: AlertDelivery[] = []
  for (const t of transitions) {
    const alert = incidentAlert(t.incident, t.transition, t.detection, incidentLink(deps, t.incident.id))
    const mute = matchingMute(alert, mutes, now)
    for (const routed of deps.channels) {
      if (!routeAccepts(routed.route, alert)) continue
      const opening =
        t.transition === 'opened'
          ? null
          : (openings.get(deliveryId(openingAlertId(t.incident), routed.channel.name)) ?? null)
      const [status, note] = firstStatus(
        t,
        opening,
        storm ? paging.length : null,
        mute,
        deps.options.stormLimit,
      )
      deliveries.push(delivery(alert, routed.channel.name, status, note, now))
    }
  }
  if (storm) {
    const summary = stormAlert(
      run,
      paging.map((t) => t.incident),
      deps.options.stormLimit,
      pageLink(deps, `${pagePath('incidents')}?status=open`),
    )
    deliveries.push(...forRoutes(deps, summary, now))
  }
  await deps.anomalies.alerts.enqueue(deliveries)
  const counts: RaiseSummary = { storm }
  for (const d of deliveries) counts[d.status] = (counts[d.status] ?? 0) + 1
  return counts
}

const openingAlertId = (incident: Incident) => incidentAlertId(incident, 'opened', incident.openedAt)

/**
 * A delivery's first status. The storm guard holds openings and escalations; a mute silences openings and
 * escalations; an escalation or resolution whose opening on the channel was held or muted goes the same way
 * (nobody there heard of the incident), but a resolution of an incident the channel was told about is always sent,
 * mute or not, so that PagerDuty and Slack threads close.
 */
function firstStatus(
  t: TransitionAlert,
  opening: AlertDelivery | null,
  stormCount: number | null,
  mute: Mute | null,
  stormLimit: number,
): [DeliveryStatus, string | null] {
  if (t.transition !== 'opened' && opening && (opening.status === 'held' || opening.status === 'muted')) {
    const status = t.transition === 'escalated' && opening.status === 'held' ? 'held' : 'muted'
    return [status, `its opening alert was not sent (${opening.status})`]
  }
  if (t.transition === 'resolved') return ['pending', null]
  if (stormCount !== null) {
    return [
      'held',
      `held by the storm guard: ${stormCount} incidents opened or escalated in one run (limit ${stormLimit})`,
    ]
  }
  if (mute) return ['muted', `muted until ${new Date(mute.until).toISOString()} (mute ${mute.id})`]
  if (t.transition === 'escalated' && t.incident.acknowledgedAt !== null) {
    return [
      'suppressed',
      `incident acknowledged${t.incident.acknowledgedBy ? ` by ${t.incident.acknowledgedBy}` : ''}`,
    ]
  }
  return ['pending', null]
}

/** Alerts ops about a failed or slow run; nothing for a healthy one. */
export async function raiseJobHealth(deps: RaiseDeps, run: DetectionRun): Promise<number> {
  const alert = jobHealthAlert(run, deps.options.jobSlowMs, pageLink(deps, pagePath('run', run.runId)))
  if (!alert) return 0
  return deps.anomalies.alerts.enqueue(forRoutes(deps, alert, deps.clock.now()))
}

/** The ops digest of the day before `to` (a replayed digest for the same `to` is the same alert). */
export async function raiseDigest(deps: RaiseDeps, to: number): Promise<number> {
  const from = to - DAY_MS
  const seen = new Map<string, Incident>()
  for (const status of ['open', undefined] as const) {
    let cursor: string | undefined
    do {
      const page = await deps.anomalies.listIncidents({
        limit: 500,
        ...(status ? { status } : {}),
        ...(cursor ? { cursor } : {}),
      })
      for (const i of page.items) seen.set(i.id, i)
      cursor = page.nextCursor ?? undefined
      // Newest opened first: past the period (and not open) nothing older can matter to the digest.
      if (!status && page.items.some((i) => i.openedAt < from && (i.resolvedAt ?? 0) < from))
        cursor = undefined
    } while (cursor)
  }
  const alert = digestAlert(from, to, [...seen.values()], pageLink(deps, pagePath('incidents')))
  return deps.anomalies.alerts.enqueue(forRoutes(deps, alert, deps.clock.now()))
}

function forRoutes(deps: RaiseDeps, alert: Alert, now: number): AlertDelivery[] {
  return deps.channels
    .filter((routed) => routeAccepts(routed.route, alert))
    .map((routed) => delivery(alert, routed.channel.name, 'pending', null, now))
}

function delivery(
  alert: Alert,
  channel: string,
  status: DeliveryStatus,
  note: string | null,
  now: number,
): AlertDelivery {
  return {
    id: deliveryId(alert.id, channel),
    channel,
    status,
    attempts: 0,
    nextAttemptAt: now,
    lastError: note,
    createdAt: now,
    updatedAt: now,
    deliveredAt: null,
    alert,
  }
}

function incidentLink(deps: RaiseDeps, incidentId: string): string | null {
  return pageLink(deps, pagePath('incident', incidentId))
}

/** A link to a dashboard page (served at the public URL's root): alerts open what they are about. */
function pageLink(deps: RaiseDeps, path: string): string | null {
  return deps.options.publicUrl ? `${deps.options.publicUrl}${path}` : null
}
