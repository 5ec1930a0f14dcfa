import type { DetectorConfig } from '../domain/detector.js'
import type { SeriesWindowReads } from '../ports.js'

/**
 * What the job asks the store to read beyond the day windows: the most recent hours any detector needs (0: none uses
 * the recent window) and whether any uses the hour window. A customer's override counts with every metric's detector
 * under it, since it may switch a window on or lengthen it.
 */
export function windowReadsNeeded(
  detectors: readonly DetectorConfig[],
  overrides: readonly Partial<DetectorConfig>[],
): Required<Pick<SeriesWindowReads, 'recentHours' | 'hourWindow'>> {
  let recentHours = 0
  let hourWindow = false
  for (const base of detectors) {
    for (const override of [null, ...overrides]) {
      const d = override ? { ...base, ...override } : base
      if (d.windows.includes('recent')) recentHours = Math.max(recentHours, d.recentHours)
      if (d.windows.includes('hour')) hourWindow = true
    }
  }
  return { recentHours, hourWindow }
}
