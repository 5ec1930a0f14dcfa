import { loadConfig } from './config.js'
import { startService } from './serve.js'

// The service entry point (`npm start`): the one place that hands the environment to the config parser.
async function main(): Promise<void> {
  const service = await startService(loadConfig(process.env))
  service.app.log.info(`MeterFlow listening on ${service.url}`)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      service.app.log.info(`${signal}: finishing in-flight requests, then closing`)
      service.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          service.app.log.error({ err }, 'shutdown failed')
          process.exit(1)
        },
      )
    })
  }
}

main().catch((err: unknown) => {
  console.error(`meterflow: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
