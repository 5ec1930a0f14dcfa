import { describe, expect, it } from 'vitest'
import { DAY_MS, HOUR_MS } from '../../time.js'
import { shapeCheckWindow } from './check-window.js'

const NOW = Date.UTC(2026, 10, 25, 12, 34, 56)
const HOUR = Date.UTC(2026, 10, 25, 12)

describe('shapeCheckWindow', () => {
  it('takes the 24 hours up to the last whole hour when no window is given', () => {
    const w = shapeCheckWindow({
      startMs: NOW - DAY_MS,
      endMs: NOW,
      startGiven: false,
      endGiven: false,
      nowMs: NOW,
    })
    expect(w).toEqual({ ok: true, slot: HOUR, basis: 'last_complete_hour' })
    // Exactly on the hour, the last complete hour is the one that just ended.
    expect(
      shapeCheckWindow({
        startMs: HOUR - DAY_MS,
        endMs: HOUR,
        startGiven: false,
        endGiven: false,
        nowMs: HOUR,
      }),
    ).toEqual({ ok: true, slot: HOUR, basis: 'last_complete_hour' })
  })

  it('takes a given window literally: a whole hour in the past, with or without its start', () => {
    const end = HOUR - 3 * HOUR_MS
    for (const startGiven of [false, true])
      expect(
        shapeCheckWindow({ startMs: end - DAY_MS, endMs: end, startGiven, endGiven: true, nowMs: NOW }),
      ).toEqual({ ok: true, slot: end, basis: 'requested' })
    expect(
      shapeCheckWindow({
        startMs: HOUR - DAY_MS,
        endMs: HOUR,
        startGiven: false,
        endGiven: true,
        nowMs: HOUR,
      }),
    ).toMatchObject({ ok: true, slot: HOUR })
  })

  it('names the field and the reason of a window it cannot judge', () => {
    const cases: [string, Parameters<typeof shapeCheckWindow>[0], string, RegExp][] = [
      [
        'an end off the hour',
        { startMs: NOW - 2 * DAY_MS, endMs: NOW - DAY_MS, startGiven: false, endGiven: true, nowMs: NOW },
        'current_end',
        /whole hour/,
      ],
      [
        'an end still to come',
        {
          startMs: HOUR + HOUR_MS - DAY_MS,
          endMs: HOUR + HOUR_MS,
          startGiven: false,
          endGiven: true,
          nowMs: NOW,
        },
        'current_end',
        /future/,
      ],
      [
        'a window of 23 hours',
        { startMs: HOUR - 23 * HOUR_MS, endMs: HOUR, startGiven: true, endGiven: true, nowMs: NOW },
        'current_start',
        /exactly 24 hours/,
      ],
      [
        'a window of 2 days',
        { startMs: HOUR - 2 * DAY_MS, endMs: HOUR, startGiven: true, endGiven: true, nowMs: NOW },
        'current_start',
        /exactly 24 hours/,
      ],
      [
        'a start without an end',
        { startMs: HOUR - DAY_MS, endMs: NOW, startGiven: true, endGiven: false, nowMs: NOW },
        'current_end',
        /required with current_start/,
      ],
    ]
    for (const [name, input, field, reason] of cases) {
      const w = shapeCheckWindow(input)
      expect(w.ok, name).toBe(false)
      if (!w.ok) {
        expect(w.field, name).toBe(field)
        expect(w.reason, name).toMatch(reason)
      }
    }
  })
})
