import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'
import { DAY_MS, HOUR_MS, isUtcWeekend } from '../domain/time.js'

export const DEMO_METRICS = ['api_calls', 'bandwidth', 'compute_time', 'storage_peak'] as const
export type DemoMetric = (typeof DEMO_METRICS)[number]
export type Segment = 'b2b' | 'b2c' | 'enterprise'

/** Distributions over a pure-rand generator (which only yields uniform 32-bit ints). */
export class Rng {
  private spare: number | null = null

  constructor(readonly gen: RandomGenerator) {}

  float(): number {
    return uniformFloat64(this.gen)
  }

  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float()
  }

  /** Log-uniform: multipliers such as bytes-per-call span orders of magnitude. */
  logBetween(lo: number, hi: number): number {
    return Math.exp(this.between(Math.log(lo), Math.log(hi)))
  }

  int(lo: number, hi: number): number {
    return uniformInt(this.gen, lo, hi)
  }

  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)]
    if (item === undefined) throw new RangeError('pick from an empty list')
    return item
  }

  /** Box-Muller; the second value of each pair is kept so a series costs one draw pair per two normals. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    const u1 = 1 - this.float() // (0, 1]: log(0) would be -Infinity
    const u2 = this.float()
    const r = Math.sqrt(-2 * Math.log(u1))
    this.spare = r * Math.sin(2 * Math.PI * u2)
    return r * Math.cos(2 * Math.PI * u2)
  }

  /** Mean-one multiplicative noise that can never make a value negative. */
  noise(sigma: number): number {
    return Math.exp(sigma * this.normal() - (sigma * sigma) / 2)
  }
}

/** A generator whose whole 128-bit state is hashed from `key`: an independent stream per distinct key. */
export function keyedRng(key: readonly number[]): Rng {
  return new Rng(xoroshiro128plusFromState([0, 1, 2, 3].map((lane) => hash32([...key, lane]))))
}

// murmur3's finalizer folded over the words: nearby keys give unrelated states.
function hash32(words: readonly number[]): number {
  let h = 0x9e3779b9
  for (const w of words) {
    h = Math.imul(h ^ (w | 0), 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return h | 0
}

export interface UsageProfile {
  segment: Segment
  /** Mean weekday api_calls per hour at the start of the range. */
  callsPerHour: number
  /** 24 multipliers with mean 1, indexed by UTC hour. */
  daily: number[]
  /** Saturday/Sunday multiplier. */
  weekend: number
  growthPerMonth: number
  noise: number
  bytesPerCall: number
  secondsPerCall: number
  storageBytes: number
  storageGrowthPerMonth: number
}

/** A smooth bump around `peakHour` on top of a floor, normalised so the day's mean is 1. */
export function dailyProfile(peakHour: number, width: number, floor: number): number[] {
  const raw: number[] = []
  for (let h = 0; h < 24; h++) {
    const d = Math.min(Math.abs(h - peakHour), 24 - Math.abs(h - peakHour))
    raw.push(floor + Math.exp(-0.5 * (d / width) ** 2))
  }
  const mean = raw.reduce((a, b) => a + b, 0) / 24
  return raw.map((v) => v / mean)
}

export function randomUsageProfile(rng: Rng, segment: Segment): UsageProfile {
  // Median ~1.5k calls/h; clamped so the demo stays within "roughly 10..100k per hour".
  const callsPerHour = Math.min(100_000, Math.max(10, Math.exp(Math.log(1500) + 1.3 * rng.normal())))
  let daily: number[]
  let weekend: number
  if (segment === 'b2b') {
    daily = dailyProfile(rng.between(11, 17), rng.between(2.5, 4), rng.between(0.08, 0.2))
    weekend = rng.between(0.07, 0.13)
  } else if (segment === 'b2c') {
    daily = dailyProfile(rng.between(19, 22), rng.between(3, 5), rng.between(0.25, 0.4))
    weekend = rng.between(0.95, 1.25)
  } else {
    daily = dailyProfile(rng.between(12, 16), rng.between(4, 6), rng.between(0.5, 0.8))
    weekend = rng.between(0.3, 0.6)
  }
  return {
    segment,
    callsPerHour,
    daily,
    weekend,
    growthPerMonth: rng.between(0, 0.06),
    noise: rng.between(0.07, 0.13),
    bytesPerCall: rng.logBetween(2 * 1024, 50 * 1024),
    secondsPerCall: rng.logBetween(0.002, 0.5),
    storageBytes: rng.logBetween(1e9, 2e12),
    storageGrowthPerMonth: rng.between(0.01, 0.08),
  }
}

export function randomSegment(rng: Rng): Segment {
  const u = rng.float()
  return u < 0.5 ? 'b2b' : u < 0.85 ? 'b2c' : 'enterprise'
}

export type SeriesValues = Record<DemoMetric, Float64Array>

const MONTH_MS = 30 * DAY_MS

/**
 * Normal usage for hours [firstHourMs, endMs). Noise is drawn in a fixed order from `rng`, so the same
 * generator state always yields the same series.
 */
export function baseSeries(
  profile: UsageProfile,
  rng: Rng,
  rangeStartMs: number,
  firstHourMs: number,
  endMs: number,
): SeriesValues {
  const hours = Math.max(0, (endMs - firstHourMs) / HOUR_MS)
  const values: SeriesValues = {
    api_calls: new Float64Array(hours),
    bandwidth: new Float64Array(hours),
    compute_time: new Float64Array(hours),
    storage_peak: new Float64Array(hours),
  }
  for (let i = 0; i < hours; i++) {
    const hour = hourValues(profile, rng, rangeStartMs, firstHourMs + i * HOUR_MS)
    for (const metric of DEMO_METRICS) values[metric][i] = hour[metric]
  }
  return values
}

/**
 * Normal usage of the hour starting at `t`: the profile's daily and weekly shape, growth since `rangeStartMs`, and
 * four noise draws from `rng` in a fixed order (the history's series and the live feed's hours share this).
 */
export function hourValues(
  profile: UsageProfile,
  rng: Rng,
  rangeStartMs: number,
  t: number,
): Record<DemoMetric, number> {
  const months = (t - rangeStartMs) / MONTH_MS
  const hourOfDay = Math.floor(t / HOUR_MS) % 24
  const seasonal = (profile.daily[hourOfDay] ?? 1) * (isUtcWeekend(t) ? profile.weekend : 1)
  const growth = (1 + profile.growthPerMonth) ** months
  const calls = Math.round(profile.callsPerHour * seasonal * growth * rng.noise(profile.noise))
  const bandwidth = Math.round(calls * profile.bytesPerCall * rng.noise(0.05))
  const computeTime = roundMetric('compute_time', calls * profile.secondsPerCall * rng.noise(0.08))
  const storage = profile.storageBytes * (1 + profile.storageGrowthPerMonth * months)
  return {
    api_calls: calls,
    bandwidth,
    compute_time: computeTime,
    storage_peak: Math.round(storage * rng.noise(0.004)),
  }
}

/** Counts and bytes are whole numbers; compute seconds keep millisecond precision. */
export function roundMetric(metric: DemoMetric, value: number): number {
  return metric === 'compute_time' ? Math.round(value * 1000) / 1000 : Math.round(value)
}
