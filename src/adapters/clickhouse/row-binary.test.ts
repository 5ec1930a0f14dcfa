import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RowBinaryError, RowBinaryReader, rowBinaryOf } from './row-binary.js'

const varUInt = (n: number): number[] => {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return out
}
const str = (s: string): Buffer => {
  const bytes = Buffer.from(s, 'utf8')
  return Buffer.concat([Buffer.from(varUInt(bytes.length)), bytes])
}
const int64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigInt64LE(n)
  return b
}
const float64s = (values: number[]): Buffer => {
  const b = Buffer.alloc(8 * values.length)
  for (const [i, v] of values.entries()) b.writeDoubleLE(v, 8 * i)
  return Buffer.concat([Buffer.from(varUInt(values.length)), b])
}

// Values whose text form is easy to get wrong: negative zero, the smallest subnormal, the largest double, a value
// with 17 significant digits, and a NaN.
const TRICKY = [-0, 5e-324, Number.MAX_VALUE, 0.1 + 0.2, Number.NaN, 1e21, -123456.789]

describe('RowBinaryReader', () => {
  it('reads the header, strings, Int64 and Float64 arrays bit for bit', () => {
    const bytes = Buffer.concat([
      Buffer.from(varUInt(3)),
      str('name'),
      str('at'),
      str('values'),
      str('String'),
      str('Int64'),
      str('Array(Float64)'),
      str('cust-é€😀'),
      int64(1_764_547_200_000n),
      float64s(TRICKY),
      str(''),
      int64(-(2n ** 53n) + 1n),
      float64s([]),
    ])
    const reader = new RowBinaryReader(bytes)
    expect(reader.header()).toEqual([
      { name: 'name', type: 'String' },
      { name: 'at', type: 'Int64' },
      { name: 'values', type: 'Array(Float64)' },
    ])
    expect(reader.string()).toBe('cust-é€😀')
    expect(reader.int64()).toBe(1_764_547_200_000)
    const target = new Float64Array(12).fill(7)
    expect(reader.float64ArrayInto(target, 1, 10)).toBe(TRICKY.length)
    // The same 8 bytes each (NaN included), where asked; the rest of the target untouched.
    expect(float64s(Array.from(target.subarray(1, 1 + TRICKY.length))).equals(float64s(TRICKY))).toBe(true)
    expect([target[0], target[1 + TRICKY.length]]).toEqual([7, 7])
    expect(reader.done).toBe(false)
    expect(reader.string()).toBe('')
    expect(reader.int64()).toBe(-(2 ** 53) + 1)
    expect(reader.float64ArrayInto(target, 0, 10)).toBe(0)
    expect(reader.done).toBe(true)
  })

  it('reads single Float64 and UInt8 values bit for bit', () => {
    const one = Buffer.alloc(8 * TRICKY.length)
    for (const [i, v] of TRICKY.entries()) one.writeDoubleLE(v, 8 * i)
    const reader = new RowBinaryReader(Buffer.concat([one, Buffer.from([0, 1, 255])]))
    const read = TRICKY.map(() => reader.float64())
    expect(float64s(read).equals(float64s(TRICKY))).toBe(true)
    expect([reader.uint8(), reader.uint8(), reader.uint8()]).toEqual([0, 1, 255])
    expect(reader.done).toBe(true)
    expect(() => reader.float64()).toThrow(RowBinaryError)
    expect(() => reader.uint8()).toThrow(RowBinaryError)
  })

  it('reads multi-byte lengths', () => {
    const long = 'x'.repeat(300)
    const reader = new RowBinaryReader(Buffer.concat([str(long), float64s(Array(200).fill(1.5))]))
    expect(reader.string()).toBe(long)
    const target = new Float64Array(200)
    expect(reader.float64ArrayInto(target, 0, 200)).toBe(200)
    expect(Array.from(target)).toEqual(Array(200).fill(1.5))
    const again = new RowBinaryReader(float64s(Array(200).fill(1.5)))
    expect(again.float64Array(200)).toEqual(Array(200).fill(1.5))
    expect(again.done).toBe(true)
    expect(reader.done).toBe(true)
  })

  it('rejects a reply cut short, an array longer than allowed or than its target, and an endless length', () => {
    const row = Buffer.concat([str('a'), float64s([1, 2, 3])])
    const cut = new RowBinaryReader(row.subarray(0, row.length - 1))
    cut.string()
    expect(() => cut.float64ArrayInto(new Float64Array(3), 0, 3)).toThrow(RowBinaryError)
    const long = new RowBinaryReader(row)
    long.string()
    expect(() => long.float64ArrayInto(new Float64Array(3), 0, 2)).toThrow(/3 values, more than 2/)
    const plain = new RowBinaryReader(row)
    plain.string()
    expect(() => plain.float64Array(2)).toThrow(/3 values, more than 2/)
    const full = new RowBinaryReader(row)
    full.string()
    expect(() => full.float64ArrayInto(new Float64Array(4), 2, 3)).toThrow(/does not fit the 4 values/)
    expect(() => new RowBinaryReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).varUInt()).toThrow(
      RowBinaryError,
    )
    expect(() => new RowBinaryReader(Buffer.from([5, 0x61])).string()).toThrow(/expected/)
  })
})

describe('rowBinaryOf through a ClickHouse HTTP endpoint', () => {
  // A local HTTP receiver standing in for a ClickHouse server: it records the request and answers with bytes in
  // several writes, as a server streams a long reply.
  let server: Server
  let url = ''
  let seen: { url: string; body: string } | null = null
  let respond: (res: ServerResponse) => void = () => undefined
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = ''
      req.on('data', (d) => {
        body += d
      })
      req.on('end', () => {
        seen = { url: req.url ?? '', body }
        respond(res)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('sends the SQL, its parameters and wait_end_of_query, and returns every byte of the reply', async () => {
    const reply = Buffer.concat([str('api_calls'), float64s(TRICKY), int64(42n)])
    respond = (res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
      res.write(reply.subarray(0, 5))
      res.write(reply.subarray(5, 30))
      res.end(reply.subarray(30))
    }
    const client = createClient({ url })
    try {
      const bytes = await rowBinaryOf(client, {
        query: 'SELECT {m:String} FORMAT RowBinary',
        query_params: { m: 'api_calls' },
        clickhouse_settings: { optimize_aggregation_in_order: 1 },
      })
      expect(bytes.equals(reply)).toBe(true)
      const params = new URL(seen?.url ?? '', url).searchParams
      expect(params.get('param_m')).toBe('api_calls')
      expect(params.get('wait_end_of_query')).toBe('1')
      expect(params.get('optimize_aggregation_in_order')).toBe('1')
      expect(seen?.body).toBe('SELECT {m:String} FORMAT RowBinary')
    } finally {
      await client.close()
    }
  })

  it('fails with the server error when the query fails', async () => {
    respond = (res) =>
      res
        .writeHead(500, { 'X-ClickHouse-Exception-Code': '60' })
        .end('Code: 60. DB::Exception: Unknown table expression identifier. (UNKNOWN_TABLE)')
    const client = createClient({ url })
    try {
      await expect(rowBinaryOf(client, { query: 'SELECT 1 FORMAT RowBinary' })).rejects.toThrow(
        /Unknown table expression identifier/,
      )
    } finally {
      await client.close()
    }
  })
})
