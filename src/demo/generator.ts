import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'
import type { UsageEvent } from '../domain/events.js'
import { DAY_MS, HOUR_MS } from '../domain/time.js'
import {
  type AnomalyLabel,
  applyAnomaly,
  factorAfterEnd,
  type PlannedAnomaly,
  planRandomAnomaly,
  toLabel,
} from './anomalies.js'
import {
  baseSeries,
  DEMO_METRICS,
  dailyProfile,
  hourValues,
  keyedRng,
  Rng,
  randomSegment,
  randomUsageProfile,
  roundMetric,
  type Segment,
  type SeriesValues,
  type UsageProfile,
} from './profiles.js'

export type { AnomalyKind, AnomalyLabel } from './anomalies.js'
export { ANOMALY_KINDS, rotateDay } from './anomalies.js'
export { DEMO_METRICS, type DemoMetric, type SeriesValues } from './profiles.js'

export interface DemoOptions {
  customers: number
  days: number
  /** An integer in [0, 2^32): pure-rand seeds are 32-bit, so wider seeds would silently alias. */
  seed: number
  /** Exclusive, hour-aligned end of the data. */
  endMs: number
}

export interface DemoCustomer {
  customerId: string
  segment: Segment
  firstHourMs: number
  showcase: boolean
}

export interface DemoDataset {
  options: DemoOptions
  customers: DemoCustomer[]
  labels: AnomalyLabel[]
  totalEvents: number
  batches(batchSize?: number): Generator<UsageEvent[]>
}

/** Customers whose behaviour the README's examples rely on; present in every dataset with >= 4 customers. */
export const SHOWCASE = {
  spike: 'acme-corp',
  drop: 'globex',
  newCustomer: 'initech',
  quietWeekends: 'umbrella',
} as const

export const DEFAULT_BATCH_SIZE = 10_000
const ANOMALY_SHARE = 0.3
const LATE_START_SHARE = 0.1

interface CustomerPlan {
  customer: DemoCustomer
  profile: UsageProfile
  anomaly: PlannedAnomaly | null
  /** Generator state after the profile draws; cloned per pass so every pass replays the same noise. */
  noise: RandomGenerator
}

interface DatasetPlan {
  options: DemoOptions
  rangeStartMs: number
  plans: CustomerPlan[]
}

// Keeps the plans out of the public DemoDataset shape while letting customerSeries() reach them.
const datasetPlans = new WeakMap<DemoDataset, DatasetPlan>()

function validate(o: DemoOptions): void {
  if (!Number.isInteger(o.customers) || o.customers < 0)
    throw new RangeError('customers must be an integer >= 0')
  if (!Number.isInteger(o.days) || o.days < 1) throw new RangeError('days must be an integer >= 1')
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffff_ffff) {
    throw new RangeError('seed must be an integer in [0, 4294967295]')
  }
  if (!Number.isSafeInteger(o.endMs) || o.endMs % HOUR_MS !== 0 || o.endMs - o.days * DAY_MS < 0) {
    throw new RangeError('endMs must be an hour-aligned epoch millisecond after the start of the range')
  }
}

function showcasePlan(rng: Rng, id: string, rangeStartMs: number, endMs: number): CustomerPlan {
  const make = (
    segment: Segment,
    overrides: Partial<UsageProfile>,
    firstHourMs = rangeStartMs,
    anomaly: PlannedAnomaly | null = null,
  ): CustomerPlan => ({
    customer: { customerId: id, segment, firstHourMs, showcase: true },
    profile: { ...randomUsageProfile(rng, segment), ...overrides },
    anomaly,
    noise: rng.gen.clone(),
  })
  const clip = (ms: number) => Math.max(rangeStartMs, ms)
  switch (id) {
    case SHOWCASE.spike:
      // Flat days and weeks so the spike stands out whatever hour endMs falls on.
      return make(
        'enterprise',
        { callsPerHour: 20_000, daily: dailyProfile(14, 5, 3), weekend: 0.95, noise: 0.05 },
        rangeStartMs,
        {
          metric: 'api_calls',
          kind: 'spike',
          startMs: clip(endMs - 8 * HOUR_MS),
          labelEndMs: endMs - 2 * HOUR_MS,
          effectEndMs: endMs - 2 * HOUR_MS,
          magnitude: 6,
        },
      )
    case SHOWCASE.drop: {
      const startMs = clip(endMs - 30 * HOUR_MS)
      const drop: PlannedAnomaly = {
        metric: 'bandwidth',
        kind: 'drop_to_zero',
        startMs,
        labelEndMs: endMs,
        effectEndMs: endMs,
        magnitude: 0,
      }
      return make('b2c', { callsPerHour: 8_000, noise: 0.08 }, rangeStartMs, drop)
    }
    case SHOWCASE.newCustomer:
      return make('b2b', { callsPerHour: 1_500 }, clip(endMs - 3 * DAY_MS))
    default:
      return make('b2b', { callsPerHour: 5_000, weekend: 0.1, noise: 0.08 })
  }
}

function randomPlan(rng: Rng, id: string, rangeStartMs: number, endMs: number): CustomerPlan {
  const segment = randomSegment(rng)
  const profile = randomUsageProfile(rng, segment)
  let firstHourMs = rangeStartMs
  if (rng.chance(LATE_START_SHARE)) {
    // Short history, but always at least a day of it.
    const maxOffset = Math.max(0, (endMs - rangeStartMs) / HOUR_MS - 24)
    firstHourMs += Math.min(rng.int(3 * 24, 14 * 24), maxOffset) * HOUR_MS
  }
  const anomaly = rng.chance(ANOMALY_SHARE) ? planRandomAnomaly(rng, rangeStartMs, endMs, firstHourMs) : null
  return {
    customer: { customerId: id, segment, firstHourMs, showcase: false },
    profile,
    anomaly,
    noise: rng.gen.clone(),
  }
}

function seriesOf(plan: CustomerPlan, dataset: DatasetPlan, withAnomalies: boolean): SeriesValues {
  const { endMs } = dataset.options
  const firstHourMs = plan.customer.firstHourMs
  const values = baseSeries(
    plan.profile,
    new Rng(plan.noise.clone()),
    dataset.rangeStartMs,
    firstHourMs,
    endMs,
  )
  if (withAnomalies && plan.anomaly) applyAnomaly(values, plan.anomaly, firstHourMs)
  return values
}

/**
 * Plans every customer up front (profiles and anomalies: small) and generates events only as batches() is
 * iterated, so memory stays flat however many customers and days are asked for.
 */
export function generateDemo(options: DemoOptions): DemoDataset {
  validate(options)
  const opts = { ...options }
  const { customers, seed, endMs } = opts
  const rangeStartMs = endMs - opts.days * DAY_MS
  const showcaseIds: readonly string[] = Object.values(SHOWCASE)
  // Customer i draws from the master stream jumped i times: independent streams, and a customer's data does
  // not depend on how many customers follow it.
  const master = xoroshiro128plus(seed)
  const plans: CustomerPlan[] = []
  for (let i = 0; i < customers; i++) {
    const rng = new Rng(master.clone())
    master.jump()
    const showcaseId = showcaseIds[i]
    plans.push(
      showcaseId !== undefined
        ? showcasePlan(rng, showcaseId, rangeStartMs, endMs)
        : randomPlan(rng, `cust-${String(i - showcaseIds.length + 1).padStart(4, '0')}`, rangeStartMs, endMs),
    )
  }
  const totalEvents = plans.reduce(
    (n, p) => n + ((endMs - p.customer.firstHourMs) / HOUR_MS) * DEMO_METRICS.length,
    0,
  )
  const plan: DatasetPlan = { options: opts, rangeStartMs, plans }

  function* stream(batchSize: number): Generator<UsageEvent[]> {
    let batch: UsageEvent[] = []
    for (const p of plans) {
      const { customerId, firstHourMs } = p.customer
      const values = seriesOf(p, plan, true)
      const hours = (endMs - firstHourMs) / HOUR_MS
      for (let i = 0; i < hours; i++) {
        const timestampMs = firstHourMs + i * HOUR_MS
        for (const metric of DEMO_METRICS) {
          batch.push({
            eventId: demoEventId(seed, customerId, metric, timestampMs),
            customerId,
            metric,
            value: values[metric][i] ?? 0,
            timestampMs,
          })
          if (batch.length === batchSize) {
            yield batch
            batch = []
          }
        }
      }
    }
    if (batch.length > 0) yield batch
  }

  const dataset: DemoDataset = {
    options: opts,
    customers: plans.map((p) => p.customer),
    labels: plans.flatMap((p) => (p.anomaly ? [toLabel(seed, p.customer.customerId, p.anomaly, endMs)] : [])),
    totalEvents,
    batches(batchSize = DEFAULT_BATCH_SIZE) {
      // Checked here, not inside the generator body, so a bad size fails at the call rather than at first next().
      if (!Number.isInteger(batchSize) || batchSize < 1)
        throw new RangeError('batchSize must be an integer >= 1')
      return stream(batchSize)
    },
  }
  datasetPlans.set(dataset, plan)
  return dataset
}

/**
 * One customer's hourly values per metric from its first hour to endMs (index i = firstHourMs + i hours), with
 * or without the injected anomaly. Evaluation and tests use it to compare against the un-anomalous truth.
 */
export function customerSeries(
  dataset: DemoDataset,
  customerId: string,
  options: { anomalies?: boolean } = {},
): { firstHourMs: number; values: SeriesValues } {
  const plan = datasetPlans.get(dataset)
  if (!plan) throw new TypeError('dataset was not created by generateDemo')
  const customer = plan.plans.find((p) => p.customer.customerId === customerId)
  if (!customer) throw new RangeError(`unknown demo customer '${customerId}'`)
  return {
    firstHourMs: customer.customer.firstHourMs,
    values: seriesOf(customer, plan, options.anomalies ?? true),
  }
}

/** A demo event's id: one per seed, customer, metric and hour, so an hour sent again is never counted twice. */
export function demoEventId(seed: number, customerId: string, metric: string, hourStartMs: number): string {
  return `demo-${seed}-${customerId}-${metric}-${hourStartMs}`
}

/**
 * Every demo customer's usage in the hour starting at `hourStartMs` (at or after the data's end): the profiles
 * continued, with noise drawn for that customer and hour alone (so any hour comes out the same whenever and however
 * often it is made), no new anomaly, and a level shift or held ramp carried on (factorAfterEnd). Customers in
 * dataset order, metrics in DEMO_METRICS order: the last event is the last customer's last metric.
 */
export function liveHourEvents(dataset: DemoDataset, hourStartMs: number): UsageEvent[] {
  const plan = datasetPlans.get(dataset)
  if (!plan) throw new TypeError('dataset was not created by generateDemo')
  const { seed, endMs } = plan.options
  if (!Number.isSafeInteger(hourStartMs) || hourStartMs % HOUR_MS !== 0 || hourStartMs < endMs) {
    throw new RangeError(
      'hourStartMs must be an hour-aligned epoch millisecond at or after the end of the data',
    )
  }
  const events: UsageEvent[] = []
  plan.plans.forEach((p, index) => {
    const values = hourValues(
      p.profile,
      keyedRng([seed, index, hourStartMs / HOUR_MS]),
      plan.rangeStartMs,
      hourStartMs,
    )
    const anomaly = p.anomaly
    if (anomaly) {
      const factor = factorAfterEnd(anomaly, endMs)
      if (factor !== 1) values[anomaly.metric] = roundMetric(anomaly.metric, values[anomaly.metric] * factor)
    }
    const customerId = p.customer.customerId
    for (const metric of DEMO_METRICS) {
      events.push({
        eventId: demoEventId(seed, customerId, metric, hourStartMs),
        customerId,
        metric,
        value: values[metric],
        timestampMs: hourStartMs,
      })
    }
  })
  return events
}
