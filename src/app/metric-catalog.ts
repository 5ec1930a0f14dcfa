import {
  type Aggregation,
  METRIC_NAME_PATTERN,
  type MetricDefinition,
  MetricRegistry,
  SEED_METRICS,
} from '../domain/metrics.js'
import { ConflictError, ValidationError } from '../errors.js'
import type { MetricStore } from '../ports.js'

export interface MetricRegistration {
  name: string
  aggregation: Aggregation
  description?: string
  unit?: string
}

/** The seed metrics plus user-registered ones, cached in memory and persisted in the metric store. */
export class MetricCatalog {
  private registry = new MetricRegistry(SEED_METRICS)

  constructor(private readonly store: MetricStore) {}

  current(): MetricRegistry {
    return this.registry
  }

  /** Reloads registrations (another instance may have registered a metric since we last looked). */
  async refresh(): Promise<MetricRegistry> {
    const stored = await this.store.list()
    this.registry = new MetricRegistry([...SEED_METRICS, ...stored.filter((m) => !isSeed(m.name))])
    return this.registry
  }

  /** Registers a metric; re-registering the same aggregation updates its text, a different one is a conflict. */
  async register(input: MetricRegistration): Promise<{ metric: MetricDefinition; created: boolean }> {
    if (!METRIC_NAME_PATTERN.test(input.name)) {
      throw new ValidationError('invalid metric name', [
        {
          field: 'name',
          reason: 'must start with a lowercase letter and hold only a-z, 0-9 and _ (at most 63)',
        },
      ])
    }
    const existing = (await this.refresh()).get(input.name)
    if (existing && existing.aggregation !== input.aggregation) {
      throw new ConflictError(
        `metric ${input.name} is already registered with aggregation '${existing.aggregation}'; changing it would reinterpret stored history`,
        [{ field: 'aggregation', reason: `must stay '${existing.aggregation}'` }],
      )
    }
    if (existing?.builtin) return { metric: existing, created: false }
    const metric: MetricDefinition = {
      name: input.name,
      aggregation: input.aggregation,
      description: input.description ?? existing?.description ?? '',
      unit: input.unit ?? existing?.unit ?? '',
      builtin: false,
    }
    await this.store.save(metric)
    this.registry = this.registry.with(metric)
    return { metric, created: !existing }
  }
}

function isSeed(name: string): boolean {
  return SEED_METRICS.some((m) => m.name === name)
}
