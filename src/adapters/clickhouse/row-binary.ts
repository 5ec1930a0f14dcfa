import type { ClickHouseClient } from '@clickhouse/client'

/**
 * A query's result in ClickHouse's RowBinary format, read as raw bytes. `exec` hands back the reply's bytes as they
 * come from both deployments (chDB's connection: the engine's buffer; a server: the HTTP body), while `query` would
 * decode them as text. The SQL must end with `FORMAT RowBinary` (or a variant). `wait_end_of_query` makes a server hold the reply
 * until the query has finished, so a failure is an HTTP error rather than an exception's text appended to rows
 * already sent (chDB's connection ignores it: its result is whole or an error).
 */
export async function rowBinaryOf(
  client: ClickHouseClient,
  params: Parameters<ClickHouseClient['exec']>[0],
): Promise<Buffer> {
  const { stream } = await client.exec({
    ...params,
    clickhouse_settings: { ...params.clickhouse_settings, wait_end_of_query: 1 },
  })
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  // One part (chDB's whole result): no copy.
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}

/** The type whose bytes RowBinary writes for `type`: LowCardinality(T) and SimpleAggregateFunction(f, T) write T's. */
const storedAs = (type: string): string =>
  type.replace(/LowCardinality\(([^()]*)\)|SimpleAggregateFunction\(\w+, ([^()]*)\)/g, '$1$2')

/** RowBinary bytes that do not hold the rows the reader expects: a truncated or foreign reply. */
export class RowBinaryError extends Error {}

/**
 * Reads RowBinary values one after another: strings as a LEB128 length and UTF-8 bytes, integers and floats
 * little-endian, an array as a LEB128 count and its values. Float64 values are copied bit for bit.
 */
export class RowBinaryReader {
  private offset = 0
  private readonly view: DataView

  constructor(private readonly bytes: Buffer) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** All bytes read: the rows ended exactly where the reply did. */
  get done(): boolean {
    return this.offset === this.bytes.length
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.length - this.offset
  }

  /** RowBinaryWithNamesAndTypes' header: each column's name and type. */
  header(): { name: string; type: string }[] {
    const count = this.varUInt()
    const names = Array.from({ length: count }, () => this.string())
    return names.map((name) => ({ name, type: this.string() }))
  }

  /**
   * Reads the header and checks it names `expected`'s columns and types in order (a type that changed would otherwise
   * be read as other bytes); LowCardinality(T) and SimpleAggregateFunction(f, T) count as T, whose bytes they write.
   */
  expectHeader(expected: readonly (readonly [string, string])[]): void {
    const header = this.header()
    if (
      header.length !== expected.length ||
      header.some((c, i) => c.name !== expected[i]?.[0] || storedAs(c.type) !== expected[i]?.[1])
    ) {
      throw new RowBinaryError(`unexpected columns ${header.map((c) => `${c.name} ${c.type}`).join(', ')}`)
    }
  }

  /** An unsigned LEB128 number (a length or count), at most 2^35 - 1: far past any array or string here. */
  varUInt(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 5; i++) {
      this.need(1)
      const byte = this.bytes[this.offset++] as number
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 128
    }
    throw new RowBinaryError(`a length at byte ${this.offset} is longer than 5 bytes`)
  }

  string(): string {
    const length = this.varUInt()
    this.need(length)
    const start = this.offset
    this.offset += length
    return this.bytes.toString('utf8', start, this.offset)
  }

  /** An Int64 as the nearest Number (exact within ±2^53, like Number() of its decimal text). */
  int64(): number {
    this.need(8)
    const value = Number(this.view.getBigInt64(this.offset, true))
    this.offset += 8
    return value
  }

  /** A Float64, bit for bit. */
  float64(): number {
    this.need(8)
    const value = this.view.getFloat64(this.offset, true)
    this.offset += 8
    return value
  }

  /** A UInt8. */
  uint8(): number {
    this.need(1)
    return this.bytes[this.offset++] as number
  }

  /** An Array(Float64) of at most `maxLength` values, as a plain array (the shape profiles' form). */
  float64Array(maxLength: number): number[] {
    const length = this.varUInt()
    if (length > maxLength) {
      throw new RowBinaryError(`an array at byte ${this.offset} has ${length} values, more than ${maxLength}`)
    }
    this.need(length * 8)
    const values: number[] = []
    const view = this.view
    let at = this.offset
    for (let i = 0; i < length; i++, at += 8) values.push(view.getFloat64(at, true))
    this.offset = at
    return values
  }

  /**
   * An Array(Float64) of at most `maxLength` values written into `target` from index `at` (no array per value list:
   * the job reads ~400k series x ~230 values); returns how many values it wrote.
   */
  float64ArrayInto(target: Float64Array, at: number, maxLength: number): number {
    const length = this.varUInt()
    if (length > maxLength) {
      throw new RowBinaryError(`an array at byte ${this.offset} has ${length} values, more than ${maxLength}`)
    }
    if (at + length > target.length) {
      throw new RowBinaryError(
        `an array at byte ${this.offset} does not fit the ${target.length} values given`,
      )
    }
    this.need(length * 8)
    const view = this.view
    let offset = this.offset
    for (let i = at; i < at + length; i++, offset += 8) target[i] = view.getFloat64(offset, true)
    this.offset = offset
    return length
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.length) {
      throw new RowBinaryError(
        `the reply ends at byte ${this.bytes.length}, ${count} bytes were expected at ${this.offset}`,
      )
    }
  }
}
