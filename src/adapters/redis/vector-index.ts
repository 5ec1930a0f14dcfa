import { PROFILE_HOURS, profileTotal } from '../../domain/signals/shape/profile.js'
import { DAY_MS } from '../../domain/time.js'
import type { SeriesProfiles, ShapeProfileRequest, UsageStore, VectorIndex } from '../../ports.js'
import { type Argv, commandInfoVadd, expire, vadd, vemb, vrem, vsimBaseline } from './commands.js'
import {
  dayElement,
  dayFromStored,
  expiredDays,
  oldestRetainedDay,
  type SlotDays,
  seriesKey,
  slotDays,
  stitchWindow,
  storedVector,
  weekdayOf,
  windowDays,
} from './days.js'
import { parseHasVectorSets, parseVemb, parseVsimScores, vsimScoreToCosine } from './replies.js'

/** Sends commands as pipelines: one write and one read per call, replies in order. */
export interface RedisPipeline {
  exec(commands: readonly Argv[]): Promise<unknown[]>
  close(): Promise<void>
}

export interface RedisVectorIndexOptions {
  /** Key prefix of the series' vector sets (`{prefix}{customer}:{metric}`). */
  keyPrefix: string
  /** Whole weeks of days each series keeps (older days are removed with VREM); more than the baseline weeks. */
  retentionWeeks: number
  /** Commands per pipeline: a chunk's commands go in ceil(n / this) round trips. */
  maxPipeline: number
  /** Days past retention every run removes (see expiredDays). */
  sweepDays?: number
}

export class VectorIndexError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'VectorIndexError'
  }
}

type Days = Map<number, number[]>
const key = (customerId: string, metric: string) => `${customerId}\u0000${metric}`

/**
 * The Redis Vector Sets index (docs/decisions.md, Shape VectorIndex): one vector set per customer x metric, one
 * element per complete UTC day. Per chunk it reads the window's days from the rollup (two one-day queries), upserts
 * the complete ones, fetches the baseline days with VEMB, reads any day Redis lacks through the rollup and writes it
 * back, and (nearest variant, whole-day window) asks VSIM for the nearest baseline day. At most three pipelines per
 * chunk (more only past maxPipeline commands), never one round trip per series.
 */
export class RedisVectorIndex implements VectorIndex {
  readonly kind = 'redis'
  private readonly sweepDays: number

  constructor(
    private readonly redis: RedisPipeline,
    private readonly source: Pick<UsageStore, 'shapeProfiles'>,
    private readonly options: RedisVectorIndexOptions,
  ) {
    this.sweepDays = options.sweepDays ?? 2
  }

  /** Whether the server has Vector Sets (COMMAND INFO VADD). */
  async hasVectorSets(): Promise<boolean> {
    const [reply] = await this.pipeline([commandInfoVadd()])
    return parseHasVectorSets(reply)
  }

  async *profiles(request: ShapeProfileRequest): AsyncGenerator<SeriesProfiles[]> {
    const days = slotDays(request.slot)
    const wanted = new Map(request.series.map((s) => [key(s.customerId, s.metric), s]))
    if (wanted.size === 0) return
    // The window's own days, exact from the rollup (the current profile never comes from Redis).
    const windowOwn = windowDays(days, 0)
    const recent = await this.readDays(request, windowOwn, 0, wanted)
    // Complete days only: a partial day stored now could outlive the runs that would complete it.
    const newestComplete = Math.floor(request.slot / DAY_MS) - 1
    const complete = windowOwn.filter((d) => d <= newestComplete)
    const oldestKept = oldestRetainedDay(newestComplete, this.options.retentionWeeks)

    const writes: Argv[] = []
    const fetches: { series: string; day: number }[] = []
    for (const [k, s] of wanted) {
      const setKey = seriesKey(this.options.keyPrefix, s.customerId, s.metric)
      for (const day of complete) writes.push(...this.upsert(setKey, day, recent.get(k)?.get(day)))
      for (const day of expiredDays(newestComplete, this.options.retentionWeeks, this.sweepDays))
        writes.push(vrem(setKey, dayElement(day)))
      writes.push(expire(setKey, (7 * this.options.retentionWeeks + this.sweepDays) * 86_400))
      for (let week = 1; week <= request.weeks; week++)
        for (const day of windowDays(days, week)) fetches.push({ series: k, day })
    }
    const replies = await this.pipeline([
      ...writes,
      ...fetches.map((f) => {
        const s = wanted.get(f.series) as { customerId: string; metric: string }
        return vemb(seriesKey(this.options.keyPrefix, s.customerId, s.metric), dayElement(f.day))
      }),
    ])
    const stored = new Map<string, Days>()
    const missing = new Set<number>()
    fetches.forEach((f, i) => {
      const vector = parseVemb(replies[writes.length + i])
      const day = vector === null ? null : dayFromStored(vector)
      if (day === null) missing.add(f.day)
      else dayMap(stored, f.series).set(f.day, day)
    })

    // Read-through: the days Redis lacks (fresh install, eviction, a day it cannot hold), from the rollup, written back.
    const unstorable = new Set<string>()
    const second: Argv[] = []
    if (missing.size > 0) {
      const anchors = windowOwn.filter((own) =>
        [...missing].some((d) => (own - d) % 7 === 0 && d < own && own - d <= 7 * request.weeks),
      )
      for (const anchor of anchors) {
        const read = await this.readDays(request, [anchor], request.weeks, wanted)
        for (const [k, s] of wanted) {
          const setKey = seriesKey(this.options.keyPrefix, s.customerId, s.metric)
          for (let week = 1; week <= request.weeks; week++) {
            const day = anchor - 7 * week
            if (dayMap(stored, k).has(day)) continue
            const values = read.get(k)?.get(day) ?? zeros()
            dayMap(stored, k).set(day, values)
            if (day < oldestKept) {
              unstorable.add(k)
              continue
            }
            const commands = this.upsert(setKey, day, values)
            if (commands.length === 0) unstorable.add(k)
            second.push(...commands)
          }
        }
      }
    }

    const out: SeriesProfiles[] = []
    const searches: { profile: SeriesProfiles; index: number }[] = []
    for (const [k, s] of wanted) {
      const own = recent.get(k)
      const current = stitchWindow(
        days.hour,
        windowOwn.map((d) => own?.get(d) ?? zeros()),
      )
      const baseline = Array.from({ length: request.weeks }, (_, w) =>
        stitchWindow(
          days.hour,
          windowDays(days, w + 1).map((d) => stored.get(k)?.get(d) ?? zeros()),
        ),
      )
      if (profileTotal(current) === 0 && baseline.every((b) => profileTotal(b) === 0)) continue
      const profile: SeriesProfiles = { ...s, slot: request.slot, current, baseline }
      out.push(profile)
      const total = profileTotal(current)
      const nearest = request.nearest
      // VSIM answers for a whole-day window only: a rolling window spans two elements.
      if (nearest && days.hour === 0 && !unstorable.has(k) && total > 0 && total >= nearest.minDailyVolume) {
        searches.push({ profile, index: second.length })
        const setKey = seriesKey(this.options.keyPrefix, s.customerId, s.metric)
        second.push(
          vsimBaseline(
            setKey,
            current,
            days.first,
            weekdayOf(days.first),
            request.weeks,
            nearest.minDailyVolume,
          ),
        )
      }
    }
    if (second.length > 0) {
      const secondReplies = await this.pipeline(second)
      for (const { profile, index } of searches) {
        const scores = [...parseVsimScores(secondReplies[index]).values()]
        if (scores.length > 0) profile.nearestSimilarity = Math.max(...scores.map(vsimScoreToCosine))
      }
    }
    yield out
  }

  async close(): Promise<void> {
    await this.redis.close()
  }

  /** VADD of one day (no command when Redis cannot hold the day exactly enough: it stays read-through). */
  private upsert(setKey: string, day: number, values: readonly number[] | undefined): Argv[] {
    const vector = storedVector(values ?? zeros())
    if (vector === null) return []
    const attributes = {
      weekday: weekdayOf(day),
      date: dayElement(day),
      day,
      total: profileTotal(values ?? []),
    }
    return [vadd(setKey, vector, dayElement(day), attributes)]
  }

  /**
   * Whole UTC days of the wanted series from the rollup: for each anchor day, that day and the same weekday
   * 1..weeks weeks before (UsageStore.shapeProfiles at the slot ending the anchor day: one query per chunk).
   */
  private async readDays(
    request: ShapeProfileRequest,
    anchors: readonly number[],
    weeks: number,
    wanted: ReadonlyMap<string, unknown>,
  ): Promise<Map<string, Days>> {
    const out = new Map<string, Days>()
    for (const anchor of anchors) {
      const slot = (anchor + 1) * DAY_MS
      for await (const chunk of this.source.shapeProfiles(slot, weeks, request.metrics, request.range)) {
        for (const p of chunk.profiles) {
          const k = key(p.customerId, p.metric)
          if (!wanted.has(k)) continue
          const days = dayMap(out, k)
          days.set(anchor, p.current)
          p.baseline.forEach((b, i) => {
            days.set(anchor - 7 * (i + 1), b)
          })
        }
      }
    }
    return out
  }

  private async pipeline(commands: readonly Argv[]): Promise<unknown[]> {
    const replies: unknown[] = []
    for (let i = 0; i < commands.length; i += this.options.maxPipeline) {
      const batch = commands.slice(i, i + this.options.maxPipeline)
      try {
        replies.push(...(await this.redis.exec(batch)))
      } catch (err) {
        throw new VectorIndexError(
          `Redis shape index: a pipeline of ${batch.length} commands (first ${batch[0]?.[0]} ${batch[0]?.[1]}) failed: ${(err as Error).message}`,
          { cause: err },
        )
      }
    }
    return replies
  }
}

const zeros = (): number[] => new Array<number>(PROFILE_HOURS).fill(0)

function dayMap(map: Map<string, Days>, k: string): Days {
  let days = map.get(k)
  if (!days) {
    days = new Map()
    map.set(k, days)
  }
  return days
}

/** The SlotDays of a slot (re-exported for the contract test's expectations). */
export type { SlotDays }
