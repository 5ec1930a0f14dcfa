import { describe, expect, it } from 'vitest'
import { MetricRegistry, SEED_METRICS } from './metrics.js'

describe('metric registry', () => {
  it('holds the seed metrics with their aggregations', () => {
    const registry = new MetricRegistry(SEED_METRICS)
    expect(registry.names()).toEqual(['api_calls', 'bandwidth', 'compute_time', 'storage_peak'])
    expect(registry.get('storage_peak')?.aggregation).toBe('max')
    expect(registry.get('bandwidth')?.aggregation).toBe('sum')
  })

  it('adds a registered metric without changing the original', () => {
    const registry = new MetricRegistry(SEED_METRICS)
    const next = registry.with({
      name: 'gpu_seconds',
      aggregation: 'sum',
      description: '',
      unit: 's',
      builtin: false,
    })
    expect(next.has('gpu_seconds')).toBe(true)
    expect(registry.has('gpu_seconds')).toBe(false)
  })
})
