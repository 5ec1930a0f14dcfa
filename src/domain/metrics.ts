/** How a metric's events combine inside a window: counters add up, gauges keep their peak. */
export type Aggregation = 'sum' | 'max'

export interface MetricDefinition {
  name: string
  aggregation: Aggregation
  description: string
  unit: string
  builtin: boolean
}

export const SEED_METRICS: readonly MetricDefinition[] = [
  { name: 'api_calls', aggregation: 'sum', description: 'API requests served', unit: 'calls', builtin: true },
  { name: 'bandwidth', aggregation: 'sum', description: 'Bytes transferred', unit: 'bytes', builtin: true },
  {
    name: 'compute_time',
    aggregation: 'sum',
    description: 'Compute time consumed',
    unit: 'seconds',
    builtin: true,
  },
  {
    name: 'storage_peak',
    aggregation: 'max',
    description: 'Peak storage held (a gauge)',
    unit: 'bytes',
    builtin: true,
  },
]

export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/

export class MetricRegistry {
  private readonly byName: Map<string, MetricDefinition>

  constructor(metrics: readonly MetricDefinition[]) {
    this.byName = new Map(metrics.map((m) => [m.name, m]))
  }

  get(name: string): MetricDefinition | undefined {
    return this.byName.get(name)
  }

  has(name: string): boolean {
    return this.byName.has(name)
  }

  list(): MetricDefinition[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  names(): string[] {
    return this.list().map((m) => m.name)
  }

  with(metric: MetricDefinition): MetricRegistry {
    return new MetricRegistry([...[...this.byName.values()].filter((m) => m.name !== metric.name), metric])
  }
}
