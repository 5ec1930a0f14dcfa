import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation, MetricDefinition } from '../../domain/metrics.js'
import type { MetricStore } from '../../ports.js'
import { clickhouseTime, withStoreError } from './errors.js'

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

  list(): Promise<MetricDefinition[]> {
    return withStoreError('list metrics', async () => {
      const result = await this.client.query({
        query: `SELECT name, argMax(aggregation, registered_at) AS aggregation,
                  argMax(description, registered_at) AS description, argMax(unit, registered_at) AS unit
                FROM {db:Identifier}.metrics GROUP BY name ORDER BY name`,
        query_params: { db: this.database },
        format: 'JSONEachRow',
      })
      const rows = await result.json<MetricRow>()
      return rows.map((r) => ({ ...r, builtin: false }))
    })
  }

  async save(metric: MetricDefinition): Promise<void> {
    await withStoreError(`save metric ${metric.name}`, () =>
      this.client.insert({
        table: `${this.database}.metrics`,
        values: [
          {
            name: metric.name,
            aggregation: metric.aggregation,
            description: metric.description,
            unit: metric.unit,
            registered_at: clickhouseTime(Date.now()),
          },
        ],
        format: 'JSONEachRow',
      }),
    )
  }
}
