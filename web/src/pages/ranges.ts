import { h } from '../dom'

const HOUR = 3_600_000

export const RANGES = [
  { key: '24h', label: '24 h', ms: 24 * HOUR },
  { key: '7d', label: '7 d', ms: 7 * 24 * HOUR },
  { key: '30d', label: '30 d', ms: 30 * 24 * HOUR },
] as const

export type RangeKey = (typeof RANGES)[number]['key']

export function rangeMs(key: string): number {
  return (RANGES.find((r) => r.key === key) ?? RANGES[1]).ms
}

/** 24 h / 7 d / 30 d as links (the range lives in the URL). */
export function rangeLinks(href: (key: RangeKey) => string, current: string): HTMLElement {
  return h(
    'nav',
    { class: 'segmented', 'aria-label': 'Time range' },
    RANGES.map((r) =>
      h('a', { href: href(r.key), 'aria-current': r.key === current ? 'true' : undefined }, r.label),
    ),
  )
}
