// Reader for the NAB (Numenta Anomaly Benchmark) subset in /work/shared/nab (see its README.md).
//
// Layout: `data/<category>/<name>.csv` with a `timestamp,value` header, and `combined_windows.json`
// mapping `"<category>/<name>.csv"` to `[start, end]` anomaly windows.
//
// Cleaning rules (applied per file, in this order):
// - Blank lines are ignored; CRLF and LF line endings are both accepted; the header line is required.
// - A row whose timestamp does not parse, whose value is empty, unparsable or non-finite (NaN, Infinity),
//   or which does not have exactly two fields, is skipped and counted in `dropped`.
// - Rows are sorted by timestamp (stable, so rows with equal timestamps keep their file order).
// - Duplicate timestamps keep ONE row: the LAST one in file order (a later row is taken as a correction
//   of an earlier one); every discarded duplicate is counted in `duplicates` (not in `dropped`).
// - Irregular steps are kept as they are: no resampling, no gap filling.
// Timestamps (`YYYY-MM-DD HH:MM:SS`, optional fractional seconds) carry no zone and are read as UTC.

import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface NabSeries {
  /** `<category>/<name>.csv`, the key used in combined_windows.json. */
  key: string
  category: string
  /** File name without the `.csv` extension. */
  name: string
  /** Epoch ms UTC, strictly increasing after cleaning. */
  timestamps: number[]
  values: number[]
  /** Epoch ms, inclusive bounds as in combined_windows.json, sorted by start. */
  windows: [number, number][]
  /** Rows skipped because of an unparsable timestamp, a missing/unparsable/non-finite value or a bad field count. */
  dropped: number
  /** Rows discarded because a later row (in file order) had the same timestamp. */
  duplicates: number
}

export interface ParsedNabCsv {
  timestamps: number[]
  values: number[]
  dropped: number
  duplicates: number
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/

/** Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` as UTC; returns epoch ms, or null when it is not a valid time. */
export function parseNabTime(text: string): number | null {
  const m = TIME_RE.exec(text.trim())
  if (m === null) return null
  const [, y, mo, d, h, mi, s, frac] = m
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'))
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)
  // Reject out-of-range fields (e.g. month 13, Feb 30) that Date.UTC would silently roll over.
  const back = new Date(t)
  if (
    back.getUTCFullYear() !== Number(y) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCDate() !== Number(d) ||
    back.getUTCHours() !== Number(h) ||
    back.getUTCMinutes() !== Number(mi) ||
    back.getUTCSeconds() !== Number(s)
  ) {
    return null
  }
  return t
}

function parseValue(text: string): number | null {
  const trimmed = text.trim()
  if (trimmed === '') return null // Number('') is 0: an empty field must not read as a zero.
  const v = Number(trimmed)
  return Number.isFinite(v) ? v : null
}

/** Parses one NAB CSV file's text and cleans it (see the rules at the top of this file). */
export function parseNabCsv(text: string): ParsedNabCsv {
  const lines = text.split(/\r?\n/)
  let headerSeen = false
  let dropped = 0
  const rows: { t: number; v: number }[] = []
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '') continue
    if (!headerSeen) {
      if (line.toLowerCase() !== 'timestamp,value') throw new Error(`unexpected NAB CSV header: ${line}`)
      headerSeen = true
      continue
    }
    const fields = line.split(',')
    const t = fields.length === 2 ? parseNabTime(fields[0] ?? '') : null
    const v = fields.length === 2 ? parseValue(fields[1] ?? '') : null
    if (t === null || v === null) {
      dropped++
      continue
    }
    rows.push({ t, v })
  }
  if (!headerSeen) throw new Error('empty NAB CSV (no header)')
  rows.sort((a, b) => a.t - b.t) // Array.prototype.sort is stable: equal timestamps keep file order.
  const timestamps: number[] = []
  const values: number[] = []
  let duplicates = 0
  for (const { t, v } of rows) {
    const last = timestamps.length - 1
    if (last >= 0 && timestamps[last] === t) {
      values[last] = v // keep the last row in file order
      duplicates++
    } else {
      timestamps.push(t)
      values.push(v)
    }
  }
  return { timestamps, values, dropped, duplicates }
}

function parseWindows(key: string, raw: unknown): [number, number][] {
  if (!Array.isArray(raw)) throw new Error(`combined_windows.json: ${key} is not a list`)
  const windows = raw.map((w): [number, number] => {
    if (!Array.isArray(w) || w.length !== 2 || typeof w[0] !== 'string' || typeof w[1] !== 'string') {
      throw new Error(`combined_windows.json: ${key} has a malformed window ${JSON.stringify(w)}`)
    }
    const start = parseNabTime(w[0])
    const end = parseNabTime(w[1])
    if (start === null || end === null || end < start) {
      throw new Error(`combined_windows.json: ${key} has an invalid window ${JSON.stringify(w)}`)
    }
    return [start, end]
  })
  return windows.sort((a, b) => a[0] - b[0])
}

/**
 * Reads every `data/<category>/<name>.csv` under `dir` with its windows from `combined_windows.json`.
 * Throws when a CSV has no entry in combined_windows.json or an entry has no CSV (a corrupt copy).
 * The result is sorted by key (plain code-unit order).
 */
export async function readNab(dir: string): Promise<NabSeries[]> {
  const windowsJson: unknown = JSON.parse(await readFile(join(dir, 'combined_windows.json'), 'utf8'))
  if (windowsJson === null || typeof windowsJson !== 'object' || Array.isArray(windowsJson)) {
    throw new Error('combined_windows.json is not an object')
  }
  const labelled = new Map(Object.entries(windowsJson as Record<string, unknown>))

  const dataDir = join(dir, 'data')
  const categories = (await readdir(dataDir, { withFileTypes: true })).filter((e) => e.isDirectory())
  const series: NabSeries[] = []
  for (const cat of categories) {
    const files = (await readdir(join(dataDir, cat.name), { withFileTypes: true })).filter(
      (e) => e.isFile() && e.name.endsWith('.csv'),
    )
    for (const file of files) {
      const key = `${cat.name}/${file.name}`
      if (!labelled.has(key)) throw new Error(`${key} has no entry in combined_windows.json`)
      const windows = parseWindows(key, labelled.get(key))
      labelled.delete(key)
      const parsed = parseNabCsv(await readFile(join(dataDir, cat.name, file.name), 'utf8'))
      series.push({
        key,
        category: cat.name,
        name: file.name.slice(0, -'.csv'.length),
        ...parsed,
        windows,
      })
    }
  }
  if (labelled.size > 0) {
    throw new Error(`combined_windows.json lists series with no CSV: ${[...labelled.keys()].join(', ')}`)
  }
  return series.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}
