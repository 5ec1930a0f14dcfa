import { createReadStream, type ReadStream } from 'node:fs'
import { extname } from 'node:path'
import { CsvError, type Info, parse } from 'csv-parse'

export type EventFileFormat = 'ndjson' | 'csv'

export interface RawEventBatch {
  /** Parsed but unvalidated events; validation (and its error messages) happens downstream. */
  events: unknown[]
  /** 1-based line number of `events[0]` in the file. */
  firstLine: number
  /** 1-based line number of each event, parallel to `events`. */
  lines: number[]
  /** Cumulative bytes of the file consumed so far; equals the file size on the last batch. */
  bytesRead: number
}

export interface ReadEventOptions {
  format?: EventFileFormat
  batchSize: number
}

/** A problem with the file itself (not with one event's fields), pinned to the line where it was found. */
export class EventFileError extends Error {
  constructor(
    message: string,
    readonly line: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'EventFileError'
  }
}

/**
 * Caps one NDJSON line or CSV record. Real events are a few hundred bytes; without a cap a file with no
 * newline (or an unclosed CSV quote) would be buffered whole, which is exactly what streaming must avoid.
 */
export const MAX_RECORD_BYTES = 1024 * 1024

const EXTENSIONS: Record<string, EventFileFormat> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'ndjson',
  '.csv': 'csv',
}

export function detectFormat(path: string): EventFileFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()]
  if (format === undefined) {
    throw new Error(
      `cannot tell the format of '${path}' from its extension; expected one of ${Object.keys(EXTENSIONS).join(', ')}`,
    )
  }
  return format
}

interface ParsedRecord {
  value: unknown
  line: number
  /** Bytes of the file consumed up to the end of this record. */
  bytes: number
}

export async function* readEventBatches(
  path: string,
  options: ReadEventOptions,
): AsyncGenerator<RawEventBatch> {
  const { batchSize } = options
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`)
  }
  const format = options.format ?? detectFormat(path)
  const source = createReadStream(path)
  try {
    const records = format === 'csv' ? csvRecords(source) : ndjsonRecords(source)
    let events: unknown[] = []
    let lines: number[] = []
    let lastBytes = 0
    for await (const record of records) {
      // A full batch is held until the next record shows up so that the final batch is always the one
      // that reports the whole file as read, even when trailing blank lines follow the last event.
      if (events.length === batchSize) {
        yield { events, lines, firstLine: lines[0] ?? 0, bytesRead: lastBytes }
        events = []
        lines = []
      }
      events.push(record.value)
      lines.push(record.line)
      lastBytes = record.bytes
    }
    if (events.length > 0) yield { events, lines, firstLine: lines[0] ?? 0, bytesRead: source.bytesRead }
  } finally {
    // Covers early exit by the consumer and parse errors: the file descriptor must not leak.
    source.destroy()
  }
}

async function* ndjsonRecords(source: ReadStream): AsyncGenerator<ParsedRecord> {
  // Splitting on raw bytes (not decoded strings, and not split2) keeps byte offsets exact for progress;
  // 0x0a never occurs inside a multi-byte UTF-8 sequence, so this is safe.
  let carry: Buffer[] = []
  let carryBytes = 0
  let line = 0
  let offset = 0
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let start = 0
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl)
      const text = carry.length > 0 ? Buffer.concat([...carry, piece]) : piece
      carry = []
      carryBytes = 0
      start = nl + 1
      line++
      offset += text.length + 1
      const value = parseJsonLine(text, line)
      if (value !== undefined) yield { value, line, bytes: offset }
    }
    if (start < chunk.length) {
      carry.push(chunk.subarray(start))
      carryBytes += chunk.length - start
      if (carryBytes > MAX_RECORD_BYTES) {
        throw new EventFileError(`line ${line + 1}: longer than ${MAX_RECORD_BYTES} bytes`, line + 1)
      }
    }
  }
  if (carry.length > 0) {
    line++
    const value = parseJsonLine(Buffer.concat(carry), line)
    if (value !== undefined) yield { value, line, bytes: offset + carryBytes }
  }
}

/** Returns undefined for a blank line. */
function parseJsonLine(bytes: Buffer, line: number): unknown {
  let text = bytes.toString('utf8')
  if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new EventFileError(`line ${line}: invalid JSON: ${reason}`, line, { cause: err })
  }
}

const CSV_COLUMNS = ['event_id', 'customer_id', 'metric', 'value', 'timestamp'] as const
type CsvColumn = (typeof CSV_COLUMNS)[number]
const REQUIRED_CSV_COLUMNS: readonly CsvColumn[] = ['customer_id', 'metric', 'value', 'timestamp']

async function* csvRecords(source: ReadStream): AsyncGenerator<ParsedRecord> {
  const parser = parse({ bom: true, info: true, skip_empty_lines: true, max_record_size: MAX_RECORD_BYTES })
  // pipe() does not forward source errors (e.g. ENOENT); without this the parser would wait forever.
  source.on('error', (err) => parser.destroy(err))
  source.pipe(parser)
  let columns: CsvColumn[] | undefined
  // csv-parse's own info.lines counts a CRLF inside a quoted field as two lines, so line numbers are derived
  // here: where the previous record started, plus the line breaks inside it, plus blank lines skipped since.
  let nextLine = 1
  let emptySeen = 0
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const line = nextLine + (info.empty_lines - emptySeen)
      nextLine = line + 1 + record.reduce((sum, field) => sum + countLineBreaks(field), 0)
      emptySeen = info.empty_lines
      if (columns === undefined) {
        columns = readHeader(record, line)
        continue
      }
      yield { value: csvRecordToEvent(record, columns), line, bytes: info.bytes }
    }
  } catch (err) {
    if (err instanceof CsvError) {
      // The failing record starts where the next one would have; for an unclosed quote that is far more
      // useful than the end-of-file line csv-parse reports.
      const line = nextLine + (typeof err.empty_lines === 'number' ? err.empty_lines - emptySeen : 0)
      throw new EventFileError(`line ${line}: invalid CSV: ${err.message}`, line, { cause: err })
    }
    throw err
  }
  if (columns === undefined) {
    throw new EventFileError(
      `line 1: CSV file is empty; a header row naming ${CSV_COLUMNS.join(', ')} is required`,
      1,
    )
  }
}

const LINE_BREAK = /\r\n|\r|\n/g

function countLineBreaks(field: string): number {
  return field.includes('\n') || field.includes('\r') ? (field.match(LINE_BREAK)?.length ?? 0) : 0
}

function readHeader(names: string[], line: number): CsvColumn[] {
  const trimmed = names.map((name) => name.trim())
  const known = new Set<string>(CSV_COLUMNS)
  const unknown = trimmed.filter((name) => !known.has(name))
  if (unknown.length > 0) {
    throw new EventFileError(
      `line ${line}: unknown CSV column(s) ${unknown.map((n) => `'${n}'`).join(', ')}; allowed columns are ${CSV_COLUMNS.join(', ')}`,
      line,
    )
  }
  const duplicated = trimmed.filter((name, i) => trimmed.indexOf(name) !== i)
  if (duplicated.length > 0) {
    throw new EventFileError(
      `line ${line}: duplicate CSV column(s) ${[...new Set(duplicated)].join(', ')}`,
      line,
    )
  }
  const missing = REQUIRED_CSV_COLUMNS.filter((name) => !trimmed.includes(name))
  if (missing.length > 0) {
    throw new EventFileError(`line ${line}: missing required CSV column(s) ${missing.join(', ')}`, line)
  }
  return trimmed as CsvColumn[]
}

// Stricter than Number(): '', ' ', '0x10' and 'Infinity' must stay strings so validation rejects them.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i
const DIGITS = /^\d+$/

function csvRecordToEvent(record: string[], columns: CsvColumn[]): Record<string, unknown> {
  const event: Record<string, unknown> = {}
  columns.forEach((column, i) => {
    const raw = record[i] ?? ''
    const text = raw.trim()
    if (column === 'event_id') {
      if (raw !== '') event.event_id = raw
    } else if (column === 'value') {
      const n = Number(text)
      event.value = DECIMAL.test(text) && Number.isFinite(n) ? n : raw
    } else if (column === 'timestamp') {
      event.timestamp = DIGITS.test(text) ? Number(text) : raw
    } else {
      event[column] = raw
    }
  })
  return event
}
