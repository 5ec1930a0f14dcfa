import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'

/**
 * A tiny local RESP server standing in for Redis in tests: it records the vector-set commands it receives and keeps
 * VADDed vectors for VEMB exactly (no float32, no normalization); VSIM is not emulated and answers no match. It
 * speaks RESP2 and, after HELLO 3, RESP3 (doubles, nulls, maps), enough for node-redis' handshake and pipelines.
 */
type Reply = null | number | string | Reply[] | { map: [string, Reply][] } | { double: number }

export class RespStandIn {
  readonly commands: string[][] = []
  readonly sets = new Map<string, Map<string, number[]>>()
  private server: Server | null = null
  port = 0

  async start(): Promise<void> {
    this.server = createServer((socket) => this.serve(socket))
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    this.port = (this.server.address() as { port: number }).port
  }

  async stop(): Promise<void> {
    this.server?.close()
  }

  private serve(socket: Socket): void {
    let buffer = Buffer.alloc(0)
    let resp = 2
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data])
      for (;;) {
        const parsed = parseCommand(buffer)
        if (!parsed) break
        buffer = buffer.subarray(parsed.length)
        const argv = parsed.argv
        if (argv[0]?.toUpperCase() === 'HELLO') resp = Number(argv[1] ?? 2)
        socket.write(encode(this.answer(argv), resp))
      }
    })
  }

  private answer(argv: string[]): Reply {
    const [name = '', key = '', ...rest] = argv
    const command = name.toUpperCase()
    if (['VADD', 'VEMB', 'VREM', 'VSIM', 'EXPIRE'].includes(command)) this.commands.push(argv)
    switch (command) {
      case 'HELLO':
        return {
          map: [
            ['server', 'fake'],
            ['proto', Number(key || 2)],
          ],
        }
      case 'VADD': {
        const n = Number(rest[1])
        const values = rest.slice(2, 2 + n).map(Number)
        const element = rest[2 + n] as string
        const set = this.sets.get(key) ?? new Map<string, number[]>()
        this.sets.set(key, set)
        const added = set.has(element) ? 0 : 1
        set.set(element, values)
        return added
      }
      case 'VEMB': {
        const vector = this.sets.get(key)?.get(rest[0] as string)
        return vector ? vector.map((v) => ({ double: v })) : null
      }
      case 'VREM':
        return this.sets.get(key)?.delete(rest[0] as string) ? 1 : 0
      case 'VSIM':
        return []
      case 'COMMAND':
        // COMMAND INFO VADD as Redis 7 answers it: the stand-in has no Vector Sets of its own.
        return [null]
      case 'EXPIRE':
        return this.sets.has(key) ? 1 : 0
      default:
        return 'OK'
    }
  }
}

function parseCommand(buffer: Buffer): { argv: string[]; length: number } | null {
  const text = buffer.toString('latin1')
  if (!text.startsWith('*')) return null
  let at = text.indexOf('\r\n')
  if (at < 0) return null
  const count = Number(text.slice(1, at))
  at += 2
  const argv: string[] = []
  for (let i = 0; i < count; i++) {
    const end = text.indexOf('\r\n', at)
    if (end < 0) return null
    const size = Number(text.slice(at + 1, end))
    if (text.length < end + 2 + size + 2) return null
    argv.push(buffer.subarray(end + 2, end + 2 + size).toString('utf8'))
    at = end + 2 + size + 2
  }
  return { argv, length: at }
}

function encode(reply: Reply, resp: number): string {
  if (reply === null) return resp === 3 ? '_\r\n' : '*-1\r\n'
  if (typeof reply === 'number') return `:${reply}\r\n`
  if (typeof reply === 'string') return `+${reply}\r\n`
  if (Array.isArray(reply)) return `*${reply.length}\r\n${reply.map((r) => encode(r, resp)).join('')}`
  if ('double' in reply) {
    const s = String(reply.double)
    return resp === 3 ? `,${s}\r\n` : `$${Buffer.byteLength(s)}\r\n${s}\r\n`
  }
  const pairs = reply.map.map(([k, v]) => `$${k.length}\r\n${k}\r\n${encode(v, resp)}`)
  return resp === 3 ? `%${pairs.length}\r\n${pairs.join('')}` : `*${2 * pairs.length}\r\n${pairs.join('')}`
}
