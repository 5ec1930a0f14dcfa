import type { FastifyInstance } from 'fastify'
import type { MeterFlow } from '../../wiring.js'

export function healthRoutes(app: FastifyInstance, meterflow: MeterFlow): void {
  app.get('/healthz', { config: { scope: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { config: { scope: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await meterflow.usage.ping()
      return { status: 'ready' }
    } catch (err) {
      return reply.status(503).send({ status: 'unavailable', reason: (err as Error).message })
    }
  })

  app.get('/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, async () => app.swagger())
}
