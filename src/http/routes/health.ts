import type { FastifyInstance } from 'fastify'
import type { MeterFlow } from '../../wiring.js'

export function healthRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get('/healthz', { config: { scope: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { config: { scope: 'public' }, schema: { hide: true } }, async (request, reply) => {
    try {
      await meterflow.usage.ping()
      return { status: 'ready' }
    } catch (err) {
      // Anyone may ask: the engine's message (paths, versions) goes to the log only.
      request.log.warn({ err }, 'readiness check failed: the usage store does not answer')
      return reply.status(503).send({ status: 'unavailable', reason: 'the usage store does not answer' })
    }
  })

  app.get('/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, async () => app.swagger())
}
