import { type AlertDelivery, deliveryId, type IncidentAlert } from '../../domain/alert.js'
import {
  confirmsTransition,
  incidentAlertId,
  nextRetryDelay,
  type RetryPolicy,
} from '../../domain/alert-factory.js'
import type { Incident } from '../../domain/incident.js'
import { ConflictError, NotFoundError } from '../../errors.js'
import type {
  AlertChannel,
  AnomalyStore,
  ChannelDeliveries,
  Clock,
  DeliveryResult,
  Telemetry,
} from '../../ports.js'

export interface DeliverDeps {
  anomalies: AnomalyStore
  /** By name: a delivery for a channel no longer configured waits (and is visible) until it is configured. */
  channels: ReadonlyMap<string, AlertChannel>
  clock: Clock
  retry: RetryPolicy
  /** How long a claimed attempt owns its delivery; a process that dies mid-send is retried after this. */
  leaseMs: number
  /** An alert whose incident transition is still unrecorded after this long is dropped (the run never wrote it). */
  confirmGraceMs: number
  telemetry: Telemetry
}

export interface DeliverySummary {
  delivered: number
  retrying: number
  failed: number
  /** Waiting for their incident write or for an earlier alert of the same incident. */
  deferred: number
  /** The attempts' outcomes by channel (a channel with no attempt is absent). */
  byChannel: Record<string, ChannelDeliveries>
}

/** Adds `pass` into `total` (the service sums the passes of one deliver() call). */
export function addDeliverySummary(total: DeliverySummary, pass: DeliverySummary): void {
  total.delivered += pass.delivered
  total.retrying += pass.retrying
  total.failed += pass.failed
  total.deferred += pass.deferred
  for (const [channel, counts] of Object.entries(pass.byChannel)) {
    const into = channelCounts(total, channel)
    into.delivered += counts.delivered
    into.retrying += counts.retrying
    into.failed += counts.failed
  }
}

function channelCounts(summary: DeliverySummary, channel: string): ChannelDeliveries {
  let counts = summary.byChannel[channel]
  if (!counts) {
    counts = { delivered: 0, retrying: 0, failed: 0 }
    summary.byChannel[channel] = counts
  }
  return counts
}

export function emptyDeliverySummary(): DeliverySummary {
  return { delivered: 0, retrying: 0, failed: 0, deferred: 0, byChannel: {} }
}

const BATCH = 100

/**
 * Sends due outbox deliveries: claim (attempts + 1, leased), confirm, send, record the outcome. Each claim is an
 * optimistic write, so two processes never both send one attempt; a crash after the claim means one more attempt
 * after the lease, never a lost alert.
 */
export async function deliverDue(deps: DeliverDeps, maxBatches = 10): Promise<DeliverySummary> {
  const summary = emptyDeliverySummary()
  // Each configured channel reads its own queue, in parallel with the others: a Slack outage neither fills the
  // batches nor holds PagerDuty's pages behind its timeouts, and a process never touches (or delays) deliveries
  // for a channel it is not configured for.
  await Promise.all(
    [...deps.channels.keys()].map(async (channel) => {
      for (let batch = 0; batch < maxBatches; batch++) {
        const due = await deps.anomalies.alerts.due(deps.clock.now(), BATCH, channel)
        for (const d of due) {
          // After one retryable failure the receiver is likely down: the rest wait for the next pass.
          if ((await deliverOne(deps, d, summary)) === 'retry') return
        }
        if (due.length < BATCH) return
      }
    }),
  )
  deps.telemetry.deliveriesFinished(summary.byChannel)
  return summary
}

async function deliverOne(
  deps: DeliverDeps,
  d: AlertDelivery,
  summary: DeliverySummary,
): Promise<DeliveryResult['status'] | 'skipped'> {
  const store = deps.anomalies.alerts
  const now = deps.clock.now()
  const defer = async (until: number, note: string) => {
    const next = { ...d, nextAttemptAt: until, lastError: note, updatedAt: now }
    if (await store.update(next, d)) summary.deferred++
  }
  const channel = deps.channels.get(d.channel)
  if (!channel) {
    await defer(now + deps.retry.maxMs, `channel ${d.channel} is not configured in this process`)
    return 'skipped'
  }
  if (d.alert.kind === 'incident') {
    const alert = d.alert
    const incident = await deps.anomalies.getIncident(alert.incident.id)
    const superseded = await supersededBy(deps, d, alert, incident)
    if (superseded) {
      await store.update({ ...d, status: 'suppressed', lastError: superseded, updatedAt: now }, d)
      return 'skipped'
    }
    if (!confirmsTransition(incident, alert)) {
      if (now - d.createdAt > deps.confirmGraceMs) {
        const note = 'dropped: the run that raised it never recorded the incident transition'
        await store.update({ ...d, status: 'suppressed', lastError: note, updatedAt: now }, d)
      } else {
        await defer(
          now + Math.min(deps.retry.baseMs, 60_000),
          'waiting for the incident transition to be recorded',
        )
      }
      return 'skipped'
    }
    if (alert.transition !== 'opened') {
      // Receivers (PagerDuty above all) must hear of an incident before its escalation or resolution.
      const openedId = incidentAlertId(alert.incident, 'opened', alert.incident.openedAt)
      const opening = await store.get(deliveryId(openedId, d.channel))
      if (opening?.status === 'pending') {
        await defer(Math.max(opening.nextAttemptAt, now) + 1, 'waiting for the opening alert to be delivered')
        return 'skipped'
      }
    }
  }
  const claimed: AlertDelivery = {
    ...d,
    attempts: d.attempts + 1,
    nextAttemptAt: now + deps.leaseMs,
    updatedAt: now,
  }
  if (!(await store.update(claimed, d))) return 'skipped' // another worker has it
  let result: DeliveryResult
  try {
    result = await channel.send(d.alert, { deliveryId: d.id, attempt: claimed.attempts })
  } catch (err) {
    // Channels report failures as values; a throw is a bug in one, still worth another try.
    result = { status: 'retry', error: `channel threw: ${(err as Error).message}` }
  }
  const done = deps.clock.now()
  const perChannel = channelCounts(summary, d.channel)
  let outcome: AlertDelivery
  if (result.status === 'delivered') {
    outcome = { ...claimed, status: 'delivered', deliveredAt: done, lastError: null, updatedAt: done }
    summary.delivered++
    perChannel.delivered++
  } else {
    const delay =
      result.status === 'retry' ? nextRetryDelay(claimed.attempts, deps.retry, result.retryAfterMs) : null
    if (delay === null) {
      const why =
        result.status === 'rejected'
          ? 'rejected by the receiver'
          : `gave up after ${claimed.attempts} attempts`
      outcome = { ...claimed, status: 'failed', lastError: `${why}: ${result.error}`, updatedAt: done }
      summary.failed++
      perChannel.failed++
    } else {
      outcome = { ...claimed, nextAttemptAt: done + delay, lastError: result.error, updatedAt: done }
      summary.retrying++
      perChannel.retrying++
    }
  }
  await store.update(outcome, claimed)
  return result.status
}

/**
 * Why an incident alert is no longer worth sending, or null. A late escalation or opening after the resolution
 * went out would re-open the incident at PagerDuty; an escalation of an acknowledged incident is what the
 * acknowledgement asked not to hear.
 */
async function supersededBy(
  deps: DeliverDeps,
  d: AlertDelivery,
  alert: IncidentAlert,
  incident: Incident | null,
): Promise<string | null> {
  if (!incident || alert.transition === 'resolved') return null
  if (alert.transition === 'escalated' && incident.acknowledgedAt !== null) {
    return `incident acknowledged${incident.acknowledgedBy ? ` by ${incident.acknowledgedBy}` : ''}`
  }
  if (incident.status !== 'resolved' || incident.resolvedAt === null) return null
  if (alert.transition === 'escalated')
    return 'superseded: the incident resolved before this escalation went out'
  const resolvedId = incidentAlertId(incident, 'resolved', incident.resolvedAt)
  const resolution = await deps.anomalies.alerts.get(deliveryId(resolvedId, d.channel))
  return resolution?.status === 'delivered' ? 'superseded: its resolution was already delivered' : null
}

/** Puts a failed or held delivery back in the queue, due now, with a fresh set of attempts. */
export async function requeueDelivery(deps: Pick<DeliverDeps, 'anomalies' | 'clock'>, id: string) {
  const store = deps.anomalies.alerts
  const current = await store.get(id)
  if (!current)
    throw new NotFoundError(`no alert delivery ${id}`, [{ field: 'id', reason: 'unknown delivery id' }])
  if (current.status !== 'failed' && current.status !== 'held' && current.status !== 'muted') {
    throw new ConflictError(
      `alert delivery ${id} is ${current.status}; only failed, held or muted ones can be retried`,
      [{ field: 'id', reason: `status is ${current.status}` }],
    )
  }
  const now = deps.clock.now()
  const next: AlertDelivery = {
    ...current,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    updatedAt: now,
  }
  if (!(await store.update(next, current))) {
    throw new ConflictError(`alert delivery ${id} changed meanwhile; try again`, [
      { field: 'id', reason: 'changed' },
    ])
  }
  return next
}
