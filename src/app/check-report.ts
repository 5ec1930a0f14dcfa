import { toIso } from '../domain/time.js'
import type { CheckResult } from './check-anomaly.js'

/** The seed's field names, plus what a reader needs to trust the verdict. */
export function checkReport(result: CheckResult) {
  const { verdict, options } = result
  const body = {
    customer_id: result.customerId,
    metric: result.metric,
    aggregation: result.aggregation,
    status: verdict.status,
    is_anomaly: verdict.isAnomaly,
    severity: verdict.severity,
    direction: verdict.isAnomaly ? verdict.direction : null,
    current_value: verdict.currentValue,
    z_score: verdict.zScore,
    baseline: {
      mean: verdict.baseline.mean,
      stddev: verdict.baseline.stddev,
      effective_stddev: verdict.baseline.effectiveStddev,
      samples: verdict.baseline.samples,
      min_samples: options.minSamples,
      window: result.baselineSpan
        ? { start: toIso(result.baselineSpan.startMs), end: toIso(result.baselineSpan.endMs) }
        : null,
    },
    current_window: { start: toIso(result.current.startMs), end: toIso(result.current.endMs) },
    baseline_days: result.baselineDays,
    threshold: options.threshold,
    critical_threshold: options.criticalThreshold,
    method: 'zscore',
  }
  if (verdict.status === 'insufficient_data') {
    return {
      ...body,
      message: `only ${verdict.baseline.samples} baseline sample(s) in the last ${result.baselineDays} days; at least ${options.minSamples} are needed for a verdict`,
    }
  }
  return body
}
