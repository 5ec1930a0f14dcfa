type Report = Record<string, unknown> & {
  baseline?: { mean?: number; stddev?: number; samples?: number }
  current_window?: { start?: string; end?: string }
  fired?: string[]
  volume?: Record<string, unknown>
  shape?: Record<string, unknown> & { window?: { start?: string; end?: string } }
}

const number = (v: unknown) =>
  typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '-'
const similarity = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : '-')

/** A human summary of a check; `--json` prints the API body instead. */
export function printCheck(report: Report): void {
  const verdict =
    report.status === 'insufficient_data'
      ? 'INSUFFICIENT DATA'
      : report.is_anomaly
        ? `ANOMALY (${report.severity}, ${report.direction})`
        : 'normal'
  console.log(`${report.customer_id} / ${report.metric}: ${verdict}`)
  if (report.fired && report.fired.length > 0) console.log(`  fired         ${report.fired.join(', ')}`)
  if (report.detector === 'job' && typeof report.window === 'string') {
    const calibrated =
      typeof report.calibrated_threshold === 'number'
        ? `, calibrated |z| needed ${number(report.calibrated_threshold)}`
        : ''
    const unchecked = report.checked === false ? '; the job does not check this series' : ''
    console.log(
      `  detector      job, slot ${report.slot}: the ${report.window} window decided${calibrated}${unchecked}`,
    )
  }
  console.log(`  window        ${report.current_window?.start} .. ${report.current_window?.end}`)
  console.log(`  current       ${number(report.current_value)}`)
  console.log(
    `  baseline      mean ${number(report.baseline?.mean)}, stddev ${number(report.baseline?.stddev)}, ${report.baseline?.samples ?? 0} samples`,
  )
  if (report.volume || !report.shape)
    console.log(
      `  z-score       ${number(report.z_score)} (threshold ${report.threshold}, critical ${report.critical_threshold})`,
    )
  if (typeof report.message === 'string') console.log(`  note          ${report.message}`)
  if (report.shape) printShape(report.shape)
}

function printShape(shape: NonNullable<Report['shape']>): void {
  if (shape.status === 'not_evaluated') {
    console.log(`  shape         not evaluated: ${shape.message}`)
    return
  }
  const verdict =
    shape.status === 'insufficient_data'
      ? 'insufficient data'
      : shape.is_anomaly
        ? `ANOMALY (${shape.severity}, ${shape.direction})`
        : 'normal'
  console.log(`  shape         ${verdict}, window ${shape.window?.start} .. ${shape.window?.end}`)
  if (shape.status === 'ok') {
    const below = (shape.similarity as number) < (shape.threshold as number)
    console.log(
      `  similarity    ${similarity(shape.similarity)} ${below ? '<' : '>='} threshold ${shape.threshold} (${shape.variant}, ${shape.baseline_weeks} baseline weeks; most different at ${String(shape.deviation_hour).padStart(2, '0')}:00 UTC)`,
    )
  } else if (typeof shape.message === 'string') console.log(`  shape note    ${shape.message}`)
}
