import { type Command, InvalidArgumentError } from 'commander'
import { queryAnomalies } from '../app/query-anomalies.js'
import type { Config } from '../config.js'
import {
  isSignalKind,
  SIGNAL_KINDS,
  type SignalKind,
  signalOf,
  VOLUME_KIND,
} from '../domain/signals/signal-registry.js'
import { toIso } from '../domain/time.js'
import { anomalyJson } from '../http/serialize.js'
import { withEmbeddedMeterFlow } from './embedded.js'
import { type AnomalyJson, API_KEY_HELP, remoteClient } from './http-client.js'
import { numberOption, timestampOption } from './options.js'

interface ListOptions {
  customer?: string
  metric?: string
  severity?: 'warning' | 'critical'
  kind?: SignalKind
  since?: number
  until?: number
  limit: number
  json?: boolean
  url?: string
  apiKey?: string
}

interface Page {
  items: AnomalyJson[]
  nextCursor: string | null
}

/** The largest page either side serves (the API's limit). */
const PAGE = 1000

/** `meterflow anomalies list`: on the embedded store or through a running server (--url, GET /v1/anomalies). */
export function registerAnomalyCommands(program: Command, config: Config): void {
  program
    .command('anomalies')
    .description('stored anomalies')
    .command('list')
    .description('list stored anomalies, newest first')
    .option('--customer <id>', 'only this customer')
    .option('--metric <name>', 'only this metric')
    .option('--severity <severity>', 'warning or critical')
    .option('--kind <signal>', `only records of this detection signal: ${SIGNAL_KINDS.join(', ')}`)
    .option('--since <time>', 'detected at or after (ISO 8601 or epoch ms)', timestampOption)
    .option('--until <time>', 'detected before', timestampOption)
    .option('--limit <n>', 'at most this many', numberOption({ min: 1, max: 100_000, integer: true }), 50)
    .option('--json', 'print JSON lines')
    .option('--url <url>', 'ask a running MeterFlow server (GET /v1/anomalies) instead of the embedded store')
    .option('--api-key <key>', API_KEY_HELP)
    .action(async (o: ListOptions) => {
      if (o.severity !== undefined && o.severity !== 'warning' && o.severity !== 'critical') {
        throw new InvalidArgumentError('--severity must be warning or critical')
      }
      if (o.kind !== undefined && !isSignalKind(o.kind)) {
        throw new InvalidArgumentError(`--kind must be one of ${SIGNAL_KINDS.join(', ')}`)
      }
      const client = o.url ? remoteClient(config, o.url, o.apiKey) : null
      const printed = client
        ? await printPages(o, async (limit, cursor) => {
            const page = await client.listAnomalies({
              customer_id: o.customer,
              metric: o.metric,
              severity: o.severity,
              kind: o.kind,
              since: o.since === undefined ? undefined : toIso(o.since),
              until: o.until === undefined ? undefined : toIso(o.until),
              limit,
              cursor,
            })
            return { items: page.items, nextCursor: page.next_cursor }
          })
        : await withEmbeddedMeterFlow(config, (meterflow) =>
            printPages(o, async (limit, cursor) => {
              const page = await queryAnomalies(meterflow.anomalies, meterflow.metrics.current().names(), {
                customerId: o.customer,
                metric: o.metric,
                severity: o.severity,
                kind: o.kind,
                since: o.since,
                until: o.until,
                limit,
                cursor,
              })
              return { items: page.items.map(anomalyJson), nextCursor: page.nextCursor }
            }),
          )
      if (!o.json) console.error(`${printed} anomalies`)
    })
}

/** Prints pages until `limit` anomalies or the last page; returns how many it printed. */
async function printPages(
  o: ListOptions,
  fetchPage: (limit: number, cursor: string | undefined) => Promise<Page>,
): Promise<number> {
  let cursor: string | undefined
  let printed = 0
  do {
    const page = await fetchPage(Math.min(PAGE, o.limit - printed), cursor)
    for (const a of page.items) console.log(o.json ? JSON.stringify(a) : describeAnomaly(a))
    printed += page.items.length
    cursor = page.nextCursor ?? undefined
  } while (cursor && printed < o.limit)
  return printed
}

function describeAnomaly(a: AnomalyJson): string {
  const head = `${a.detected_at}  ${a.severity.padEnd(8)} ${a.direction.padEnd(5)} ${a.customer_id} / ${a.metric}  value ${a.current_value}`
  // The signal's own fields sit beside the common ones, under the names its declaration gives them.
  const own = a as unknown as Record<string, number | string | null>
  if (a.kind === VOLUME_KIND) {
    // The window that judged it; records stored before MeterFlow recorded it name none.
    const window = typeof own.window_kind === 'string' ? `, ${own.window_kind} window` : ''
    return `${head} vs mean ${Number(own.baseline_mean).toFixed(1)} (z ${Number(own.z_score).toFixed(2)}${window})`
  }
  const signal = signalOf(a.kind)
  const statistic = signal.fields[signal.statistic]?.name ?? signal.statistic
  return `${head} (${a.kind}: ${statistic} ${own[statistic]})`
}
