import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NabSeries, parseNabCsv, parseNabTime, readNab } from './nab.js'
import { nabScore, PROFILES } from './scoring.js'

const NAB_DIR = '/work/shared/nab'

describe('parseNabTime', () => {
  it('reads CSV and window timestamps as UTC', () => {
    expect(parseNabTime('2014-04-10 07:15:00')).toBe(Date.UTC(2014, 3, 10, 7, 15, 0))
    expect(parseNabTime('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15, 0))
    expect(parseNabTime('2011-07-11 04:00:01.250000')).toBe(Date.UTC(2011, 6, 11, 4, 0, 1, 250))
  })

  it('rejects malformed or out-of-range times', () => {
    for (const bad of [
      '',
      'x',
      '2014-04-10',
      '2014-13-01 00:00:00',
      '2015-02-29 00:00:00',
      '2014-04-10 24:00:00',
    ]) {
      expect(parseNabTime(bad)).toBeNull()
    }
  })
})

describe('parseNabCsv', () => {
  it('keeps the last of duplicate rows, sorts, keeps irregular steps, drops bad rows', () => {
    const text = [
      'timestamp,value',
      '2020-01-01 00:10:00,3', // out of order
      '2020-01-01 00:00:00,1',
      '2020-01-01 00:05:00,2',
      '2020-01-01 00:05:00,2.5', // duplicate: this later row wins
      '2020-01-01 00:07:00,NaN', // non-finite
      '2020-01-01 00:08:00,', // empty value (must not read as 0)
      '2020-01-01 00:09:00,abc',
      'not a time,4',
      '2020-01-01 00:11:00,Infinity',
      '2020-01-01 00:12:00,5,6', // too many fields
      '',
      '2020-01-01 00:13:00,-1e3', // irregular step (3 min), kept
      '2020-01-01 00:00:00,0.5', // duplicate of the first row, later in the file: wins
      '',
    ].join('\r\n')
    const r = parseNabCsv(text)
    const m = (min: number): number => Date.UTC(2020, 0, 1, 0, min)
    expect(r.timestamps).toEqual([m(0), m(5), m(10), m(13)])
    expect(r.values).toEqual([0.5, 2.5, 3, -1000])
    expect(r.dropped).toBe(6)
    expect(r.duplicates).toBe(2)
  })

  it('requires the header', () => {
    expect(() => parseNabCsv('2020-01-01 00:00:00,1\n')).toThrow(/header/)
    expect(() => parseNabCsv('')).toThrow(/header/)
  })
})

describe('readNab on a synthetic directory', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nab-test-'))
    await mkdir(join(dir, 'data', 'catB'), { recursive: true })
    await mkdir(join(dir, 'data', 'catA'), { recursive: true })
    await writeFile(
      join(dir, 'data', 'catB', 'one.csv'),
      'timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:00:00,2\n2020-01-01 00:03:00,x\n2020-01-01 00:07:00,4\n',
    )
    await writeFile(join(dir, 'data', 'catA', 'zed.csv'), 'timestamp,value\r\n2020-01-02 00:00:00,7\r\n')
    await writeFile(join(dir, 'data', 'catA', 'notes.txt'), 'ignored')
    await writeFile(
      join(dir, 'combined_windows.json'),
      JSON.stringify({
        'catB/one.csv': [
          ['2020-01-01 00:05:00.000000', '2020-01-01 00:07:00.000000'],
          ['2020-01-01 00:00:00.000000', '2020-01-01 00:01:00.000000'],
        ],
        'catA/zed.csv': [],
      }),
    )
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads series sorted by key with windows sorted by start', async () => {
    const series = await readNab(dir)
    const m = (min: number): number => Date.UTC(2020, 0, 1, 0, min)
    expect(series).toEqual<NabSeries[]>([
      {
        key: 'catA/zed.csv',
        category: 'catA',
        name: 'zed',
        timestamps: [Date.UTC(2020, 0, 2)],
        values: [7],
        windows: [],
        dropped: 0,
        duplicates: 0,
      },
      {
        key: 'catB/one.csv',
        category: 'catB',
        name: 'one',
        timestamps: [m(0), m(7)],
        values: [2, 4],
        windows: [
          [m(0), m(1)],
          [m(5), m(7)],
        ],
        dropped: 1,
        duplicates: 1,
      },
    ])
  })

  it('rejects a CSV missing from combined_windows.json', async () => {
    await writeFile(join(dir, 'data', 'catA', 'extra.csv'), 'timestamp,value\n')
    await expect(readNab(dir)).rejects.toThrow(/catA\/extra\.csv/)
    await rm(join(dir, 'data', 'catA', 'extra.csv'))
  })
})

describe('readNab on /work/shared/nab', () => {
  let series: NabSeries[] = []
  beforeAll(async () => {
    series = await readNab(NAB_DIR)
  })

  it('has 34 series in the README categories, sorted by key', () => {
    expect(series).toHaveLength(34)
    const counts: Record<string, number> = {}
    for (const s of series) counts[s.category] = (counts[s.category] ?? 0) + 1
    expect(counts).toEqual({
      realTweets: 10,
      realAdExchange: 6,
      realTraffic: 7,
      artificialWithAnomaly: 6,
      artificialNoAnomaly: 5,
    })
    const keys = series.map((s) => s.key)
    expect(keys).toEqual([...keys].sort())
    for (const s of series) expect(s.key).toBe(`${s.category}/${s.name}.csv`)
  })

  it('has 67 windows, none in artificialNoAnomaly, one per artificialWithAnomaly series', () => {
    expect(series.reduce((n, s) => n + s.windows.length, 0)).toBe(67)
    for (const s of series.filter((x) => x.category === 'artificialNoAnomaly')) expect(s.windows).toEqual([])
    for (const s of series.filter((x) => x.category === 'artificialWithAnomaly'))
      expect(s.windows).toHaveLength(1)
  })

  it('has strictly increasing timestamps, finite values and windows inside each series span', () => {
    for (const s of series) {
      expect(s.timestamps.length).toBeGreaterThan(1000)
      expect(s.values).toHaveLength(s.timestamps.length)
      for (let i = 1; i < s.timestamps.length; i++) {
        if ((s.timestamps[i] as number) <= (s.timestamps[i - 1] as number))
          throw new Error(`${s.key} row ${i}`)
      }
      for (const v of s.values) if (!Number.isFinite(v)) throw new Error(`${s.key} value ${v}`)
      const first = s.timestamps[0] as number
      const last = s.timestamps[s.timestamps.length - 1] as number
      for (const [start, end] of s.windows) {
        expect(start).toBeGreaterThanOrEqual(first)
        expect(end).toBeLessThanOrEqual(last)
        expect(start).toBeLessThanOrEqual(end)
      }
      for (let i = 1; i < s.windows.length; i++) {
        expect((s.windows[i] as [number, number])[0]).toBeGreaterThan(
          (s.windows[i - 1] as [number, number])[1],
        )
      }
    }
  })

  it('resolves the known duplicate timestamps by keeping the last row', () => {
    const byKey = new Map(series.map((s) => [s.key, s]))
    const valueAt = (key: string, time: string): number | undefined => {
      const s = byKey.get(key)
      const t = parseNabTime(time)
      return s === undefined || t === null ? undefined : s.values[s.timestamps.indexOf(t)]
    }
    expect(byKey.get('realAdExchange/exchange-2_cpc_results.csv')).toMatchObject({
      duplicates: 1,
      dropped: 0,
    })
    expect(byKey.get('realAdExchange/exchange-2_cpc_results.csv')?.timestamps).toHaveLength(1623)
    expect(valueAt('realAdExchange/exchange-2_cpc_results.csv', '2011-08-24 12:00:01')).toBe(0.119452887538)
    expect(valueAt('realTraffic/occupancy_t4013.csv', '2015-09-10 05:33:00')).toBe(8.94)
    expect(valueAt('realTraffic/speed_t4013.csv', '2015-09-10 05:33:00')).toBe(62)
    expect(series.reduce((n, s) => n + s.duplicates, 0)).toBe(4)
    expect(series.reduce((n, s) => n + s.dropped, 0)).toBe(0)
    expect(byKey.get('artificialNoAnomaly/art_flatline.csv')?.timestamps).toHaveLength(4032)
  })

  it('every window covers at least one row; a perfect detector normalises to 100 and a silent one to 0', () => {
    const toAlerts = (s: NabSeries, alerts: number[]) => ({
      key: s.key,
      timestamps: s.timestamps,
      windows: s.windows,
      alerts,
    })
    const perfect = nabScore(
      series.map((s) =>
        toAlerts(
          s,
          s.windows.map(([start]) => start),
        ),
      ),
      PROFILES.standard,
    )
    expect(perfect.perSeries.reduce((n, s) => n + s.detected, 0)).toBe(67)
    expect(perfect.normalized).toBeCloseTo(100, 10)
    const silent = nabScore(
      series.map((s) => toAlerts(s, [])),
      PROFILES.standard,
    )
    expect(silent.raw).toBe(-67)
    expect(silent.normalized).toBe(0)
  })
})
