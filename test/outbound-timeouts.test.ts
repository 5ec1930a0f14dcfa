import { createServer, type Server, type Socket } from 'node:net'
import { ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDynamoDbClient } from '../src/adapters/dynamodb/client.js'

/** A server that accepts connections and never answers: the failure a timeout exists for. */
let blackHole: Server
const sockets: Socket[] = []
let endpoint: string

beforeAll(async () => {
  blackHole = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
  const address = blackHole.address()
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => blackHole.close(resolve))
})

describe('outbound calls time out', () => {
  it('a DynamoDB request that gets no answer fails after 15 s instead of hanging', async () => {
    const client = createDynamoDbClient({ region: 'us-east-1', endpoint, maxAttempts: 1 })
    const started = Date.now()
    try {
      const err = await client.send(new ListTablesCommand({})).catch((e: unknown) => e as Error)
      expect(err).toBeInstanceOf(Error)
      expect((err as Error).name).toBe('TimeoutError')
      expect(Date.now() - started).toBeGreaterThanOrEqual(14_900)
      expect(Date.now() - started).toBeLessThan(25_000)
    } finally {
      client.destroy()
    }
  }, 40_000)
})
