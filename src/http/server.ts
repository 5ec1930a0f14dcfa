import helmet from '@fastify/helmet'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance } from 'fastify'
import type { MeterFlow } from '../wiring.js'
import { installAccessControl } from './auth.js'
import { dashboardRoutes } from './dashboard.js'
import {
  installErrorHandling,
  MAX_PATH_PARAM_LENGTH,
  replyToClientError,
  replyToFrameworkError,
} from './errors.js'
import { REDACTED, REDACTED_LOG_PATHS, serializeRequest } from './log.js'
import { installNdjsonParser } from './ndjson.js'
import { installFiniteNumberCheck } from './params.js'
import { alertRoutes } from './routes/alerts.js'
import { anomalyRoutes } from './routes/anomalies.js'
import { checkRoutes } from './routes/check.js'
import { eventRoutes } from './routes/events.js'
import { healthRoutes } from './routes/health.js'
import { incidentRoutes } from './routes/incidents.js'
import { jobRoutes } from './routes/job.js'
import { keyRoutes } from './routes/keys.js'
import { metricRoutes } from './routes/metrics.js'
import { muteRoutes } from './routes/mutes.js'
import { prometheusRoutes } from './routes/prometheus.js'
import { seriesRoutes } from './routes/series.js'

export const BODY_LIMIT_BYTES = 5 * 1024 * 1024

export interface ServerOptions {
  logLevel?: string
  /** Where log lines go (default stdout); tests capture them here. */
  logStream?: { write(line: string): void }
  /** Where the built dashboard is (default: dist/web). */
  dashboardRoot?: string
}

export async function buildServer(
  meterflow: MeterFlow,
  options: ServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: {
      level: options.logLevel ?? meterflow.config.logLevel,
      redact: { paths: REDACTED_LOG_PATHS, censor: REDACTED },
      // The URL without credentials in its query string (a key sent as ?api_key=...).
      serializers: { req: serializeRequest },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    // Unknown fields are an error, not silently dropped; report every bad field at once.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    // Errors raised before routing (an over-long path parameter, a bad URL) or by the HTTP parser (headers too
    // large, a timeout) get the API's error shape too.
    frameworkErrors: replyToFrameworkError,
    // Fastify's default (100) is shorter than a valid incident or alert id with a long customer id.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    clientErrorHandler: replyToClientError,
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
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: mf_<id>_<secret>' },
        },
      },
      security: [{ apiKey: [] }],
    },
  })
  installErrorHandling(app)
  // A JSON API: no content may load anything or be framed. The dashboard's pages set their own policy.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    xFrameOptions: { action: 'deny' },
  })
  await installAccessControl(app, {
    mode: meterflow.config.auth.mode,
    keys: meterflow.keys,
    rateLimit: meterflow.config.rateLimit,
  })
  installFiniteNumberCheck(app)
  // Only JSON and NDJSON bodies exist in this API; anything else is a 415, not a string handed to a route.
  app.removeContentTypeParser('text/plain')
  installNdjsonParser(app)
  // Labelled by the route pattern, never the URL: ids in paths would make a series per incident.
  app.addHook('onResponse', async (request, reply) => {
    meterflow.telemetry.httpRequest({
      route: request.is404 ? null : (request.routeOptions.url ?? null),
      method: request.method,
      statusCode: reply.statusCode,
      durationMs: reply.elapsedTime,
    })
  })
  healthRoutes(app, meterflow)
  eventRoutes(app, meterflow)
  metricRoutes(app, meterflow)
  checkRoutes(app, meterflow)
  anomalyRoutes(app, meterflow)
  jobRoutes(app, meterflow)
  alertRoutes(app, meterflow)
  muteRoutes(app, meterflow)
  incidentRoutes(app, meterflow)
  seriesRoutes(app, meterflow)
  keyRoutes(app, meterflow)
  prometheusRoutes(app, meterflow)
  await dashboardRoutes(app, { authMode: meterflow.config.auth.mode, root: options.dashboardRoot })
  await app.ready()
  return app
}
