// `npm run eval`: replays labelled series through ingest -> hourly detection runs -> incidents, and scores the
// incident openings against the labels, per detector configuration and dataset. See docs/detection.md.
// Datasets are spread over worker processes (the embedded engine takes one data directory per process); each
// worker replays every configuration over its dataset, sharing the engine's reads between them (shared-reads.ts).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { type EvalDataset, NAB_DIR, nabDataset, syntheticDataset } from './datasets.js'
import { DEFAULT_COMPARISON, DEFAULT_EVAL_DETECTORS, EVAL_DETECTORS, SHAPE_COMPARISON } from './detectors.js'
import { ingestDataset, replay } from './replay.js'
import { detectionStats, nabScore, PROFILES, type SeriesAlerts } from './scoring.js'
import { SharedReads } from './shared-reads.js'

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    /** Comma-separated configuration names (eval/detectors.ts), or `all`; default: the two comparisons. */
    detectors: { type: 'string', default: DEFAULT_EVAL_DETECTORS.join(',') },
    datasets: { type: 'string', default: 'synthetic,nab' },
    'nab-dir': { type: 'string', default: NAB_DIR },
    parallel: { type: 'string', default: '2' },
    /** `on`: the engine answers each slot's reads once per dataset for all configurations (shared-reads.ts). */
    'shared-reads': { type: 'string', default: 'on' },
    /** Where the engine's data and the SQLite stores live; default: memory-backed /dev/shm when there is one. */
    'tmp-dir': { type: 'string', default: existsSync('/dev/shm') ? '/dev/shm' : tmpdir() },
    out: { type: 'string', default: 'eval/results/latest.json' },
    worker: { type: 'string' },
  },
})
const log = (s: string) => process.stderr.write(`${s}\n`)
const detectorNames =
  args.detectors === 'all'
    ? Object.keys(EVAL_DETECTORS)
    : (args.detectors as string).split(',').filter(Boolean)
for (const d of detectorNames) {
  if (!EVAL_DETECTORS[d])
    throw new Error(`unknown detector '${d}'; known: ${Object.keys(EVAL_DETECTORS).join(', ')}`)
}
if (!['on', 'off'].includes(args['shared-reads'] as string))
  throw new Error(`--shared-reads must be on or off, got '${args['shared-reads']}'`)

interface Row {
  detector: string
  dataset: string
  windows: number
  detected: number
  falseAlarms: number
  falseAlarmsPerSeriesWeek: number
  meanDelayHours: number | null
  nabStandard: number
  nabRewardLowFp: number
  recallByKind: Record<string, string>
  /** NAB: the same figures per category (the key's folder), so a gain or loss can be placed. */
  byCategory?: Record<string, CategoryFigures>
  /** NAB: per series, windows found of total and false alarms (to see which windows are missed). */
  bySeries?: Record<string, string>
  replaySeconds: number
}

interface CategoryFigures {
  detected: string
  falseAlarmsPerSeriesWeek: number
  nabStandard: number
  nabRewardLowFp: number
}

/** One configuration replayed over one dataset, as a worker reports it. */
interface DatasetReplay {
  detector: string
  alerts: Record<string, number[]>
  seconds: number
}

/** The datasets, grouped as they are scored: the synthetic seeds together, NAB on its own. */
async function datasetGroups(): Promise<{ name: string; datasets: EvalDataset[] }[]> {
  const groups: { name: string; datasets: EvalDataset[] }[] = []
  const wanted = (args.datasets as string).split(',')
  if (wanted.includes('synthetic')) {
    const seeds = (args.seeds as string).split(',').map(Number)
    groups.push({ name: 'synthetic', datasets: seeds.map((s) => syntheticDataset(s)) })
  }
  if (wanted.includes('nab'))
    groups.push({ name: 'nab', datasets: [await nabDataset(args['nab-dir'] as string)] })
  return groups
}

/** A worker's job: ingest one dataset, replay every configuration over it (sharing the engine's reads). */
async function replayDataset(dataset: EvalDataset, detectors: string[]): Promise<DatasetReplay[]> {
  const dataDir = mkdtempSync(join(args['tmp-dir'] as string, 'meterflow-eval-'))
  const reads = args['shared-reads'] === 'on' ? new SharedReads(detectors.length) : undefined
  const replays: DatasetReplay[] = []
  try {
    await ingestDataset(dataDir, dataset)
    for (const detector of detectors) {
      const result = await replay(dataDir, dataset, detector, EVAL_DETECTORS[detector] as never, reads)
      replays.push({ detector, alerts: Object.fromEntries(result.alerts), seconds: result.seconds })
      log(`  ${detector} / ${dataset.name}: ${result.runs} runs in ${result.seconds.toFixed(0)} s`)
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
  return replays
}

/** Scores one configuration over a group from its replays of the group's datasets (in dataset order). */
function score(detector: string, group: string, datasets: EvalDataset[], replays: DatasetReplay[]): Row {
  const scored: SeriesAlerts[] = []
  const kinds: Record<string, { found: number; total: number }> = {}
  let seconds = 0
  datasets.forEach((dataset, i) => {
    const result = replays[i] as DatasetReplay
    seconds += result.seconds
    for (const s of dataset.series) {
      const alerts = result.alerts[s.key] ?? []
      scored.push({ key: s.key, timestamps: s.timestamps, windows: s.windows, alerts })
      s.windows.forEach(([a, b], w) => {
        const kind = s.kinds[w] ?? 'unknown'
        const entry = kinds[kind] ?? { found: 0, total: 0 }
        kinds[kind] = entry
        entry.total++
        if (alerts.some((t) => t >= a && t <= b)) entry.found++
      })
    }
  })
  const stats = detectionStats(scored)
  const perCategory = group === 'nab' ? categoryFigures(scored) : undefined
  return {
    detector,
    dataset: group,
    windows: stats.windows,
    detected: stats.detected,
    falseAlarms: stats.falseAlarms,
    falseAlarmsPerSeriesWeek: stats.falseAlarmsPerSeriesWeek,
    meanDelayHours: stats.meanDelayMs === null ? null : stats.meanDelayMs / 3_600_000,
    nabStandard: nabScore(scored, PROFILES.standard).normalized,
    nabRewardLowFp: nabScore(scored, PROFILES.reward_low_fp).normalized,
    recallByKind: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, `${v.found}/${v.total}`])),
    ...perCategory,
    replaySeconds: seconds,
  }
}

/** NAB's figures per category (`<category>/<name>.csv`) and per series. */
function categoryFigures(scored: SeriesAlerts[]) {
  const categories = new Map<string, SeriesAlerts[]>()
  const bySeries: Record<string, string> = {}
  for (const s of scored) {
    const category = s.key.split('/')[0] ?? s.key
    categories.set(category, [...(categories.get(category) ?? []), s])
    const one = detectionStats([s])
    bySeries[s.key] = `${one.detected}/${one.windows} found, ${one.falseAlarms} false alarms`
  }
  const byCategory: Record<string, CategoryFigures> = {}
  for (const [category, series] of [...categories].sort(([a], [b]) => a.localeCompare(b))) {
    const stats = detectionStats(series)
    byCategory[category] = {
      detected: `${stats.detected}/${stats.windows}`,
      falseAlarmsPerSeriesWeek: stats.falseAlarmsPerSeriesWeek,
      nabStandard: series.some((s) => s.windows.length > 0)
        ? nabScore(series, PROFILES.standard).normalized
        : 0,
      nabRewardLowFp: series.some((s) => s.windows.length > 0)
        ? nabScore(series, PROFILES.reward_low_fp).normalized
        : 0,
    }
  }
  return { byCategory, bySeries }
}

/** Runs one dataset's replays in a child process: the embedded engine takes one data directory per process. */
function runWorker(dataset: string): Promise<DatasetReplay[]> {
  const forwarded = ['seeds', 'datasets', 'nab-dir', 'detectors', 'shared-reads', 'tmp-dir'].flatMap((k) => [
    `--${k}`,
    String(args[k as keyof typeof args]),
  ])
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'eval/run.ts', '--worker', dataset, ...forwarded],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (c) => {
    out += c
  })
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as DatasetReplay[])
        : reject(new Error(`eval worker for ${dataset} exited ${code}`)),
    ),
  )
}

/** Every dataset in its own worker, at most `parallel` at once, the longest replays first. */
async function replayAll(datasets: EvalDataset[]): Promise<Map<string, DatasetReplay[]>> {
  const hours = (d: EvalDataset) => (d.endMs - d.startMs) * d.series.length
  const queue = [...datasets].sort((a, b) => hours(b) - hours(a))
  const results = new Map<string, DatasetReplay[]>()
  const workers = Math.max(1, Math.min(Number(args.parallel), queue.length))
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift())
        results.set(d.name, await runWorker(d.name))
    }),
  )
  return results
}

const groups = await datasetGroups()
if (args.worker) {
  const dataset = groups.flatMap((g) => g.datasets).find((d) => d.name === args.worker)
  if (!dataset) throw new Error(`unknown dataset '${args.worker}'`)
  process.stdout.write(JSON.stringify(await replayDataset(dataset, detectorNames)))
} else {
  const datasets = groups.flatMap((g) => g.datasets)
  log(
    `eval: ${detectorNames.length} detectors x ${datasets.length} datasets (${args.datasets}, seeds ${args.seeds}) in ${Math.min(Number(args.parallel), datasets.length)} processes, shared reads ${args['shared-reads']}`,
  )
  const started = performance.now()
  const replays = await replayAll(datasets)
  const rows: Row[] = []
  for (const group of groups) {
    for (const detector of detectorNames) {
      const own = group.datasets.map(
        (d) => (replays.get(d.name) ?? []).find((r) => r.detector === detector) as DatasetReplay,
      )
      rows.push(score(detector, group.name, group.datasets, own))
    }
  }
  rows.sort(
    (a, b) =>
      a.dataset.localeCompare(b.dataset) ||
      detectorNames.indexOf(a.detector) - detectorNames.indexOf(b.detector),
  )
  log(`replayed in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  console.table(
    rows.map((r) => ({
      detector: r.detector,
      dataset: r.dataset,
      'detected/windows': `${r.detected}/${r.windows}`,
      'FA/series-week': r.falseAlarmsPerSeriesWeek.toFixed(3),
      'mean delay h': r.meanDelayHours === null ? '-' : r.meanDelayHours.toFixed(1),
      'NAB standard': r.nabStandard.toFixed(1),
      'NAB low-FP': r.nabRewardLowFp.toFixed(1),
    })),
  )
  const categoryRows = rows.flatMap((r) =>
    Object.entries(r.byCategory ?? {}).map(([category, c]) => ({
      detector: r.detector,
      category,
      'detected/windows': c.detected,
      'FA/series-week': c.falseAlarmsPerSeriesWeek.toFixed(3),
      'NAB standard': c.nabStandard.toFixed(1),
      'NAB low-FP': c.nabRewardLowFp.toFixed(1),
    })),
  )
  if (categoryRows.length > 0) console.table(categoryRows)
  for (const r of rows.filter((x) => x.dataset === 'synthetic')) {
    log(
      `recall by kind, ${r.detector}: ${Object.entries(r.recallByKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    )
  }
  const out = args.out as string
  const measuredAt = new Date().toISOString()
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify({ measuredAt, args, rows }, null, 2)}\n`)
  log(`written to ${out}`)
  if (DEFAULT_COMPARISON.every((c) => detectorNames.includes(c.detector))) {
    const defaultsOut = join(dirname(out), 'defaults.json')
    writeFileSync(
      defaultsOut,
      `${JSON.stringify({ measuredAt, args, ...defaultsComparison(rows) }, null, 2)}\n`,
    )
    log(`seed / old default / new default written to ${defaultsOut}`)
  }
  if (SHAPE_COMPARISON.every((c) => detectorNames.includes(c.detector))) {
    const shapeOut = join(dirname(out), 'shape.json')
    const shape = shapeComparison(rows)
    writeFileSync(shapeOut, `${JSON.stringify({ measuredAt, args, ...shape }, null, 2)}\n`)
    log(`shape comparison written to ${shapeOut}`)
  }
}

/**
 * Issue 13: the seed, the old default and the new default side by side, per dataset and per NAB category: one line
 * per dataset or category, each configuration's figures in its own columns.
 */
function defaultsComparison(rows: Row[]) {
  const of = (dataset: string, detector: string) =>
    rows.find((r) => r.dataset === dataset && r.detector === detector) as Row
  const figures = (f: CategoryFigures) => ({
    nabStandard: Number(f.nabStandard.toFixed(1)),
    nabRewardLowFp: Number(f.nabRewardLowFp.toFixed(1)),
    detected: f.detected,
    falseAlarmsPerSeriesWeek: Number(f.falseAlarmsPerSeriesWeek.toFixed(3)),
  })
  type Figures = ReturnType<typeof figures>
  const line = (scope: string, figuresOf: (detector: string) => CategoryFigures) => ({
    scope,
    ...(Object.fromEntries(
      DEFAULT_COMPARISON.map((c) => [c.label, figures(figuresOf(c.detector))]),
    ) as Record<(typeof DEFAULT_COMPARISON)[number]['label'], Figures>),
  })
  const table = [...new Set(rows.map((r) => r.dataset))].flatMap((dataset) => {
    const categories = Object.keys(of(dataset, DEFAULT_COMPARISON[0].detector).byCategory ?? {})
    return [
      line(dataset, (detector) => {
        const r = of(dataset, detector)
        return { ...r, detected: `${r.detected}/${r.windows}` }
      }),
      ...categories.map((category) =>
        line(
          `${dataset}: ${category}`,
          (detector) => of(dataset, detector).byCategory?.[category] as CategoryFigures,
        ),
      ),
    ]
  })
  log(
    'seed / old default (auto+floor5) / new default (the product default now): std / low-FP, found, FA/series-week',
  )
  console.table(
    table.map((l) => ({
      scope: l.scope,
      ...Object.fromEntries(
        DEFAULT_COMPARISON.map((c) => {
          const f = l[c.label]
          return [
            c.label,
            `${f.nabStandard.toFixed(1)} / ${f.nabRewardLowFp.toFixed(1)}, ${f.detected}, ${f.falseAlarmsPerSeriesWeek.toFixed(3)}`,
          ]
        }),
      ),
    })),
  )
  return { configurations: DEFAULT_COMPARISON, table }
}

/**
 * Issue 11, item 6: volume only, shape only and combined side by side per dataset, and the rule's verdict: combined
 * becomes the default only if it does not lose to volume only on either dataset (NAB standard score).
 */
function shapeComparison(rows: Row[]) {
  const table = rows.flatMap((r) => {
    const compared = SHAPE_COMPARISON.find((c) => c.detector === r.detector)
    if (!compared) return []
    return [
      {
        dataset: r.dataset,
        signals: compared.label,
        detector: r.detector,
        'detected/windows': `${r.detected}/${r.windows}`,
        'shape shifts': r.recallByKind.shape_shift ?? '-',
        'FA/series-week': r.falseAlarmsPerSeriesWeek.toFixed(3),
        'NAB standard': r.nabStandard.toFixed(1),
        'NAB low-FP': r.nabRewardLowFp.toFixed(1),
      },
    ]
  })
  console.table(table)
  const byDataset = [...new Set(rows.map((r) => r.dataset))].map((dataset) => {
    const of = (label: string) => {
      const detector = SHAPE_COMPARISON.find((c) => c.label === label)?.detector
      return rows.find((r) => r.dataset === dataset && r.detector === detector) as Row
    }
    const combined = of('combined')
    const volume = of('volume-only')
    return { dataset, loses: combined.nabStandard < volume.nabStandard }
  })
  const combinedWins = byDataset.every((d) => !d.loses)
  log(
    `shape: combined ${combinedWins ? 'does not lose' : 'loses'} to volume only (NAB standard; ${byDataset
      .map((d) => `${d.dataset}: ${d.loses ? 'loses' : 'does not lose'}`)
      .join(', ')}): ${combinedWins ? 'combined may become the default' : 'volume only stays the default'}`,
  )
  return { table, byDataset, combinedWins }
}
