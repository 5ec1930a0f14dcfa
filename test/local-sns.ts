/** A local SNS endpoint (serverless-offline-sns's SNSServer) and an HTTP subscriber, for the real SNS client. */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const SNS_REGION = 'us-east-1'
const ACCOUNT = '123456789012'

// why loose types: serverless-offline-sns ships no declarations for its server module and @types/express is
// not installed; these are the only members the test touches.
interface SnsServerModule {
  SNSServer: new (debug: (msg: unknown) => void, app: unknown, region: string, accountId: string) => unknown
}
type ExpressFactory = () => { listen(port: number, host: string): Server }

/** Loads SNSServer and express by file path: the package's `exports` allows neither deep imports nor package.json. */
export async function startSnsServer(): Promise<Server> {
  const main = createRequire(import.meta.url).resolve('serverless-offline-sns')
  const { SNSServer } = (await import(
    pathToFileURL(join(dirname(main), 'sns-server.js')).href
  )) as SnsServerModule
  const expressPath = createRequire(main).resolve('express')
  const express = ((await import(pathToFileURL(expressPath).href)) as { default: ExpressFactory }).default
  const app = express()
  new SNSServer(() => {}, app, SNS_REGION, ACCOUNT)
  return listen(app.listen(0, '127.0.0.1'))
}

export async function listen(server: Server): Promise<Server> {
  if (!server.listening) await once(server, 'listening')
  return server
}

export function urlOf(server: Server, path = ''): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** An HTTP subscriber: collects the notifications SNSServer POSTs to it. */
export async function startSubscriber(): Promise<{
  server: Server
  notifications: Record<string, unknown>[]
}> {
  const notifications: Record<string, unknown>[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      notifications.push(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      res.end('ok')
    })
  })
  return { server: await listen(server.listen(0, '127.0.0.1')), notifications }
}
