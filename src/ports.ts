import type { UsageEvent } from './domain/events.js'
import type { Aggregation, MetricDefinition } from './domain/metrics.js'
import type { TimeWindow } from './domain/windows.js'

export interface WindowAggregate {
  /** The metric's aggregate over the window (0 when the window holds no events). */
  value: number
  events: number
}

export interface InsertResult {
  inserted: number
  /** Events whose event_id the store already held. */
  alreadyStored: number
}

export interface UsageStore {
  /** Inserts a validated batch durably; events whose id is already stored are skipped. */
  insertEvents(events: readonly UsageEvent[]): Promise<InsertResult>
  /**
   * Aggregates one customer's metric over each window (non-overlapping), in the order given.
   * Hour-aligned windows are answered from the hourly rollup.
   */
  aggregateWindows(
    customerId: string,
    metric: string,
    aggregation: Aggregation,
    windows: readonly TimeWindow[],
  ): Promise<WindowAggregate[]>
  /** Start of the first hour holding an event of this customer and metric, or null if none. */
  firstEventHour(customerId: string, metric: string): Promise<number | null>
  countEvents(): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface MetricStore {
  list(): Promise<MetricDefinition[]>
  save(metric: MetricDefinition): Promise<void>
}

export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
