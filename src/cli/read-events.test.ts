import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  detectFormat,
  EventFileError,
  type EventFileFormat,
  MAX_RECORD_BYTES,
  type RawEventBatch,
  readEventBatches,
} from './read-events.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meterflow-read-events-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Vitest workers do not run with --expose-gc; the flag can still be switched on at runtime. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Buffers live outside the JS heap, so a reader that kept raw chunks would be invisible to heapUsed alone. */
function retainedBytes(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

let fileCounter = 0
async function fixture(ext: string, content: string | Buffer): Promise<string> {
  const path = join(dir, `f${fileCounter++}.${ext}`)
  await writeFile(path, content)
  return path
}

async function readAll(path: string, batchSize = 100, format?: EventFileFormat): Promise<RawEventBatch[]> {
  const batches: RawEventBatch[] = []
  for await (const batch of readEventBatches(path, format ? { batchSize, format } : { batchSize })) {
    batches.push(batch)
  }
  return batches
}

async function readError(path: string, batchSize = 100): Promise<EventFileError> {
  const err = await readAll(path, batchSize).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(EventFileError)
  return err as EventFileError
}

const event = (n: number) => ({
  customer_id: `c${n}`,
  metric: 'api_calls',
  value: n,
  timestamp: 1_700_000_000_000,
})

describe('detectFormat', () => {
  it('maps extensions case-insensitively', () => {
    expect(detectFormat('a.ndjson')).toBe('ndjson')
    expect(detectFormat('/x/y/a.jsonl')).toBe('ndjson')
    expect(detectFormat('a.JSON')).toBe('ndjson')
    expect(detectFormat('dir.csv/a.csv')).toBe('csv')
  })

  it('rejects unknown or missing extensions, naming the file and the accepted ones', () => {
    expect(() => detectFormat('events.txt')).toThrow(/events\.txt.*\.ndjson, \.jsonl, \.json, \.csv/)
    expect(() => detectFormat('events')).toThrow(/'events'/)
  })
})

describe('readEventBatches: NDJSON', () => {
  it('batches events and reports line numbers across blank lines', async () => {
    const lines = [event(1), event(2), '', event(3), '   ', '', event(4), event(5)]
    const path = await fixture(
      'ndjson',
      `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n\n`,
    )
    const batches = await readAll(path, 2)
    expect(batches.map((b) => b.events)).toEqual([[event(1), event(2)], [event(3), event(4)], [event(5)]])
    expect(batches.map((b) => b.lines)).toEqual([[1, 2], [4, 7], [8]])
    expect(batches.map((b) => b.firstLine)).toEqual([1, 4, 8])
  })

  it('yields parsed values as-is, leaving validation to the caller', async () => {
    const path = await fixture('jsonl', '{"value":"7","extra":true}\n[1,2]\n')
    const [batch] = await readAll(path)
    expect(batch?.events).toEqual([{ value: '7', extra: true }, [1, 2]])
  })

  it('handles CRLF, a BOM and a last line without a newline', async () => {
    const path = await fixture(
      'ndjson',
      `\uFEFF${JSON.stringify(event(1))}\r\n\r\n${JSON.stringify(event(2))}`,
    )
    const [batch] = await readAll(path)
    expect(batch?.events).toEqual([event(1), event(2)])
    expect(batch?.lines).toEqual([1, 3])
  })

  it('throws EventFileError with the line number and parse reason for invalid JSON', async () => {
    const path = await fixture('ndjson', `${JSON.stringify(event(1))}\n\n{"customer_id": "c2",\n`)
    const err = await readError(path)
    expect(err.line).toBe(3)
    expect(err.message).toMatch(/^line 3: invalid JSON: .+/)
    expect(err.cause).toBeInstanceOf(SyntaxError)
  })

  it('delivers earlier batches before failing on a later bad line', async () => {
    const path = await fixture('ndjson', `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\nnope\n`)
    const seen: unknown[] = []
    await expect(async () => {
      for await (const batch of readEventBatches(path, { batchSize: 1 })) seen.push(...batch.events)
    }).rejects.toThrow(EventFileError)
    expect(seen).toEqual([event(1)])
  })

  it('refuses a line longer than MAX_RECORD_BYTES instead of buffering it', async () => {
    const path = await fixture('ndjson', `${JSON.stringify(event(1))}\n${'x'.repeat(MAX_RECORD_BYTES + 10)}`)
    const err = await readError(path)
    expect(err.line).toBe(2)
  })

  it('reports increasing bytesRead ending at the file size, with multi-byte characters', async () => {
    const text = Array.from({ length: 50 }, (_, i) => JSON.stringify({ ...event(i), metric: 'é✓' })).join(
      '\n',
    )
    const path = await fixture('ndjson', `${text}\n\n`)
    const batches = await readAll(path, 7)
    const bytes = batches.map((b) => b.bytesRead)
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b))
    // Exact offset of the end of each batch's last line (including its newline).
    expect(bytes[0]).toBe(Buffer.byteLength(`${text.split('\n').slice(0, 7).join('\n')}\n`))
    expect(bytes.at(-1)).toBe((await stat(path)).size)
    expect(batches.flatMap((b) => b.events)).toHaveLength(50)
  })

  it('yields nothing for an empty file', async () => {
    expect(await readAll(await fixture('ndjson', ''))).toEqual([])
  })

  it('honours an explicit format over the extension', async () => {
    const path = await fixture('txt', `${JSON.stringify(event(1))}\n`)
    expect((await readAll(path, 10, 'ndjson'))[0]?.events).toEqual([event(1)])
  })

  it('rejects a non-positive batch size', async () => {
    const path = await fixture('ndjson', '')
    await expect(readAll(path, 0)).rejects.toThrow(RangeError)
  })

  it('surfaces a missing file as an error', async () => {
    await expect(readAll(join(dir, 'missing.ndjson'))).rejects.toThrow(/ENOENT/)
  })
})

describe('readEventBatches: CSV', () => {
  it('converts rows to snake_case objects with numeric value and epoch timestamp', async () => {
    const csv = [
      'event_id,customer_id,metric,value,timestamp',
      'e1,c1,api_calls,12.5,1700000000000',
      ',c2,api_calls,3,2024-01-02T03:04:05Z',
      'e3,c3,api_calls,lots,17e3',
    ].join('\n')
    const [batch] = await readAll(await fixture('csv', csv))
    expect(batch?.events).toEqual([
      { event_id: 'e1', customer_id: 'c1', metric: 'api_calls', value: 12.5, timestamp: 1_700_000_000_000 },
      { customer_id: 'c2', metric: 'api_calls', value: 3, timestamp: '2024-01-02T03:04:05Z' },
      { event_id: 'e3', customer_id: 'c3', metric: 'api_calls', value: 'lots', timestamp: '17e3' },
    ])
  })

  it('keeps values that are not plain finite decimals as strings', async () => {
    const rows = ['', '0x10', 'Infinity', '1e999', '-2', '.5', '1E3']
    const csv = ['customer_id,metric,value,timestamp', ...rows.map((v) => `c,m,"${v}",1`)].join('\n')
    const [batch] = await readAll(await fixture('csv', csv))
    expect(batch?.events.map((e) => (e as { value: unknown }).value)).toEqual([
      '',
      '0x10',
      'Infinity',
      '1e999',
      -2,
      0.5,
      1000,
    ])
  })

  it('parses RFC 4180 quoted fields with commas, quotes and newlines, tracking start lines', async () => {
    const csv = [
      'customer_id,metric,value,timestamp',
      '"acme, inc",api_calls,1,1',
      '',
      '"say ""hi""","multi',
      'line",2,2',
      'c4,api_calls,3,3',
    ].join('\r\n')
    const batches = await readAll(await fixture('csv', csv), 2)
    const events = batches.flatMap((b) => b.events) as Record<string, unknown>[]
    expect(events.map((e) => e.customer_id)).toEqual(['acme, inc', 'say "hi"', 'c4'])
    expect(events[1]?.metric).toBe('multi\r\nline')
    expect(batches.flatMap((b) => b.lines)).toEqual([2, 4, 6])
    expect(batches.map((b) => b.firstLine)).toEqual([2, 6])
  })

  it('accepts columns in any order, with surrounding spaces in the header', async () => {
    const csv = 'timestamp, value ,metric,customer_id\n5,7,api_calls,c1\n'
    const [batch] = await readAll(await fixture('csv', csv))
    expect(batch?.events).toEqual([{ customer_id: 'c1', metric: 'api_calls', value: 7, timestamp: 5 }])
  })

  it('rejects unknown columns, naming them', async () => {
    const err = await readError(
      await fixture('csv', 'customer_id,metric,value,timestamp,region,Tier\nc,m,1,1,eu,x\n'),
    )
    expect(err.line).toBe(1)
    expect(err.message).toMatch(/'region', 'Tier'/)
  })

  it('rejects missing required columns, naming them', async () => {
    const err = await readError(await fixture('csv', 'event_id,customer_id,value\ne,c,1\n'))
    expect(err.line).toBe(1)
    expect(err.message).toMatch(/missing required CSV column\(s\) metric, timestamp/)
  })

  it('rejects duplicate columns and an empty file', async () => {
    expect(
      (await readError(await fixture('csv', 'customer_id,metric,value,timestamp,value\n'))).message,
    ).toMatch(/duplicate.*value/)
    expect((await readError(await fixture('csv', ''))).message).toMatch(/header row/)
  })

  it('reports malformed rows with their line number', async () => {
    const csv = 'customer_id,metric,value,timestamp\nc,m,1,1\n\nc,m,1\n'
    const err = await readError(await fixture('csv', csv))
    expect(err.line).toBe(4)
    expect(err.message).toMatch(/^line 4: invalid CSV: /)
    // The unclosed quote is reported where its record starts, not at the end of the file.
    const unclosed = await readError(
      await fixture('csv', 'customer_id,metric,value,timestamp\n"c,m,1,1\nc,m,2,2\n'),
    )
    expect(unclosed.line).toBe(2)
    expect(unclosed.message).toMatch(/Quote Not Closed/)
  })

  it('reports bytesRead ending at the file size, BOM included', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `c${i},"métric, ✓",${i},${i}`)
    const path = await fixture('csv', `\uFEFFcustomer_id,metric,value,timestamp\n${rows.join('\n')}\n\n`)
    const batches = await readAll(path, 4)
    expect(batches).toHaveLength(8)
    const bytes = batches.map((b) => b.bytesRead)
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b))
    expect(bytes.at(-1)).toBe((await stat(path)).size)
  })
})

describe('readEventBatches: streaming', () => {
  it('reads a ~50 MB NDJSON file with bounded heap growth', { timeout: 20_000 }, async () => {
    const path = join(dir, 'big.ndjson')
    const out = createWriteStream(path)
    const linesPerChunk = 10_000
    let written = 0
    // Written chunk by chunk so the generator itself does not hold the file in memory either.
    for (let chunk = 0; written < 50 * 1024 * 1024; chunk++) {
      let text = ''
      for (let i = 0; i < linesPerChunk; i++) {
        const n = chunk * linesPerChunk + i
        text += `${JSON.stringify({ event_id: `evt-${n}`, customer_id: `cust-${n % 997}`, metric: 'api_calls', value: n % 100, timestamp: 1_700_000_000_000 + n })}\n`
      }
      written += Buffer.byteLength(text)
      if (!out.write(text)) await once(out, 'drain')
    }
    out.end()
    await once(out, 'finish')
    const size = (await stat(path)).size
    expect(size).toBeGreaterThan(50 * 1024 * 1024)

    const gc = exposeGc()
    gc()
    const baseline = retainedBytes()
    let peakGrowth = 0
    let events = 0
    let lastBytes = 0
    let batches = 0
    for await (const batch of readEventBatches(path, { batchSize: 1000 })) {
      events += batch.events.length
      lastBytes = batch.bytesRead
      // Collecting first measures what is retained, not the garbage V8 has not yet bothered to sweep.
      if (++batches % 25 === 0) {
        gc()
        peakGrowth = Math.max(peakGrowth, retainedBytes() - baseline)
      }
    }
    expect(lastBytes).toBe(size)
    expect(events).toBeGreaterThan(400_000)
    expect(peakGrowth).toBeLessThan(size / 10)
  })
})
