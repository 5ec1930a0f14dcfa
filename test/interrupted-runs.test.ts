import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteAnomalyStore } from '../src/adapters/sqlite/anomaly-store.js'
import { INTERRUPTED_ERROR } from '../src/app/interrupted-runs.js'
import type { AlertDelivery, JobHealthAlert } from '../src/domain/alert.js'
import type { DetectionRun } from '../src/domain/run.js'
import type { AnomalyStore } from '../src/ports.js'
import { startService } from '../src/serve.js'
import { run } from './contract/anomaly-store.contract.js'
import { ManualClock, openHarness, tempDataDir, testConfig } from './helpers.js'
import { Receiver } from './receiver.js'

// A process killed mid-run (kill -9, power loss) never writes its run's finish: the record stays `running`. The
// next run records such a run as failed once no live process can still be running it; the embedded server, which
// no other process can share its stores with, does so for every one at start. Either way ops hear of it.

const HOUR = 3_600_000
const MINUTE = 60_000
const NOW = Date.UTC(2026, 10, 25, 12, 30)
const data = tempDataDir()
const receiver = new Receiver()

beforeAll(async () => {
  await receiver.start()
})
afterAll(async () => {
  await receiver.stop()
  data.remove()
})

/** The record a run writes when it starts, and nothing after it: what a killed process leaves behind. */
function leftRunning(runId: string, startedAt: number): DetectionRun {
  return run({ runId, slot: Math.floor(startedAt / HOUR) * HOUR, startedAt })
}

async function jobHealthAlerts(store: AnomalyStore): Promise<JobHealthAlert[]> {
  const items: AlertDelivery[] = (await store.alerts.list({ limit: 1000 })).items
  return items.flatMap((d) => (d.alert.kind === 'job_health' ? [d.alert] : []))
}

/** A real channel, so that the job-health alert has somewhere to go (read once the receiver listens). */
const alertsTo = () => ({ alerts: { webhook: { url: receiver.url } } })

describe('the next run', () => {
  it('records a run left running for over an hour as failed (interrupted) and alerts ops once', async () => {
    const h = await openHarness(NOW, alertsTo())
    try {
      const store = h.meterflow.anomalies
      await store.saveRun(leftRunning('killed-run', NOW - 2 * HOUR))
      // Started 10 minutes ago: another process (a Lambda) may still be running it.
      await store.saveRun(leftRunning('maybe-alive', NOW - 10 * MINUTE))

      // A refused request changes nothing, the stale record included.
      await expect(h.meterflow.job.runNow(Date.UTC(2099, 0, 1), 'api')).rejects.toThrow(/slot/)
      expect((await store.getRun('killed-run'))?.status).toBe('running')

      const { run } = await h.meterflow.job.runNow(NOW, 'api')
      expect(run.status).toBe('completed')
      expect(await store.getRun('killed-run')).toMatchObject({
        status: 'failed',
        error: INTERRUPTED_ERROR,
        finishedAt: null,
        durationMs: null,
      })
      expect((await store.getRun('maybe-alive'))?.status).toBe('running')
      const listed = await h.app.inject({ method: 'GET', url: '/v1/runs' })
      expect(listed.json().items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ run_id: 'killed-run', status: 'failed', error: INTERRUPTED_ERROR }),
        ]),
      )

      const alerts = await jobHealthAlerts(store)
      expect(alerts.map((a) => [a.job.runId, a.job.problem, a.job.error, a.severity])).toEqual([
        ['killed-run', 'failed', INTERRUPTED_ERROR, 'critical'],
      ])
      await h.meterflow.alerts.deliver()
      const sent = receiver.received.filter((r) => (r.json as { type: string }).type === 'job_health')
      expect(sent).toHaveLength(1)
      expect(sent[0]?.body).toContain('interrupted')

      // An hour later the other one is stale too; the one already failed is not alerted again.
      h.clock.ms = NOW + HOUR
      expect((await h.meterflow.job.runNow(NOW + HOUR, 'api')).run.status).toBe('completed')
      expect((await store.getRun('maybe-alive'))?.status).toBe('failed')
      expect((await jobHealthAlerts(store)).map((a) => a.job.runId).sort()).toEqual([
        'killed-run',
        'maybe-alive',
      ])
    } finally {
      await h.close()
    }
  })
})

describe('the embedded server at start', () => {
  it('records every run its data directory left running as interrupted, however recent', async () => {
    const dir = join(data.dir, 'embedded')
    const now = Date.now()
    const seed = SqliteAnomalyStore.open(join(dir, 'anomalies.sqlite'), new ManualClock(now))
    await seed.saveRun(leftRunning('cut-short', now - MINUTE))
    await seed.close()

    const service = await startService(testConfig(dir, { http: { port: 0 }, ...alertsTo() }))
    try {
      const store = service.meterflow.anomalies
      expect(await store.getRun('cut-short')).toMatchObject({ status: 'failed', error: INTERRUPTED_ERROR })
      const runs = await fetch(`${service.url}/v1/runs`)
      expect(((await runs.json()) as { items: { run_id: string; status: string }[] }).items).toEqual([
        expect.objectContaining({ run_id: 'cut-short', status: 'failed' }),
      ])
      expect((await jobHealthAlerts(store)).map((a) => a.job.runId)).toEqual(['cut-short'])
    } finally {
      await service.stop()
    }
  })

  it('leaves a recent running record alone when its anomaly store lives outside the data directory', async () => {
    const dir = join(data.dir, 'embedded')
    const shared = join(data.dir, 'shared', 'anomalies.sqlite')
    const now = Date.now()
    const seed = SqliteAnomalyStore.open(shared, new ManualClock(now))
    await seed.saveRun(leftRunning('elsewhere', now - MINUTE))
    await seed.close()

    const service = await startService(
      testConfig(dir, { http: { port: 0 }, anomalyStore: { sqlitePath: shared }, ...alertsTo() }),
    )
    try {
      // Another process with its own engine may share that file and still be running it.
      expect((await service.meterflow.anomalies.getRun('elsewhere'))?.status).toBe('running')
    } finally {
      await service.stop()
    }
  })
})
