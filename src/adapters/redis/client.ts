import { createClient } from 'redis'
import type { UsageStore } from '../../ports.js'
import type { Argv } from './commands.js'
import {
  type RedisPipeline,
  RedisVectorIndex,
  type RedisVectorIndexOptions,
  VectorIndexError,
} from './vector-index.js'

export interface RedisConnection {
  url: string
  /** Protocol version (node-redis' default is 2); the replies of both are parsed. */
  resp?: 2 | 3
  connectTimeoutMs?: number
}

/** A node-redis client sending each batch as one pipeline (`execAsPipeline`: no MULTI, one write, replies in order). */
export async function connectRedisPipeline(connection: RedisConnection): Promise<RedisPipeline> {
  const client = createClient({
    url: connection.url,
    RESP: connection.resp ?? 2,
    socket: {
      connectTimeout: connection.connectTimeoutMs ?? 5_000,
      // A few quick retries, then the command fails (the run records the error) instead of waiting forever.
      reconnectStrategy: (retries) => (retries >= 3 ? new Error('Redis unreachable') : 200 * (retries + 1)),
    },
  })
  // node-redis emits connection errors as events: without a listener they would crash the process.
  let lastError: Error | null = null
  client.on('error', (err: Error) => {
    lastError = err
  })
  try {
    await client.connect()
  } catch (err) {
    throw new VectorIndexError(
      `cannot connect to Redis at ${redactedUrl(connection.url)}: ${(err as Error).message}`,
      {
        cause: lastError ?? err,
      },
    )
  }
  return {
    async exec(commands: readonly Argv[]) {
      const multi = client.multi()
      for (const argv of commands) multi.addCommand(argv)
      return (await multi.execAsPipeline()) as unknown[]
    },
    async close() {
      if (client.isOpen) await client.close()
    },
  }
}

/** Opens the Redis index and checks that the server has Vector Sets (Redis >= 8), failing with a clear error if not. */
export async function openRedisVectorIndex(
  connection: RedisConnection,
  source: Pick<UsageStore, 'shapeProfiles'>,
  options: RedisVectorIndexOptions,
): Promise<RedisVectorIndex> {
  const index = new RedisVectorIndex(await connectRedisPipeline(connection), source, options)
  let hasVectorSets: boolean
  try {
    hasVectorSets = await index.hasVectorSets()
  } catch (err) {
    await index.close()
    throw err
  }
  if (!hasVectorSets) {
    await index.close()
    throw new VectorIndexError(
      `Redis at ${redactedUrl(connection.url)} has no Vector Sets (COMMAND INFO VADD is empty): it needs Redis 8 or later`,
    )
  }
  return index
}

/** The URL without its password (errors and logs never carry it). */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(invalid URL)'
  }
}
