import type { Command } from 'commander'
import type { Config } from '../config.js'
import { runJson } from '../http/serialize.js'
import { withEmbeddedMeterFlow } from './embedded.js'
import { API_KEY_HELP, type RunJson, remoteClient } from './http-client.js'
import { timestampOption } from './options.js'

/** `meterflow job run`: one slot now, on the embedded store or through a running server (--url). */
export function registerJobCommands(program: Command, config: Config): void {
  const job = program.command('job').description('the detection job')
  job
    .command('run')
    .description('run detection for one slot now (default: the current hour); exits 1 when the run failed')
    .option(
      '--slot <time>',
      'the slot (ISO hour or epoch ms; floored to the hour); its window is [slot - 24 h, slot)',
      timestampOption,
    )
    .option('--json', 'print the run record as JSON')
    .option(
      '--url <url>',
      'run it on a running MeterFlow server (POST /v1/runs) instead of the embedded store',
    )
    .option('--api-key <key>', API_KEY_HELP)
    .action(async (o: { slot?: number; json?: boolean; url?: string; apiKey?: string }) => {
      let run: RunJson
      let alerts = 'alerts: sent by the server (see GET /v1/alerts)'
      if (o.url) {
        run = await remoteClient(config, o.url, o.apiKey).runSlot(o.slot)
      } else {
        const { outcome, delivery } = await withEmbeddedMeterFlow(config, async (meterflow) => {
          const outcome = await meterflow.runSlot(o.slot ?? Date.now(), 'cli', 'refuse')
          // A one-shot process: send the run's alerts before exiting (failures stay in the outbox for the server).
          return { outcome, delivery: await outcome.delivery }
        })
        run = runJson(outcome.run)
        alerts = `alerts: ${delivery.delivered} delivered, ${delivery.retrying} to retry, ${delivery.failed} failed (see GET /v1/alerts)`
      }
      console.log(o.json ? JSON.stringify(run, null, 2) : describeRun(run))
      console.error(alerts)
      if (run.status === 'failed') process.exitCode = 1
    })
}

function describeRun(run: RunJson): string {
  return `run ${run.run_id} slot ${run.slot}: ${run.status}; checked ${run.checked} series of ${run.customers} customers in ${run.duration_ms} ms; ${run.anomalies_found} anomalies (${run.anomalies_stored} new), incidents opened ${run.incidents_opened}, escalated ${run.incidents_escalated}, resolved ${run.incidents_resolved}${run.error ? `; error: ${run.error}` : ''}`
}
