import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation, MetricDefinition } from '../../domain/metrics.js'
import { StoreError } from '../../errors.js'
import type { MetricStore } from '../../ports.js'

interface MetricRow {
  name: string
  aggregation: Aggregation
  description: string
  unit: string
}

/** User-registered metrics; the seed metrics are built in and never stored. */
export class ClickHouseMetricStore implements MetricStore {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
  ) {}

  async list(): Promise<MetricDefinition[]> {
    try {
      const result = await this.client.query({
        query: `SELECT name, argMax(aggregation, registered_at) AS aggregation,
                  argMax(description, registered_at) AS description, argMax(unit, registered_at) AS unit
                FROM {db:Identifier}.metrics GROUP BY name ORDER BY name`,
        query_params: { db: this.database },
        format: 'JSONEachRow',
      })
      const rows = await result.json<MetricRow>()
      return rows.map((r) => ({ ...r, builtin: false }))
    } catch (err) {
      throw new StoreError(`ClickHouse failed to list metrics: ${(err as Error).message}`, [], { cause: err })
    }
  }

  async save(metric: MetricDefinition): Promise<void> {
    try {
      await this.client.insert({
        table: `${this.database}.metrics`,
        values: [
          {
            name: metric.name,
            aggregation: metric.aggregation,
            description: metric.description,
            unit: metric.unit,
            registered_at: new Date().toISOString().replace('T', ' ').replace('Z', ''),
          },
        ],
        format: 'JSONEachRow',
      })
    } catch (err) {
      throw new StoreError(`ClickHouse failed to save metric ${metric.name}: ${(err as Error).message}`, [], {
        cause: err,
      })
    }
  }
}
