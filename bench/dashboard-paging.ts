// `npx tsx bench/dashboard-paging.ts [anomalies=100000] [dynamodb-anomalies=20000]`: the dashboard's tables at
// scale. Stores N anomalies (and one incident per 5) in the embedded SQLite store, then times the list routes the
// dashboard calls (through the HTTP app, serialization included): first pages with each filter and order, and 20
// pages deep by cursor. Then the same on the DynamoDB store (dynalite in process, the real AWS SDK) with its
// smaller default size and only the orders its keys answer: dynalite is an emulator on LevelDB, not DynamoDB, so
// its figures say how many requests and items a listing costs here, not what DynamoDB's latency would be.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import { loadConfig } from '../src/config.js'
import type { AnomalyRecord } from '../src/domain/anomaly.js'
import type { Incident } from '../src/domain/incident.js'
import { buildServer } from '../src/http/server.js'
import { openMeterFlow } from '../src/wiring.js'
import { startDynalite } from '../test/dynalite.js'

const HOUR = 3_600_000
const METRICS = ['api_calls', 'bandwidth', 'compute_time', 'storage_peak']
const total = Number(process.argv[2] ?? 100_000)
const dynamoTotal = Number(process.argv[3] ?? 20_000)
const now = Math.floor(Date.now() / HOUR) * HOUR

type StoreChoice = { kind: 'sqlite' } | { kind: 'dynamodb'; endpoint: string }

async function benchStore(label: string, store: StoreChoice, total: number): Promise<void> {
  const customers = Math.max(1, Math.round(total / 100))
  const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-pagingbench-'))
  const config = loadConfig(
    {},
    {
      dataDir,
      logLevel: 'warn',
      demo: { enabled: false },
      job: { schedulerEnabled: false },
      auth: { mode: 'off' },
      anomalyStore:
        store.kind === 'sqlite'
          ? { kind: 'sqlite' }
          : { kind: 'dynamodb', dynamodb: { endpoint: store.endpoint, region: 'us-east-1' } },
    },
  )
  const meterflow = await openMeterFlow(config, { metrics: false })
  try {
    await fillAndMeasure(label, store, meterflow, total, customers)
  } finally {
    await meterflow.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function fillAndMeasure(
  label: string,
  store: StoreChoice,
  meterflow: Awaited<ReturnType<typeof openMeterFlow>>,
  total: number,
  customers: number,
): Promise<void> {
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
      zScore: 3 + (i % 97) / 7,
      severity,
      direction: 'spike',
      windowStart: detectedAt - 24 * HOUR,
      windowEnd: detectedAt,
      samples: 30,
      windowKind: 'day',
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
        // Spread, with drops negative, so an order by |peak z| has work to do.
        peakZScore: (i % 20 === 0 ? -1 : 1) * (3 + (i % 89) / 5),
        lastZScore: 3,
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
  console.log(
    `${label}: stored ${total} anomalies and ${Math.ceil(total / 5)} incidents in ${Date.now() - started} ms`,
  )

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
  const urls: string[] = [
    '/v1/anomalies?limit=50',
    '/v1/anomalies?limit=50&metric=bandwidth',
    '/v1/anomalies?limit=50&customer_id=customer-00042',
    `/v1/anomalies?limit=50&severity=critical&since=${week}`,
    '/v1/anomalies?limit=50&kind=volume',
    '/v1/anomalies?limit=50&sort=detected_at',
    '/v1/anomalies?limit=50&metric=bandwidth&sort=detected_at',
    '/v1/anomalies?limit=1000',
    '/v1/incidents?limit=50',
    '/v1/incidents?limit=50&status=open',
    '/v1/incidents?limit=50&metric=bandwidth&severity=critical',
    '/v1/incidents?limit=50&customer_id=customer-00040',
    `/v1/incidents?limit=50&since=${week}&status=open`,
    '/v1/incidents?limit=50&status=open&kind=volume',
    '/v1/incidents?limit=50&sort=opened_at&status=open',
  ]
  // The orders only SQLite answers (DynamoDB says 400: its keys sort by time alone).
  const sqliteOnly: string[] = [
    '/v1/anomalies?limit=50&sort=severity',
    '/v1/anomalies?limit=50&sort=severity&metric=bandwidth',
    '/v1/anomalies?limit=50&sort=customer_id',
    `/v1/anomalies?limit=50&sort=customer_id&since=${week}`,
    '/v1/incidents?limit=50&sort=-peak_z_score',
    '/v1/incidents?limit=50&sort=-peak_z_score&status=open',
    '/v1/incidents?limit=50&sort=severity&status=open',
    '/v1/incidents?limit=50&sort=customer_id',
  ]
  const deepPaths = [
    '/v1/anomalies',
    '/v1/anomalies?metric=api_calls',
    '/v1/anomalies?sort=detected_at&severity=critical',
    '/v1/incidents?status=open',
    '/v1/incidents?sort=opened_at&kind=volume',
  ]
  const sqliteDeep = [
    '/v1/anomalies?sort=severity',
    '/v1/anomalies?sort=customer_id&metric=bandwidth',
    '/v1/incidents?sort=-peak_z_score&status=open',
  ]
  const sqlite = store.kind === 'sqlite'
  const results = []
  for (const url of [...urls, ...(sqlite ? sqliteOnly : [])]) results.push(await time(url, sqlite ? 15 : 5))
  for (const path of [...deepPaths, ...(sqlite ? sqliteDeep : [])]) results.push(await deep(path))
  if (!sqlite) {
    const refused = await app.inject({ method: 'GET', url: '/v1/anomalies?limit=50&sort=severity' })
    console.log(JSON.stringify({ url: '/v1/anomalies?sort=severity', status: refused.statusCode }))
  }
  for (const r of results) console.log(JSON.stringify({ store: label, ...r }))
  await app.close()
}

await benchStore('SQLite', { kind: 'sqlite' }, total)
if (dynamoTotal > 0) {
  const dynalite = await startDynalite()
  try {
    const admin = createDynamoDbClient({ region: 'us-east-1', endpoint: dynalite.endpoint })
    await createAnomalyTable(admin, 'meterflow-anomalies', () => {})
    admin.destroy()
    await benchStore('DynamoDB (dynalite)', { kind: 'dynamodb', endpoint: dynalite.endpoint }, dynamoTotal)
  } finally {
    await dynalite.stop()
  }
}
