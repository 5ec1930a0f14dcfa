import { randomUUID } from 'node:crypto'
import type { Mute } from '../../domain/alert.js'
import { BOUNDS } from '../../domain/limits.js'
import { type FieldIssue, ValidationError } from '../../errors.js'
import type { AnomalyStore, Clock } from '../../ports.js'
import type { MetricCatalog } from '../metric-catalog.js'

const MAX_MUTE_MS = BOUNDS.muteMinutes.max * 60_000

export interface MuteRequest {
  customerId?: string
  metric?: string
  /** The end as a time (ms), or `minutes` from now: exactly one of them. */
  untilMs?: number
  minutes?: number
  reason?: string
}

export interface MuteDeps {
  anomalies: Pick<AnomalyStore, 'alerts'>
  metrics: MetricCatalog
  clock: Clock
}

/**
 * Stores a mute of incident alerts. A metric must be registered: a misspelt one would mute nothing while the
 * caller believes it silenced something. Any customer id is taken: a customer may have no usage yet.
 */
export async function createMute(deps: MuteDeps, request: MuteRequest): Promise<Mute> {
  const now = deps.clock.now()
  if (request.customerId === undefined && request.metric === undefined) {
    const reason = 'give customer_id, metric or both'
    throw new ValidationError(`a mute needs a target: ${reason}`, [
      { field: 'customer_id', reason },
      { field: 'metric', reason },
    ])
  }
  if ((request.untilMs === undefined) === (request.minutes === undefined)) {
    const reason = 'give exactly one of until and minutes'
    throw new ValidationError(`a mute needs an end: ${reason}`, [{ field: 'until', reason }])
  }
  const until = request.minutes !== undefined ? now + request.minutes * 60_000 : (request.untilMs ?? now)
  const issues: FieldIssue[] = []
  if (!(until > now && until - now <= MAX_MUTE_MS)) {
    issues.push({
      field: request.minutes !== undefined ? 'minutes' : 'until',
      reason: 'must be in the future and at most 90 days ahead',
    })
  }
  if (request.metric !== undefined) {
    const { metric } = request
    const registry = deps.metrics.current().has(metric)
      ? deps.metrics.current()
      : await deps.metrics.refresh()
    if (!registry.has(metric)) {
      issues.push({
        field: 'metric',
        reason: `unknown metric '${metric}'; registered: ${registry.names().join(', ')}`,
      })
    }
  }
  if (issues.length > 0)
    throw new ValidationError(`invalid mute: ${issues.map((i) => i.reason).join('; ')}`, issues)
  const mute: Mute = {
    id: randomUUID(),
    customerId: request.customerId ?? null,
    metric: request.metric ?? null,
    until,
    reason: request.reason ?? null,
    createdAt: now,
  }
  await deps.anomalies.alerts.putMute(mute)
  return mute
}
