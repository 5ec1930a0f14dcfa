// `npx tsx bench/dashboard-paging.ts [anomalies=100000]`: the dashboard's tables at scale. Stores N anomalies
// (and one incident per 5) in the embedded SQLite store, then times the list routes the dashboard calls (through
// the HTTP app, serialization included): first pages with each filter, and 20 pages deep by cursor.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config.js'
import type { AnomalyRecord } from '../src/domain/anomaly.js'
import type { Incident } from '../src/domain/incident.js'
import { buildServer } from '../src/http/server.js'
import { openMeterFlow } from '../src/wiring.js'

const HOUR = 3_600_000
const METRICS = ['api_calls', 'bandwidth', 'compute_time', 'storage_peak']
const total = Number(process.argv[2] ?? 100_000)
const customers = Math.max(1, Math.round(total / 100))
const now = Math.floor(Date.now() / HOUR) * HOUR

const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-pagingbench-'))
const config = loadConfig(
  {},
  {
    dataDir,
    logLevel: 'warn',
    demo: { enabled: false },
    job: { schedulerEnabled: false },
    auth: { mode: 'off' },
  },
)
const meterflow = await openMeterFlow(config, { metrics: false })
try {
  const app = await buildServer(meterflow)
  const started = Date.now()
  const ttl = Math.floor(now / 1000) + 80 * 86_400
  let batch: AnomalyRecord[] = []
  let incidents: Incident[] = []
  for (let i = 0; i < total; i++) {
    const customerId = `customer-${String(i % customers).padStart(5, '0')}`
    const metric = METRICS[i % METRICS.length] as string
    // Spread over 60 days of hourly slots, newest first.
    const detectedAt = now - Math.floor(i / (customers * METRICS.length)) * HOUR - (i % 1440) * HOUR
    const severity = i % 7 === 0 ? 'critical' : 'warning'
    batch.push({
      kind: 'volume',
      customerId,
      metric,
      detectedAt,
      currentValue: 1000 + i,
      baselineMean: 500,
      baselineStddev: 50,
      zScore: 10,
      severity,
      direction: 'spike',
      windowStart: detectedAt - 24 * HOUR,
      windowEnd: detectedAt,
      samples: 30,
      incidentId: null,
      runId: 'bench',
      ttl,
    })
    if (i % 5 === 0) {
      incidents.push({
        id: `${customerId}|${metric}|${detectedAt}`,
        customerId,
        metric,
        status: i % 10 === 0 ? 'open' : 'resolved',
        severity,
        direction: 'spike',
        openedAt: detectedAt,
        lastSeenAt: detectedAt,
        resolvedAt: i % 10 === 0 ? null : detectedAt + 2 * HOUR,
        peakZScore: 10,
        lastZScore: 10,
        detections: 1,
        cleanRuns: 0,
        lastEvaluatedSlot: detectedAt,
        openedBySignal: 'volume',
        firingSignals: i % 10 === 0 ? ['volume'] : [],
        acknowledgedAt: null,
        acknowledgedBy: null,
        feedback: null,
      })
    }
    if (batch.length === 5000) {
      await meterflow.anomalies.putAnomalies(batch)
      await meterflow.anomalies.saveIncidents(incidents)
      batch = []
      incidents = []
    }
  }
  await meterflow.anomalies.putAnomalies(batch)
  await meterflow.anomalies.saveIncidents(incidents)
  console.log(`stored ${total} anomalies and ${Math.ceil(total / 5)} incidents in ${Date.now() - started} ms`)

  const time = async (url: string, runs = 15) => {
    const ms: number[] = []
    let items = 0
    for (let r = 0; r < runs; r++) {
      const t = performance.now()
      const res = await app.inject({ method: 'GET', url })
      ms.push(performance.now() - t)
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
      items = res.json().items.length
    }
    ms.sort((a, b) => a - b)
    return {
      url,
      items,
      p50_ms: Number(ms[Math.floor(ms.length / 2)]?.toFixed(1)),
      max_ms: Number(ms.at(-1)?.toFixed(1)),
    }
  }
  const deep = async (path: string) => {
    const t = performance.now()
    let cursor: string | undefined
    for (let page = 0; page < 20; page++) {
      const sep = path.includes('?') ? '&' : '?'
      const res = await app.inject({
        method: 'GET',
        url: `${path}${sep}limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      })
      cursor = res.json().next_cursor ?? undefined
      if (!cursor) break
    }
    return { url: `${path} (20 pages of 50)`, total_ms: Number((performance.now() - t).toFixed(1)) }
  }
  const week = new Date(now - 7 * 24 * HOUR).toISOString()
  const results = [
    await time('/v1/anomalies?limit=50'),
    await time('/v1/anomalies?limit=50&metric=bandwidth'),
    await time('/v1/anomalies?limit=50&customer_id=customer-00042'),
    await time(`/v1/anomalies?limit=50&severity=critical&since=${week}`),
    await time('/v1/anomalies?limit=1000'),
    await time('/v1/incidents?limit=50'),
    await time('/v1/incidents?limit=50&status=open'),
    await time('/v1/incidents?limit=50&metric=bandwidth&severity=critical'),
    await time('/v1/incidents?limit=50&customer_id=customer-00040'),
    await time(`/v1/incidents?limit=50&since=${week}&status=open`),
    await deep('/v1/anomalies'),
    await deep('/v1/anomalies?metric=api_calls'),
    await deep('/v1/incidents?status=open'),
  ]
  for (const r of results) console.log(JSON.stringify(r))
  await app.close()
} finally {
  await meterflow.close()
  rmSync(dataDir, { recursive: true, force: true })
}
