import { describe, expect, it } from 'vitest'
import { combineVerdicts, isCheckMode, modeSignals } from './combined-verdict.js'
import type { SignalVerdict } from './signal.js'
import type { SignalKind } from './signal-registry.js'

const verdict = (
  kind: SignalKind,
  over: Partial<SignalVerdict<SignalKind>> = {},
): SignalVerdict<SignalKind> => ({
  kind,
  status: 'ok',
  isAnomaly: false,
  severity: null,
  direction: null,
  currentValue: 100,
  statistic: 0.5,
  ...over,
})
const firing = (kind: SignalKind, severity: 'warning' | 'critical', direction: 'spike' | 'drop') =>
  verdict(kind, { isAnomaly: true, severity, direction })

describe('combineVerdicts', () => {
  it('fires when any signal fires: the highest severity, the first firing direction', () => {
    expect(combineVerdicts([verdict('volume'), firing('shape', 'warning', 'drop')])).toEqual({
      isAnomaly: true,
      severity: 'warning',
      direction: 'drop',
      fired: ['shape'],
      judged: true,
    })
    expect(
      combineVerdicts([firing('volume', 'warning', 'spike'), firing('shape', 'critical', 'drop')]),
    ).toEqual({
      isAnomaly: true,
      severity: 'critical',
      direction: 'spike',
      fired: ['volume', 'shape'],
      judged: true,
    })
  })

  it('is clean when none fires and judged only when some signal had a verdict', () => {
    expect(combineVerdicts([verdict('volume'), verdict('shape')])).toMatchObject({
      isAnomaly: false,
      judged: true,
    })
    const none = combineVerdicts([
      verdict('volume', { status: 'insufficient_data', statistic: null }),
      verdict('shape', { status: 'insufficient_data', statistic: null }),
    ])
    expect(none).toEqual({ isAnomaly: false, severity: null, direction: null, fired: [], judged: false })
    expect(combineVerdicts([])).toMatchObject({ isAnomaly: false, judged: false })
  })
})

describe('check modes', () => {
  it('evaluates the signals the mode names, volume first', () => {
    expect(modeSignals('volume')).toEqual(['volume'])
    expect(modeSignals('shape')).toEqual(['shape'])
    expect(modeSignals('combined')).toEqual(['volume', 'shape'])
    expect(isCheckMode('combined')).toBe(true)
    expect(isCheckMode('both')).toBe(false)
  })
})
