import type { CustomerProfile, CustomerStatus } from '../domain/customer.js'
import type { DetectorConfig } from '../domain/detector.js'
import { type FieldIssue, ValidationError } from '../errors.js'
import type { AnomalyStore, Clock } from '../ports.js'
import type { MetricCatalog } from './metric-catalog.js'

export interface CustomerUpdate {
  status?: CustomerStatus
  threshold?: number | null
  criticalThreshold?: number | null
  metrics?: string[] | null
  detector?: Partial<DetectorConfig> | null
}

/** The configured thresholds a customer without an override gets. */
export interface ThresholdDefaults {
  threshold: number
  criticalThreshold: number
}

/** Customers need no entry to be checked; an entry disables them or overrides thresholds, metrics, detector. */
export class CustomerRegistry {
  constructor(
    private readonly store: AnomalyStore,
    private readonly metrics: MetricCatalog,
    private readonly clock: Clock,
    private readonly defaults: ThresholdDefaults,
  ) {}

  async get(customerId: string): Promise<{ profile: CustomerProfile; registered: boolean }> {
    const profile = await this.store.getCustomer(customerId)
    if (profile) return { profile, registered: true }
    return {
      registered: false,
      profile: {
        customerId,
        status: 'active',
        threshold: null,
        criticalThreshold: null,
        metrics: null,
        detector: null,
        updatedAt: 0,
      },
    }
  }

  /** Merges the update into the current entry (absent fields keep their value; null clears an override). */
  async put(customerId: string, update: CustomerUpdate): Promise<CustomerProfile> {
    const { profile } = await this.get(customerId)
    const next: CustomerProfile = {
      customerId,
      status: update.status ?? profile.status,
      threshold: update.threshold === undefined ? profile.threshold : update.threshold,
      criticalThreshold:
        update.criticalThreshold === undefined ? profile.criticalThreshold : update.criticalThreshold,
      metrics: update.metrics === undefined ? profile.metrics : update.metrics,
      detector: update.detector === undefined ? profile.detector : update.detector,
      updatedAt: this.clock.now(),
    }
    const issues: FieldIssue[] = []
    const thresholds = thresholdIssue(next, update, this.defaults)
    if (thresholds) issues.push(thresholds)
    if (next.metrics) {
      const registry = await this.metrics.refresh()
      for (const name of next.metrics) {
        if (!registry.has(name)) issues.push({ field: 'metrics', reason: `unknown metric '${name}'` })
      }
      next.metrics = [...new Set(next.metrics)].sort()
    }
    const persist = next.detector
    if (persist?.persistRuns !== undefined && (persist.persistWindow ?? 1) < persist.persistRuns) {
      issues.push({
        field: 'detector.persist_window',
        reason: `must be given and at least persist_runs (${persist.persistRuns})`,
      })
    }
    if (issues.length > 0) throw new ValidationError(`invalid customer settings for ${customerId}`, issues)
    await this.store.putCustomer(next)
    return next
  }
}

/**
 * A critical override below the effective threshold (the override, else the configured default), as the check
 * route refuses the same pair. Without a critical override there is nothing to refuse: the run lifts the default
 * critical threshold to the threshold. Names the field this update set (critical_threshold when both or neither).
 */
function thresholdIssue(
  next: CustomerProfile,
  update: CustomerUpdate,
  defaults: ThresholdDefaults,
): FieldIssue | null {
  if (next.criticalThreshold === null) return null
  const threshold = next.threshold ?? defaults.threshold
  if (next.criticalThreshold >= threshold) return null
  const source = next.threshold === null ? 'the configured default' : "the customer's override"
  if (update.threshold !== undefined && update.criticalThreshold === undefined) {
    return {
      field: 'threshold',
      reason: `must be <= critical_threshold (${next.criticalThreshold}, the customer's override); the effective threshold would be ${threshold} (${source})`,
    }
  }
  return {
    field: 'critical_threshold',
    reason: `must be >= the effective threshold (${threshold}, ${source})`,
  }
}
