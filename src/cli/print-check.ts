type Report = Record<string, unknown> & {
  baseline?: { mean?: number; stddev?: number; samples?: number }
  current_window?: { start?: string; end?: string }
}

const number = (v: unknown) =>
  typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '-'

/** A human summary of a check; `--json` prints the API body instead. */
export function printCheck(report: Report): void {
  const verdict =
    report.status === 'insufficient_data'
      ? 'INSUFFICIENT DATA'
      : report.is_anomaly
        ? `ANOMALY (${report.severity}, ${report.direction})`
        : 'normal'
  console.log(`${report.customer_id} / ${report.metric}: ${verdict}`)
  console.log(`  window        ${report.current_window?.start} .. ${report.current_window?.end}`)
  console.log(`  current       ${number(report.current_value)}`)
  console.log(
    `  baseline      mean ${number(report.baseline?.mean)}, stddev ${number(report.baseline?.stddev)}, ${report.baseline?.samples ?? 0} samples`,
  )
  console.log(
    `  z-score       ${number(report.z_score)} (threshold ${report.threshold}, critical ${report.critical_threshold})`,
  )
  if (typeof report.message === 'string') console.log(`  note          ${report.message}`)
}
