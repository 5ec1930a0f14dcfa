import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'

const problem = (env: Record<string, string>, overrides = {}): string => {
  try {
    loadConfig(env, overrides)
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.join('\n')
    throw err
  }
  return 'accepted'
}

describe('numeric settings', () => {
  it('are finite and bounded, and the error names the variable', () => {
    expect(problem({ METERFLOW_THRESHOLD: '1e309' })).toMatch(/detection\.threshold \(METERFLOW_THRESHOLD\)/)
    expect(problem({ METERFLOW_THRESHOLD: '1e7' })).toMatch(/METERFLOW_THRESHOLD/)
    expect(problem({ METERFLOW_MIN_RELATIVE_STDDEV: 'Infinity' })).toMatch(/METERFLOW_MIN_RELATIVE_STDDEV/)
    expect(problem({ METERFLOW_MIN_SAMPLES: '100000' })).toMatch(/METERFLOW_MIN_SAMPLES/)
    expect(problem({ METERFLOW_BASELINE_DAYS: '1e309' })).toMatch(/METERFLOW_BASELINE_DAYS/)
    expect(problem({ METERFLOW_DEMO_SEED: '1e300' })).toMatch(/METERFLOW_DEMO_SEED/)
    expect(problem({}, { detection: { minAbsoluteStddev: 1e300 } })).toMatch(/minAbsoluteStddev/)
  })

  it('keep durations below what a Node timer can wait', () => {
    for (const key of ['timeoutMs', 'retryMaxMs', 'deliveryIntervalMs', 'jobSlowMs']) {
      expect(problem({}, { alerts: { [key]: 2 ** 31 } }), key).toMatch(new RegExp(`alerts\\.${key}`))
    }
  })

  it('take the documented defaults and values inside the ranges', () => {
    const config = loadConfig({ METERFLOW_THRESHOLD: '4', METERFLOW_CRITICAL_THRESHOLD: '1000000' })
    expect(config.detection).toMatchObject({ threshold: 4, criticalThreshold: 1_000_000, baselineDays: 30 })
  })
})

describe('demo settings', () => {
  it('feed the demo while it is on, unless METERFLOW_DEMO_FEED=0; a bad flag names the variable', () => {
    expect(loadConfig({}).demo).toMatchObject({ enabled: true, feed: true })
    expect(loadConfig({ METERFLOW_DEMO_FEED: '0' }).demo).toMatchObject({ enabled: true, feed: false })
    expect(problem({ METERFLOW_DEMO_FEED: 'sometimes' })).toMatch(/demo\.feed \(METERFLOW_DEMO_FEED\)/)
  })
})

describe('sharded runs', () => {
  it('need a queue for the shard tasks, and a bounded number of shards', () => {
    expect(problem({ METERFLOW_JOB_SHARDS: '4' })).toMatch(
      /job\.shardQueueUrl \(METERFLOW_SHARD_QUEUE_URL\): required/,
    )
    expect(problem({ METERFLOW_JOB_SHARDS: '0' })).toMatch(/METERFLOW_JOB_SHARDS/)
    expect(problem({ METERFLOW_JOB_SHARDS: '1e6', METERFLOW_SHARD_QUEUE_URL: 'https://sqs.x/q' })).toMatch(
      /METERFLOW_JOB_SHARDS/,
    )
    const config = loadConfig({
      METERFLOW_JOB_SHARDS: '8',
      METERFLOW_SHARD_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/meterflow-shards',
    })
    expect(config.job).toMatchObject({ shards: 8 })
  })
})

describe('the shape signal', () => {
  it('is off by default, with the declared defaults, and switched on by METERFLOW_SHAPE_ENABLED', () => {
    expect(loadConfig({}).detection.shape).toEqual({
      enabled: false,
      variant: 'mean',
      threshold: 0.9,
      criticalThreshold: 0.7,
      baselineWeeks: 4,
      minBaselineWeeks: 2,
      minDailyVolume: 240,
    })
    const on = loadConfig({ METERFLOW_SHAPE_ENABLED: 'true', METERFLOW_SHAPE_THRESHOLD: '0.8' }).detection
      .shape
    expect(on).toMatchObject({ enabled: true, threshold: 0.8 })
  })

  it('refuses values outside their declarations and the relations between them, naming the setting', () => {
    expect(problem({ METERFLOW_SHAPE_THRESHOLD: '1.5' })).toMatch(
      /detection\.shape\.threshold \(METERFLOW_SHAPE_THRESHOLD\)/,
    )
    expect(problem({}, { detection: { shape: { baselineWeeks: 13 } } })).toMatch(
      /detection\.shape\.baselineWeeks/,
    )
    expect(problem({}, { detection: { shape: { threshold: 0.6 } } })).toMatch(
      /detection\.shape\.criticalThreshold: must be at most threshold \(0\.6\)/,
    )
    expect(problem({}, { detection: { shape: { baselineWeeks: 2, minBaselineWeeks: 3 } } })).toMatch(
      /detection\.shape\.minBaselineWeeks/,
    )
  })
})

describe('the shape index', () => {
  it('is embedded by default, with Redis settings ready for METERFLOW_SHAPE_INDEX=redis', () => {
    expect(loadConfig({}).shapeIndex).toEqual({
      kind: 'embedded',
      redis: { keyPrefix: 'meterflow:shape:', retentionWeeks: 8, maxPipeline: 10_000 },
    })
    const redis = loadConfig({
      METERFLOW_SHAPE_INDEX: 'redis',
      METERFLOW_REDIS_URL: 'redis://cache.internal:6379',
      METERFLOW_SHAPE_RETENTION_WEEKS: '10',
      METERFLOW_SHAPE_KEY_PREFIX: 'mf:',
    }).shapeIndex
    expect(redis).toEqual({
      kind: 'redis',
      redis: {
        url: 'redis://cache.internal:6379',
        keyPrefix: 'mf:',
        retentionWeeks: 10,
        maxPipeline: 10_000,
      },
    })
  })

  it('refuses redis without a URL, an unknown kind, and a retention not longer than the baseline', () => {
    expect(problem({ METERFLOW_SHAPE_INDEX: 'redis' })).toMatch(
      /shapeIndex\.redis\.url \(METERFLOW_REDIS_URL\): required when/,
    )
    expect(problem({ METERFLOW_SHAPE_INDEX: 'faiss' })).toMatch(/shapeIndex\.kind \(METERFLOW_SHAPE_INDEX\)/)
    expect(
      problem(
        {
          METERFLOW_SHAPE_INDEX: 'redis',
          METERFLOW_REDIS_URL: 'redis://localhost',
          METERFLOW_SHAPE_RETENTION_WEEKS: '4',
        },
        { detection: { shape: { baselineWeeks: 4 } } },
      ),
    ).toMatch(/shapeIndex\.redis\.retentionWeeks \(METERFLOW_SHAPE_RETENTION_WEEKS\): must be more than/)
    expect(problem({ METERFLOW_SHAPE_RETENTION_WEEKS: '1' })).toMatch(/retentionWeeks/)
  })
})
