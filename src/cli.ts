#!/usr/bin/env node
import { join } from 'node:path'
import { Command } from 'commander'
import { CHECK_DETECTORS, DEFAULT_CHECK_DETECTOR } from './app/check-job.js'
import { checkReport } from './app/check-report.js'
import { registerAnomalyCommands } from './cli/anomalies-command.js'
import { registerDynamoDbCommands } from './cli/dynamodb-command.js'
import { withEmbeddedMeterFlow } from './cli/embedded.js'
import { API_KEY_HELP, RemoteError, remoteClient } from './cli/http-client.js'
import { ingestFile } from './cli/ingest-file.js'
import { registerJobCommands } from './cli/job-command.js'
import { registerKeyCommands } from './cli/keys-command.js'
import { registerMigrateCommand } from './cli/migrate-command.js'
import { choiceOption, numberOption, timestampOption } from './cli/options.js'
import { printCheck } from './cli/print-check.js'
import { progressBar } from './cli/progress.js'
import { type Config, loadConfig } from './config.js'
import { generateDemo } from './demo/generator.js'
import { type BatchSink, loadDemo, writeLabels } from './demo/load.js'
import { BOUNDS } from './domain/limits.js'
import { CHECK_MODES, DEFAULT_CHECK_MODE } from './domain/signals/combined-verdict.js'
import { floorToHour, HOUR_MS } from './domain/time.js'
import { MeterFlowError } from './errors.js'
import type { MeterFlow } from './wiring.js'

const config: Config = loadConfig(process.env)

const integer = (min: number, max: number) => numberOption({ min, max, integer: true })
const timestamp = timestampOption

const remote = (url: string, apiKey: string | undefined) => remoteClient(config, url, apiKey)
const withMeterFlow = <T>(work: (meterflow: MeterFlow) => Promise<T>) => withEmbeddedMeterFlow(config, work)

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
  .description(
    'check one customer and metric for a volume and/or shape anomaly (default window: the last 24 hours; shape: up to the last whole hour)',
  )
  .requiredOption('--customer <id>', 'customer id')
  .requiredOption('--metric <name>', 'metric name')
  .option('--start <time>', 'current window start (ISO 8601 UTC or epoch ms)', timestamp)
  .option('--end <time>', 'current window end (default: now)', timestamp)
  .option('--baseline-days <n>', 'baseline length in days', numberOption(BOUNDS.baselineDays))
  .option('--threshold <z>', '|z| at or above which it is an anomaly', numberOption(BOUNDS.threshold))
  .option('--critical-threshold <z>', '|z| at or above which it is critical', numberOption(BOUNDS.threshold))
  .option(
    '--mode <mode>',
    `signals to evaluate: ${CHECK_MODES.join(', ')} (default ${DEFAULT_CHECK_MODE})`,
    choiceOption(CHECK_MODES),
  )
  .option(
    '--detector <detector>',
    `whose method judges volume: ${CHECK_DETECTORS.join(', ')} (default ${DEFAULT_CHECK_DETECTOR}; job: as a detection run for the slot --end judges it, with the job's settings)`,
    choiceOption(CHECK_DETECTORS),
  )
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
          mode: o.mode,
          detector: o.detector,
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
              mode: o.mode,
              detector: o.detector,
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

registerJobCommands(program, config)
registerAnomalyCommands(program, config)
registerDynamoDbCommands(program, config)
registerKeyCommands(program, config)
registerMigrateCommand(program, config)

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
