// `npm run eval`: replays labelled series through ingest -> hourly detection runs -> incidents, and scores the
// incident openings against the labels, per detector configuration and dataset. See docs/detection.md.
// Detectors are spread over worker processes (the embedded engine takes one data directory per process).
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type EvalDataset, NAB_DIR, nabDataset, syntheticDataset } from './datasets.js'
import { EVAL_DETECTORS } from './detectors.js'
import { ingestDataset, replay } from './replay.js'
import { detectionStats, nabScore, PROFILES, type SeriesAlerts } from './scoring.js'

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    detectors: { type: 'string', default: Object.keys(EVAL_DETECTORS).join(',') },
    datasets: { type: 'string', default: 'synthetic,nab' },
    'nab-dir': { type: 'string', default: NAB_DIR },
    parallel: { type: 'string', default: '2' },
    worker: { type: 'boolean', default: false },
  },
})
const log = (s: string) => process.stderr.write(`${s}\n`)
const detectorNames = (args.detectors as string).split(',').filter(Boolean)
for (const d of detectorNames) {
  if (!EVAL_DETECTORS[d])
    throw new Error(`unknown detector '${d}'; known: ${Object.keys(EVAL_DETECTORS).join(', ')}`)
}

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
  replaySeconds: number
}

async function evaluate(detectors: string[]): Promise<Row[]> {
  // A dataset group is scored as one: the synthetic seeds together, NAB on its own.
  const groups: { name: string; datasets: EvalDataset[] }[] = []
  const wanted = (args.datasets as string).split(',')
  if (wanted.includes('synthetic')) {
    const seeds = (args.seeds as string).split(',').map(Number)
    groups.push({ name: 'synthetic', datasets: seeds.map((s) => syntheticDataset(s)) })
  }
  if (wanted.includes('nab'))
    groups.push({ name: 'nab', datasets: [await nabDataset(args['nab-dir'] as string)] })
  const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-eval-'))
  const rows: Row[] = []
  try {
    for (const group of groups) {
      for (const dataset of group.datasets) await ingestDataset(dataDir, dataset)
      for (const detector of detectors) {
        const scored: SeriesAlerts[] = []
        const kinds: Record<string, { found: number; total: number }> = {}
        let seconds = 0
        for (const dataset of group.datasets) {
          const result = await replay(dataDir, dataset, detector, EVAL_DETECTORS[detector] as never)
          seconds += result.seconds
          for (const s of dataset.series) {
            const alerts = result.alerts.get(s.key) ?? []
            scored.push({ key: s.key, timestamps: s.timestamps, windows: s.windows, alerts })
            s.windows.forEach(([a, b], i) => {
              const kind = s.kinds[i] ?? 'unknown'
              const entry = kinds[kind] ?? { found: 0, total: 0 }
              kinds[kind] = entry
              entry.total++
              if (alerts.some((t) => t >= a && t <= b)) entry.found++
            })
          }
        }
        const stats = detectionStats(scored)
        const row: Row = {
          detector,
          dataset: group.name,
          windows: stats.windows,
          detected: stats.detected,
          falseAlarms: stats.falseAlarms,
          falseAlarmsPerSeriesWeek: stats.falseAlarmsPerSeriesWeek,
          meanDelayHours: stats.meanDelayMs === null ? null : stats.meanDelayMs / 3_600_000,
          nabStandard: nabScore(scored, PROFILES.standard).normalized,
          nabRewardLowFp: nabScore(scored, PROFILES.reward_low_fp).normalized,
          recallByKind: Object.fromEntries(
            Object.entries(kinds).map(([k, v]) => [k, `${v.found}/${v.total}`]),
          ),
          replaySeconds: seconds,
        }
        rows.push(row)
        log(
          `  ${detector} / ${group.name}: ${row.detected}/${row.windows} windows, NAB ${row.nabStandard.toFixed(1)} (${seconds.toFixed(0)} s)`,
        )
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
  return rows
}

function runWorker(detectors: string[]): Promise<Row[]> {
  const forwarded = ['seeds', 'datasets', 'nab-dir'].flatMap((k) => [
    `--${k}`,
    String(args[k as keyof typeof args]),
  ])
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'eval/run.ts', '--worker', '--detectors', detectors.join(','), ...forwarded],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (c) => {
    out += c
  })
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Row[]) : reject(new Error(`eval worker exited ${code}`)),
    ),
  )
}

if (args.worker) {
  process.stdout.write(JSON.stringify(await evaluate(detectorNames)))
} else {
  const workers = Math.max(1, Math.min(Number(args.parallel), detectorNames.length))
  log(
    `eval: ${detectorNames.length} detectors x datasets ${args.datasets} (seeds ${args.seeds}) in ${workers} processes`,
  )
  const shares = Array.from({ length: workers }, (_, i) => detectorNames.filter((_, j) => j % workers === i))
  const rows = (await Promise.all(shares.map(runWorker))).flat()
  rows.sort(
    (a, b) =>
      a.dataset.localeCompare(b.dataset) ||
      detectorNames.indexOf(a.detector) - detectorNames.indexOf(b.detector),
  )
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
  for (const r of rows.filter((x) => x.dataset === 'synthetic')) {
    log(
      `recall by kind, ${r.detector}: ${Object.entries(r.recallByKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    )
  }
  mkdirSync('eval/results', { recursive: true })
  writeFileSync(
    'eval/results/latest.json',
    `${JSON.stringify({ measuredAt: new Date().toISOString(), args, rows }, null, 2)}\n`,
  )
  log('written to eval/results/latest.json')
}
