import { describe, expect, it } from 'vitest'
import {
  parseHasVectorSets,
  parseVemb,
  parseVsimScores,
  RedisReplyError,
  vsimScoreToCosine,
} from './replies.js'

describe('VEMB replies', () => {
  it('reads RESP2 bulk strings and RESP3 doubles alike', () => {
    expect(parseVemb(['1.5', '0', '2e3'])).toEqual([1.5, 0, 2000])
    expect(parseVemb([Buffer.from('1.5'), Buffer.from('-1')])).toEqual([1.5, -1])
    expect(parseVemb([1.5, 0, 2000])).toEqual([1.5, 0, 2000])
  })

  it('is null for a missing key or element (RESP2 null array, RESP3 null)', () => {
    expect(parseVemb(null)).toBeNull()
    expect(parseVemb(undefined)).toBeNull()
  })

  it('refuses anything else with the reply in the error', () => {
    expect(() => parseVemb('ERR')).toThrow(RedisReplyError)
    expect(() => parseVemb(['abc'])).toThrow(/VEMB reply: \["abc"\]/)
    expect(() => parseVemb([''])).toThrow(RedisReplyError)
  })
})

describe('VSIM WITHSCORES replies', () => {
  it('reads the RESP2 flat array in order', () => {
    expect([...parseVsimScores(['2026-11-18', '0.95', '2026-11-11', '0.5'])]).toEqual([
      ['2026-11-18', 0.95],
      ['2026-11-11', 0.5],
    ])
  })

  it('reads the RESP3 map as an object or a Map', () => {
    expect([...parseVsimScores({ '2026-11-18': 0.95, '2026-11-11': 0.5 })]).toEqual([
      ['2026-11-18', 0.95],
      ['2026-11-11', 0.5],
    ])
    expect([...parseVsimScores(new Map([[Buffer.from('2026-11-18'), 0.95]]))]).toEqual([['2026-11-18', 0.95]])
  })

  it('is empty for no match or a missing key, and refuses a malformed array', () => {
    expect(parseVsimScores([]).size).toBe(0)
    expect(parseVsimScores(null).size).toBe(0)
    expect(() => parseVsimScores(['a'])).toThrow(RedisReplyError)
    expect(() => parseVsimScores(['a', 'x'])).toThrow(RedisReplyError)
  })
})

describe('VSIM score to cosine', () => {
  it('inverts (1 + cos) / 2, so 0.9 means the same on both indexes', () => {
    expect(vsimScoreToCosine(1)).toBe(1)
    expect(vsimScoreToCosine(0.5)).toBe(0)
    expect(vsimScoreToCosine(0)).toBe(-1)
    expect(vsimScoreToCosine(0.95)).toBeCloseTo(0.9, 12)
    // A cosine just under the threshold stays under it after the round trip through a score.
    for (const cos of [0.1, 0.7, 0.899999, 0.9, 0.93])
      expect(vsimScoreToCosine((1 + cos) / 2)).toBeCloseTo(cos, 12)
  })

  it('clamps float32 overshoot and refuses non-finite scores', () => {
    expect(vsimScoreToCosine(1.0000001)).toBe(1)
    expect(() => vsimScoreToCosine(Number.NaN)).toThrow(RangeError)
  })
})

describe('COMMAND INFO VADD', () => {
  it('is true for a command entry, false for [null] (Redis < 8)', () => {
    expect(parseHasVectorSets([['vadd', -5, ['write']]])).toBe(true)
    expect(parseHasVectorSets([null])).toBe(false)
    expect(parseHasVectorSets([])).toBe(false)
  })
})
