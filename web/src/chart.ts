import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { Anomaly, Series } from './api'
import { h, num, z } from './dom'

const COLORS = {
  value: '#1d4ed8',
  mean: '#475569',
  band: 'rgba(71, 85, 105, 0.16)',
  bandEdge: 'rgba(71, 85, 105, 0.55)',
  critical: '#b91c1c',
  warning: '#b45309',
}

/** Charts resize with their container (phones included). */
export function responsive(plot: uPlot, container: HTMLElement, height: number): void {
  const observer = new ResizeObserver(() => {
    const width = Math.max(240, Math.floor(container.clientWidth))
    if (width !== plot.width) plot.setSize({ width, height })
  })
  observer.observe(container)
}

const seconds = (iso: string) => Date.parse(iso) / 1000

/**
 * The usage series with the detector's baseline mean, the threshold band (mean -/+ threshold x stddev) and the
 * stored anomalies as markers (their z in the legend).
 */
export function seriesChart(container: HTMLElement, series: Series, anomalies: Anomaly[]): uPlot {
  const points = series.points
  const bySlot = new Map(anomalies.map((a) => [a.detected_at, a]))
  const xs = points.map((p) => seconds(p.slot))
  const markers = points.map((p) => (bySlot.has(new Date(p.slot).toISOString()) ? p.value : null))
  const markerZ = points.map((p) => bySlot.get(new Date(p.slot).toISOString())?.z_score ?? null)
  const height = 320
  const windowLabel = series.window === 'day' ? '24 h' : '1 h'
  const plot = new uPlot(
    {
      width: Math.max(240, container.clientWidth || 600),
      height,
      cursor: { focus: { prox: 24 } },
      legend: { live: true },
      scales: { x: { time: true } },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => num(t)), size: 64 }],
      series: [
        {},
        {
          label: `${series.metric} (${windowLabel} ${series.aggregation})`,
          stroke: COLORS.value,
          width: 2,
          points: { show: false },
          value: (_u, v) => num(v),
        },
        {
          label: 'baseline mean',
          stroke: COLORS.mean,
          dash: [6, 4],
          width: 1.5,
          points: { show: false },
          value: (_u, v) => num(v),
        },
        {
          label: `band low (−${series.threshold}σ)`,
          stroke: COLORS.bandEdge,
          width: 1,
          points: { show: false },
          value: (_u, v) => num(v),
        },
        {
          label: `band high (+${series.threshold}σ)`,
          stroke: COLORS.bandEdge,
          width: 1,
          points: { show: false },
          value: (_u, v) => num(v),
        },
        {
          label: 'anomaly',
          stroke: COLORS.critical,
          fill: COLORS.critical,
          paths: () => null,
          points: { show: true, size: 11, width: 2, fill: '#fff', stroke: COLORS.critical },
          value: (_u, v, _s, i) =>
            v === null || i === null ? '—' : `${num(v)} (z ${z(markerZ[i] ?? null)})`,
        },
      ],
      bands: [{ series: [4, 3], fill: COLORS.band }],
    },
    [
      xs,
      points.map((p) => p.value),
      points.map((p) => (p.status === 'ok' ? p.baseline_mean : null)),
      points.map((p) => (p.lower === null ? null : Math.max(0, p.lower))),
      points.map((p) => p.upper),
      markers,
    ],
    container,
  )
  responsive(plot, container, height)
  return plot
}

/** Anomalies per time bucket, warning and critical stacked. */
export function histogram(
  container: HTMLElement,
  buckets: number[],
  warning: number[],
  critical: number[],
): uPlot {
  const height = 220
  const total = warning.map((w, i) => w + (critical[i] ?? 0))
  const bars = uPlot.paths.bars?.({ size: [0.8, 24] })
  const plot = new uPlot(
    {
      width: Math.max(240, container.clientWidth || 600),
      height,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { size: 40 }],
      series: [
        {},
        {
          label: 'all anomalies',
          stroke: COLORS.warning,
          fill: 'rgba(180, 83, 9, 0.35)',
          paths: bars,
          points: { show: false },
        },
        {
          label: 'critical',
          stroke: COLORS.critical,
          fill: 'rgba(185, 28, 28, 0.7)',
          paths: bars,
          points: { show: false },
        },
      ],
    },
    [buckets.map((b) => b / 1000), total, critical],
    container,
  )
  responsive(plot, container, height)
  return plot
}

/** The z-scores of the markers, as text (a chart alone is not readable by everyone). */
export function markerList(anomalies: Anomaly[]): HTMLElement | null {
  if (anomalies.length === 0) return null
  return h(
    'p',
    { class: 'marker-list' },
    `Anomalies in this range: ${anomalies.length} (largest |z| ${z(
      anomalies.reduce((m, a) => (Math.abs(a.z_score ?? 0) > Math.abs(m) ? (a.z_score ?? 0) : m), 0),
    )}).`,
  )
}
