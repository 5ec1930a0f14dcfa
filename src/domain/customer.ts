import type { DetectorConfig } from './detector.js'

export type CustomerStatus = 'active' | 'disabled'

/**
 * A customer's registry entry. Customers need none to be checked (any customer with usage is); an entry
 * disables checking or overrides thresholds and the metrics checked.
 */
export interface CustomerProfile {
  customerId: string
  status: CustomerStatus
  threshold: number | null
  criticalThreshold: number | null
  /** null: every registered metric */
  metrics: string[] | null
  /** Detector settings for this customer's series, over the metric's (null: the metric's as configured). */
  detector: Partial<DetectorConfig> | null
  updatedAt: number
}
