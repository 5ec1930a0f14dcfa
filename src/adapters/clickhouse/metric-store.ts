import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation, MetricDefinition } from '../../domain/metrics.js'
import type { MetricStore } from '../../ports.js'
import { clickhouseTime, withStoreError } from './errors.js'
import { selectRows } from './select.js'

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
    const rows = await selectRows<MetricRow>(
      this.client,
      this.database,
      'list metrics',
      `SELECT name, argMax(aggregation, registered_at) AS aggregation,
         argMax(description, registered_at) AS description, argMax(unit, registered_at) AS unit
       FROM {db:Identifier}.metrics GROUP BY name ORDER BY name`,
      {},
    )
    return rows.map((r) => ({ ...r, builtin: false }))
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
