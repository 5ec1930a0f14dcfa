import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AnomalyRecord } from '../../src/domain/anomaly.js'
import type { Incident } from '../../src/domain/incident.js'
import {
  ANOMALY_SORTS,
  type AnomalySort,
  INCIDENT_SORTS,
  type IncidentSort,
} from '../../src/domain/list-sorts.js'
import { ValidationError } from '../../src/errors.js'
import type { AnomalyStore } from '../../src/ports.js'
import { ManualClock } from '../helpers.js'
import { anomaly, incident, NOW, SLOT, shapeAnomaly, walk } from './anomaly-store.contract.js'

const HOUR = 3_600_000

/**
 * The listings' orders and the signal filter of incidents, paged by cursor. `orders`: 'all' for a store that
 * answers every declared order (SQLite), 'time' for one keyed on time alone (DynamoDB), which must refuse the
 * others with a ValidationError on `sort` instead of scanning.
 */
export function describeListOrderContract(
  name: string,
  open: (clock: ManualClock) => Promise<{ store: AnomalyStore; cleanup(): Promise<void> }>,
  orders: 'all' | 'time',
): void {
  describe(`listing orders: ${name}`, () => {
    let store: AnomalyStore
    let cleanup: () => Promise<void>
    beforeEach(async () => {
      ;({ store, cleanup } = await open(new ManualClock(NOW)))
    })
    afterEach(async () => {
      await store.close()
      await cleanup()
    })

    // Ties on detected_at across customers and metrics, both severities, both signals.
    const records: AnomalyRecord[] = [
      anomaly({ customerId: 'c2', metric: 'api_calls', detectedAt: SLOT, severity: 'warning' }),
      anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT, severity: 'critical' }),
      shapeAnomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT, severity: 'warning' }),
      anomaly({ customerId: 'c3', metric: 'api_calls', detectedAt: SLOT - HOUR, severity: 'critical' }),
      anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT - HOUR, severity: 'warning' }),
      anomaly({ customerId: 'c2', metric: 'api_calls', detectedAt: SLOT - 3 * HOUR, severity: 'critical' }),
      anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - 5 * HOUR, severity: 'warning' }),
      anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - 7 * HOUR, severity: 'warning' }),
    ]
    const key = (r: AnomalyRecord) => `${r.customerId}|${r.metric}|${r.detectedAt}|${r.kind}`
    const byTime = (desc: boolean) => (a: AnomalyRecord, b: AnomalyRecord) =>
      (desc ? b.detectedAt - a.detectedAt : a.detectedAt - b.detectedAt) ||
      a.metric.localeCompare(b.metric) ||
      a.customerId.localeCompare(b.customerId) ||
      a.kind.localeCompare(b.kind)
    const anomalyOrder: Record<AnomalySort, (a: AnomalyRecord, b: AnomalyRecord) => number> = {
      '-detected_at': byTime(true),
      detected_at: byTime(false),
      severity: (a, b) => a.severity.localeCompare(b.severity) || byTime(true)(a, b),
      customer_id: (a, b) => a.customerId.localeCompare(b.customerId) || byTime(true)(a, b),
    }
    const filters = [{ customerId: 'c1' }, { metric: 'api_calls' }, ...(orders === 'all' ? [{}] : [])]

    for (const sort of Object.keys(ANOMALY_SORTS) as AnomalySort[]) {
      const time = sort === '-detected_at' || sort === 'detected_at'
      if (time || orders === 'all') {
        it(`pages anomalies in order ${sort}, two at a time, every match once`, async () => {
          await store.putAnomalies(records)
          for (const filter of filters) {
            const pages = await walk((cursor) => store.queryAnomalies({ ...filter, sort, limit: 2, cursor }))
            for (const page of pages) expect(page.length).toBeLessThanOrEqual(2)
            const got = pages.flat()
            const expected = records
              .filter((r) => Object.entries(filter).every(([k, v]) => r[k as 'metric'] === v))
              .sort(anomalyOrder[sort])
            if (time) {
              // Ties on detected_at are in the store's own order: the times and the set are what is promised.
              expect(got.map((r) => r.detectedAt)).toEqual(expected.map((r) => r.detectedAt))
              expect(got.map(key).sort()).toEqual(expected.map(key).sort())
            } else {
              expect(got.map(key)).toEqual(expected.map(key))
            }
          }
        })
      } else {
        it(`refuses anomalies in order ${sort}: its keys cannot sort so`, async () => {
          const err = await store.queryAnomalies({ customerId: 'c1', sort, limit: 2 }).catch((e) => e)
          expect(err).toBeInstanceOf(ValidationError)
          expect((err as ValidationError).details[0]?.field).toBe('sort')
          expect((err as ValidationError).details[0]?.reason).toMatch(/detected_at only/)
        })
      }
    }

    it("refuses a cursor of another order, and an order it doesn't know", async () => {
      await store.putAnomalies(records)
      const first = await store.queryAnomalies({ customerId: 'c1', limit: 1 })
      expect(first.nextCursor).not.toBeNull()
      const err = await store
        .queryAnomalies({ customerId: 'c1', sort: 'detected_at', limit: 1, cursor: first.nextCursor ?? '' })
        .catch((e) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect((err as ValidationError).details[0]?.field).toBe('cursor')
      const unknown = await store
        .queryAnomalies({ customerId: 'c1', sort: 'z_score' as AnomalySort, limit: 1 })
        .catch((e) => e)
      expect((unknown as ValidationError).details[0]?.field).toBe('sort')
    })

    const incidents: Incident[] = [
      incident({ id: 'i1', customerId: 'b', metric: 'api_calls', openedAt: SLOT - HOUR, peakZScore: 4 }),
      incident({
        id: 'i2',
        customerId: 'a',
        metric: 'api_calls',
        openedAt: SLOT - 2 * HOUR,
        severity: 'critical',
        peakZScore: -9,
      }),
      incident({
        id: 'i3',
        customerId: 'c',
        metric: 'bandwidth',
        openedAt: SLOT - 3 * HOUR,
        peakZScore: 0,
        openedBySignal: 'shape',
        firingSignals: ['shape'],
      }),
      incident({
        id: 'i4',
        customerId: 'a',
        metric: 'bandwidth',
        openedAt: SLOT - 4 * HOUR,
        severity: 'critical',
        peakZScore: 6,
        firingSignals: ['volume', 'shape'],
      }),
      incident({
        id: 'i5',
        customerId: 'b',
        metric: 'storage_peak',
        openedAt: SLOT - 5 * HOUR,
        status: 'resolved',
        resolvedAt: SLOT - 4 * HOUR,
        firingSignals: [],
        peakZScore: 6,
      }),
    ]
    const expectedIncidents: Record<IncidentSort, string[]> = {
      '-opened_at': ['i1', 'i2', 'i3', 'i4', 'i5'],
      opened_at: ['i5', 'i4', 'i3', 'i2', 'i1'],
      severity: ['i2', 'i4', 'i1', 'i3', 'i5'],
      customer_id: ['i2', 'i4', 'i1', 'i5', 'i3'],
      '-peak_z_score': ['i2', 'i4', 'i5', 'i1', 'i3'],
    }
    for (const sort of Object.keys(INCIDENT_SORTS) as IncidentSort[]) {
      const time = sort === '-opened_at' || sort === 'opened_at'
      if (time || orders === 'all') {
        it(`pages incidents in order ${sort}, two at a time`, async () => {
          await store.saveIncidents(incidents)
          const pages = await walk((cursor) => store.listIncidents({ sort, limit: 2, cursor }))
          expect(pages.flat().map((i) => i.id)).toEqual(expectedIncidents[sort])
          const open = await walk((cursor) => store.listIncidents({ status: 'open', sort, limit: 1, cursor }))
          expect(open.flat().map((i) => i.id)).toEqual(expectedIncidents[sort].filter((id) => id !== 'i5'))
        })
      } else {
        it(`refuses incidents in order ${sort}: its key cannot sort so`, async () => {
          const err = await store.listIncidents({ sort, limit: 2 }).catch((e) => e)
          expect(err).toBeInstanceOf(ValidationError)
          expect((err as ValidationError).details[0]?.field).toBe('sort')
          expect((err as ValidationError).details[0]?.reason).toMatch(/opened_at only/)
        })
      }
    }

    it('filters incidents by signal: opened by it or firing it at the latest verdict', async () => {
      await store.saveIncidents(incidents)
      const ids = async (q: Parameters<AnomalyStore['listIncidents']>[0]) =>
        (await walk((cursor) => store.listIncidents({ ...q, cursor }))).flat().map((i) => i.id)
      expect(await ids({ kind: 'shape', limit: 1 })).toEqual(['i3', 'i4'])
      expect(await ids({ kind: 'volume', limit: 10 })).toEqual(['i1', 'i2', 'i4', 'i5'])
      expect(await ids({ kind: 'shape', status: 'open', severity: 'critical', limit: 10 })).toEqual(['i4'])
      const err = await store.listIncidents({ kind: 'seasonal' as 'shape', limit: 1 }).catch((e) => e)
      expect((err as ValidationError).details[0]?.field).toBe('kind')
    })
  })
}
