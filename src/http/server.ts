import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance } from 'fastify'
import type { MeterFlow } from '../wiring.js'
import { installErrorHandling } from './errors.js'
import { installNdjsonParser } from './ndjson.js'
import { alertRoutes } from './routes/alerts.js'
import { anomalyRoutes } from './routes/anomalies.js'
import { checkRoutes } from './routes/check.js'
import { eventRoutes } from './routes/events.js'
import { healthRoutes } from './routes/health.js'
import { incidentRoutes } from './routes/incidents.js'
import { jobRoutes } from './routes/job.js'
import { metricRoutes } from './routes/metrics.js'

export const BODY_LIMIT_BYTES = 5 * 1024 * 1024

export interface ServerOptions {
  logLevel?: string
}

export async function buildServer(
  meterflow: MeterFlow,
  options: ServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: { level: options.logLevel ?? meterflow.config.logLevel },
    // Unknown fields are an error, not silently dropped; report every bad field at once.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MeterFlow',
        version: '0.1.0',
        description:
          'Usage metering anomaly detection: ingest per-customer usage, check it against its baseline.',
      },
    },
  })
  installErrorHandling(app)
  // Only JSON and NDJSON bodies exist in this API; anything else is a 415, not a string handed to a route.
  app.removeContentTypeParser('text/plain')
  installNdjsonParser(app)
  healthRoutes(app, meterflow)
  eventRoutes(app, meterflow)
  metricRoutes(app, meterflow)
  checkRoutes(app, meterflow)
  anomalyRoutes(app, meterflow)
  jobRoutes(app, meterflow)
  alertRoutes(app, meterflow)
  incidentRoutes(app, meterflow)
  await app.ready()
  return app
}
