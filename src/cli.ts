#!/usr/bin/env node
import { join } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { checkReport } from './app/check-report.js'
import { queryAnomalies } from './app/query-anomalies.js'
import { registerDynamoDbCommands } from './cli/dynamodb-command.js'
import { openEmbeddedMeterFlow } from './cli/embedded.js'
import { MeterFlowHttpClient, RemoteError } from './cli/http-client.js'
import { ingestFile } from './cli/ingest-file.js'
import { registerKeyCommands } from './cli/keys-command.js'
import { numberOption, timestampOption } from './cli/options.js'
import { printCheck } from './cli/print-check.js'
import { progressBar } from './cli/progress.js'
import { type Config, loadConfig } from './config.js'
import { generateDemo } from './demo/generator.js'
import { type BatchSink, loadDemo, writeLabels } from './demo/load.js'
import { BOUNDS } from './domain/limits.js'
import { floorToHour, HOUR_MS } from './domain/time.js'
import { MeterFlowError } from './errors.js'
import { anomalyJson, runJson } from './http/serialize.js'
import type { MeterFlow } from './wiring.js'

const config: Config = loadConfig(process.env)

const integer = (min: number, max: number) => numberOption({ min, max, integer: true })
const timestamp = timestampOption

const API_KEY_HELP =
  'API key for --url (default: METERFLOW_API_KEY; prefer the variable: arguments show in ps)'

/** The client of a running server, sending --api-key or else METERFLOW_API_KEY. */
function remote(url: string, apiKey: string | undefined): MeterFlowHttpClient {
  return new MeterFlowHttpClient(url, apiKey ?? config.client.apiKey)
}

/** Runs `work` against the embedded store in this process, closing it afterwards. */
async function withMeterFlow<T>(work: (meterflow: MeterFlow) => Promise<T>): Promise<T> {
  // stdout carries the command's output (--json): console alerts go to stderr.
  const meterflow = await openEmbeddedMeterFlow(config, {
    write: (line) => process.stderr.write(`${line}\n`),
  })
  try {
    return await work(meterflow)
  } finally {
    await meterflow.close()
  }
}

const program = new Command()
  .name('meterflow')
  .description(
    'Usage metering anomaly detection. Without --url, commands work on the embedded store in METERFLOW_DATA_DIR.',
  )
  .showHelpAfterError()

program
  .command('ingest')
  .description('ingest an NDJSON (.ndjson/.jsonl/.json) or CSV (.csv) file of usage events, streaming')
  .argument('<file>', 'events file')
  .option('--format <format>', 'ndjson or csv (default: from the file extension)')
  .option('--batch-size <n>', 'events per batch (max 10000)', integer(1, 10_000), 10_000)
  .option('--url <url>', 'send to a running MeterFlow server instead of the embedded store')
  .option('--api-key <key>', API_KEY_HELP)
  .action(
    async (
      file: string,
      options: { format?: 'ndjson' | 'csv'; batchSize: number; url?: string; apiKey?: string },
    ) => {
      const client = options.url ? remote(options.url, options.apiKey) : undefined
      const summary = client
        ? await ingestFile(file, options, (batch) => client.ingest(batch))
        : await withMeterFlow((meterflow) => ingestFile(file, options, (batch) => meterflow.ingest(batch)))
      console.log(
        `ingested ${summary.received} events from ${file}: ${summary.stored} stored, ${summary.duplicates} duplicates skipped, ${summary.conflicts} conflicts`,
      )
      for (const issue of summary.details) console.error(`  ${issue.field}: ${issue.reason}`)
      if (summary.conflicts > summary.details.length) {
        console.error(`  ... and ${summary.conflicts - summary.details.length} more conflicts`)
      }
    },
  )

program
  .command('check')
  .description('check one customer and metric for a volume anomaly (default window: the last 24 hours)')
  .requiredOption('--customer <id>', 'customer id')
  .requiredOption('--metric <name>', 'metric name')
  .option('--start <time>', 'current window start (ISO 8601 UTC or epoch ms)', timestamp)
  .option('--end <time>', 'current window end (default: now)', timestamp)
  .option('--baseline-days <n>', 'baseline length in days', numberOption(BOUNDS.baselineDays))
  .option('--threshold <z>', '|z| at or above which it is an anomaly', numberOption(BOUNDS.threshold))
  .option('--critical-threshold <z>', '|z| at or above which it is critical', numberOption(BOUNDS.threshold))
  .option('--json', 'print the API response body as JSON')
  .option('--url <url>', 'ask a running MeterFlow server instead of the embedded store')
  .option('--api-key <key>', API_KEY_HELP)
  .action(async (o) => {
    const report = o.url
      ? await remote(o.url, o.apiKey).check({
          customer_id: o.customer,
          metric: o.metric,
          current_start: o.start,
          current_end: o.end,
          baseline_days: o.baselineDays,
          threshold: o.threshold,
          critical_threshold: o.criticalThreshold,
        })
      : await withMeterFlow(async (meterflow) =>
          checkReport(
            await meterflow.check({
              customerId: o.customer,
              metric: o.metric,
              currentStartMs: o.start,
              currentEndMs: o.end,
              baselineDays: o.baselineDays,
              threshold: o.threshold,
              criticalThreshold: o.criticalThreshold,
            }),
          ),
        )
    if (o.json) console.log(JSON.stringify(report, null, 2))
    else printCheck(report)
  })

program
  .command('demo')
  .description('generate realistic demo usage with labelled anomalies and ingest it')
  .option('--customers <n>', 'number of customers', numberOption(BOUNDS.demoCustomers), 30)
  .option('--days <n>', 'days of history', numberOption(BOUNDS.demoDays), 35)
  .option('--seed <n>', 'random seed (same seed, same data)', numberOption(BOUNDS.demoSeed), 42)
  .option('--end <time>', 'end of the data (default: the end of the current hour)', timestamp)
  .option('--labels <path>', 'where to write the anomaly labels', join(config.dataDir, 'demo-labels.json'))
  .option('--url <url>', 'send to a running MeterFlow server instead of the embedded store')
  .option('--api-key <key>', API_KEY_HELP)
  .action(async (o) => {
    const endMs = o.end === undefined ? floorToHour(Date.now()) + HOUR_MS : floorToHour(o.end)
    const dataset = generateDemo({ customers: o.customers, days: o.days, seed: o.seed, endMs })
    const run = async (sink: BatchSink) => {
      const bar = progressBar('demo', dataset.totalEvents, 'events')
      try {
        await loadDemo(dataset, sink, (done) => bar.update(done))
      } finally {
        bar.stop()
      }
    }
    if (o.url) {
      const client = remote(o.url, o.apiKey)
      await run((batch) => client.ingest(batch))
    } else {
      await withMeterFlow((meterflow) => run((batch) => meterflow.ingest(batch)))
    }
    writeLabels(o.labels, dataset)
    console.log(
      `demo: ${dataset.totalEvents} events for ${dataset.customers.length} customers over ${o.days} days; ${dataset.labels.length} labelled anomalies written to ${o.labels}`,
    )
  })

const job = program.command('job').description('the detection job')
job
  .command('run')
  .description('run detection for one slot now (default: the current hour) on the embedded store')
  .option(
    '--slot <time>',
    'the slot (ISO hour or epoch ms; floored to the hour); its window is [slot - 24 h, slot)',
    timestamp,
  )
  .option('--json', 'print the run record as JSON')
  .action(async (o: { slot?: number; json?: boolean }) => {
    const { run, delivery } = await withMeterFlow(async (meterflow) => {
      const outcome = await meterflow.job.runNow(o.slot ?? Date.now(), 'cli')
      // A one-shot process: send the run's alerts before exiting (failures stay in the outbox for the server).
      return { ...outcome, delivery: await meterflow.alerts.deliver() }
    })
    if (o.json) console.log(JSON.stringify(runJson(run), null, 2))
    else
      console.log(
        `run ${run.runId} slot ${new Date(run.slot).toISOString()}: ${run.status}; checked ${run.checked} series of ${run.customers} customers in ${run.durationMs} ms; ${run.anomaliesFound} anomalies (${run.anomaliesStored} new), incidents opened ${run.incidentsOpened}, escalated ${run.incidentsEscalated}, resolved ${run.incidentsResolved}${run.error ? `; error: ${run.error}` : ''}`,
      )
    console.error(
      `alerts: ${delivery.delivered} delivered, ${delivery.retrying} to retry, ${delivery.failed} failed (see GET /v1/alerts)`,
    )
    if (run.status === 'failed') process.exitCode = 1
  })

program
  .command('anomalies')
  .description('stored anomalies')
  .command('list')
  .description('list stored anomalies, newest first')
  .option('--customer <id>', 'only this customer')
  .option('--metric <name>', 'only this metric')
  .option('--severity <severity>', 'warning or critical')
  .option('--since <time>', 'detected at or after (ISO 8601 or epoch ms)', timestamp)
  .option('--until <time>', 'detected before', timestamp)
  .option('--limit <n>', 'at most this many', integer(1, 100_000), 50)
  .option('--json', 'print JSON lines')
  .action(async (o) => {
    if (o.severity !== undefined && o.severity !== 'warning' && o.severity !== 'critical') {
      throw new InvalidArgumentError('--severity must be warning or critical')
    }
    await withMeterFlow(async (meterflow) => {
      let cursor: string | undefined
      let printed = 0
      do {
        const page = await queryAnomalies(meterflow.anomalies, meterflow.metrics.current().names(), {
          customerId: o.customer,
          metric: o.metric,
          severity: o.severity,
          since: o.since,
          until: o.until,
          limit: Math.min(1000, o.limit - printed),
          cursor,
        })
        for (const a of page.items) {
          console.log(
            o.json
              ? JSON.stringify(anomalyJson(a))
              : `${new Date(a.detectedAt).toISOString()}  ${a.severity.padEnd(8)} ${a.direction.padEnd(5)} ${a.customerId} / ${a.metric}  value ${a.currentValue} vs mean ${a.baselineMean.toFixed(1)} (z ${a.zScore.toFixed(2)})`,
          )
        }
        printed += page.items.length
        cursor = page.nextCursor ?? undefined
      } while (cursor && printed < o.limit)
      if (!o.json) console.error(`${printed} anomalies`)
    })
  })

registerDynamoDbCommands(program, config)
registerKeyCommands(program, config)

program.parseAsync().catch((err: unknown) => {
  if (err instanceof MeterFlowError || err instanceof RemoteError) {
    console.error(`meterflow: ${err.message}`)
    for (const d of err.details.slice(0, 20)) {
      console.error(`  ${d.index === undefined ? '' : `[${d.index}] `}${d.field}: ${d.reason}`)
    }
  } else {
    console.error(`meterflow: ${err instanceof Error ? err.message : String(err)}`)
  }
  process.exitCode = 1
})
