import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { generateDemo } from './demo/generator.js'
import { loadDemo, writeLabels } from './demo/load.js'
import { floorToHour, HOUR_MS } from './domain/time.js'
import { buildServer } from './http/server.js'
import { type MeterFlow, openMeterFlow } from './wiring.js'

export interface RunningService {
  app: FastifyInstance
  meterflow: MeterFlow
  url: string
  /** Stops taking requests, lets in-flight ones finish, then closes the stores. */
  stop(): Promise<void>
}

/** `npm start`: open the stores, load demo data into an empty embedded store, serve HTTP. */
export async function startService(config: Config): Promise<RunningService> {
  const meterflow = await openMeterFlow(config)
  try {
    const app = await buildServer(meterflow)
    if (config.demo.enabled && (await meterflow.usage.countEvents()) === 0) {
      await loadStartupDemo(meterflow, app)
    }
    const url = await app.listen({ port: config.http.port, host: config.http.host })
    let stopping: Promise<void> | undefined
    const stop = () => {
      stopping ??= app.close().then(() => meterflow.close())
      return stopping
    }
    return { app, meterflow, url, stop }
  } catch (err) {
    await meterflow.close()
    throw err
  }
}

async function loadStartupDemo(meterflow: MeterFlow, app: FastifyInstance): Promise<void> {
  const { customers, days, seed } = meterflow.config.demo
  // End at the next hour so the current hour holds data and "the last 24 hours" shows the showcase anomalies.
  const endMs = floorToHour(meterflow.clock.now()) + HOUR_MS
  const dataset = generateDemo({ customers, days, seed, endMs })
  const labelsPath = join(meterflow.config.dataDir, 'demo-labels.json')
  app.log.info(
    { customers, days, events: dataset.totalEvents },
    'empty store: loading demo data (set METERFLOW_DEMO=0 to skip)',
  )
  let lastDecile = -1
  await loadDemo(
    dataset,
    (batch) => meterflow.ingest(batch),
    (done, total) => {
      const decile = Math.floor((done / total) * 10)
      if (decile !== lastDecile) {
        lastDecile = decile
        app.log.info(`demo data ${Math.round((done / total) * 100)}% (${done}/${total} events)`)
      }
    },
  )
  writeLabels(labelsPath, dataset)
  app.log.info({ labels: labelsPath, anomalies: dataset.labels.length }, 'demo data loaded')
}
