import { describe, expect, it } from 'vitest'
import { baselineStats, DEFAULT_VOLUME_OPTIONS, volumeVerdict } from './volume.js'

const options = DEFAULT_VOLUME_OPTIONS
const noisy = [100, 110, 90, 105, 95, 100, 102, 98, 101, 99]

describe('baselineStats', () => {
  it('computes mean and population stddev', () => {
    const stats = baselineStats([2, 4, 4, 4, 5, 5, 7, 9], options)
    expect(stats.mean).toBe(5)
    expect(stats.stddev).toBe(2)
    expect(stats.samples).toBe(8)
  })

  it('floors the stddev of a flat baseline at a fraction of the mean', () => {
    const stats = baselineStats([1000, 1000, 1000, 1000, 1000, 1000, 1000], options)
    expect(stats.stddev).toBe(0)
    expect(stats.effectiveStddev).toBe(10)
  })

  it('floors the stddev of a baseline flat at zero at the absolute minimum', () => {
    expect(baselineStats([0, 0, 0, 0, 0, 0, 0], options).effectiveStddev).toBe(1)
  })

  it('stays finite for huge values whose squares overflow', () => {
    const stats = baselineStats([1e300, 2e300, 3e300, 1e300, 2e300, 3e300, 2e300], options)
    expect(Number.isFinite(stats.stddev)).toBe(true)
    expect(stats.mean).toBeCloseTo(2e300, -290)
    expect(stats.stddev / 1e300).toBeCloseTo(Math.sqrt(4 / 7), 10)
  })
})

describe('volumeVerdict', () => {
  it('gives no verdict on an empty history', () => {
    const verdict = volumeVerdict(500, [], options)
    expect(verdict.status).toBe('insufficient_data')
    expect(verdict.isAnomaly).toBe(false)
    expect(verdict.zScore).toBeNull()
    expect(verdict.baseline.samples).toBe(0)
  })

  it('gives no verdict with fewer than 7 samples, and one with exactly 7', () => {
    expect(volumeVerdict(1e6, [1, 2, 3, 4, 5, 6], options).status).toBe('insufficient_data')
    expect(volumeVerdict(1e6, [1, 2, 3, 4, 5, 6, 7], options).status).toBe('ok')
  })

  it('is not an anomaly inside the threshold', () => {
    const verdict = volumeVerdict(104, noisy, options)
    expect(verdict.status).toBe('ok')
    expect(verdict.isAnomaly).toBe(false)
    expect(verdict.severity).toBeNull()
    expect(Math.abs(verdict.zScore ?? 99)).toBeLessThan(3)
  })

  it('flags a spike with the z-score the seed defines', () => {
    const stats = baselineStats(noisy, options)
    const verdict = volumeVerdict(130, noisy, options)
    expect(verdict.zScore).toBeCloseTo((130 - stats.mean) / stats.stddev, 12)
    expect(verdict.isAnomaly).toBe(true)
    expect(verdict.direction).toBe('spike')
    expect(verdict.severity).toBe('critical')
  })

  it('grades warning between threshold and critical threshold', () => {
    const stats = baselineStats(noisy, options)
    const verdict = volumeVerdict(stats.mean + 4 * stats.stddev, noisy, options)
    expect(verdict.zScore).toBeCloseTo(4, 9)
    expect(verdict.severity).toBe('warning')
  })

  it('treats |z| equal to the threshold as an anomaly', () => {
    const stats = baselineStats(noisy, options)
    const verdict = volumeVerdict(stats.mean - 3 * stats.stddev, noisy, { ...options, threshold: 2.9999999 })
    expect(verdict.isAnomaly).toBe(true)
    expect(verdict.direction).toBe('drop')
  })

  it('makes a drop to zero from a non-zero baseline critical even below the critical z', () => {
    const wide = [100, 300, 50, 250, 120, 80, 200, 150, 90, 260]
    const verdict = volumeVerdict(0, wide, { ...options, threshold: 1.5 })
    expect(Math.abs(verdict.zScore ?? 0)).toBeLessThan(options.criticalThreshold)
    expect(verdict.isAnomaly).toBe(true)
    expect(verdict.severity).toBe('critical')
    expect(verdict.direction).toBe('drop')
  })

  it('does not let a flat baseline turn a 1% wiggle into an alert, but catches a 10% jump', () => {
    const flat = Array.from({ length: 30 }, () => 5000)
    expect(volumeVerdict(5050, flat, options).isAnomaly).toBe(false)
    const jump = volumeVerdict(5500, flat, options)
    expect(jump.isAnomaly).toBe(true)
    expect(jump.zScore).toBeCloseTo(10, 9)
  })

  it('flags usage appearing on a baseline flat at zero only beyond the absolute floor', () => {
    const zeros = Array.from({ length: 10 }, () => 0)
    expect(volumeVerdict(2, zeros, options).isAnomaly).toBe(false)
    expect(volumeVerdict(7, zeros, options).severity).toBe('critical')
  })

  it('keeps z finite next to Number.MAX_VALUE', () => {
    const huge = Array.from({ length: 8 }, (_, i) => 1e307 * (1 + i / 10))
    const verdict = volumeVerdict(Number.MAX_VALUE, huge, options)
    expect(Number.isFinite(verdict.zScore)).toBe(true)
    expect(verdict.direction).toBe('spike')
  })
})
