import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AnomalyOf, AnomalyRecord, Page } from '../../src/domain/anomaly.js'
import type { CustomerProfile } from '../../src/domain/customer.js'
import {
  DETECTOR_SETTING_KEYS,
  DETECTOR_SETTINGS,
  type DetectorConfig,
  type DetectorSetting,
} from '../../src/domain/detector-settings.js'
import type { Incident } from '../../src/domain/incident.js'
import type { DetectionRun } from '../../src/domain/run.js'
import { ValidationError } from '../../src/errors.js'
import type { AnomalyStore } from '../../src/ports.js'
import { ManualClock } from '../helpers.js'

/**
 * The behaviour every AnomalyStore adapter must show. Each test gets a fresh, empty store from `open`, built on
 * the clock the test moves; after the test the suite closes the store and then calls `cleanup` (which may
 * close it again: close must be idempotent). Data stays small (tens of items) so that remote or emulated
 * backends (dynalite) run it quickly.
 *
 * Only what the port promises is asserted: where the port leaves an order open (ties, openIncidents,
 * listCustomers) the suite sorts or checks a weaker property.
 */
export function describeAnomalyStoreContract(
  name: string,
  open: (clock: ManualClock) => Promise<{ store: AnomalyStore; cleanup(): Promise<void> }>,
): void {
  describe(`AnomalyStore contract: ${name}`, () => {
    let clock: ManualClock
    let store: AnomalyStore
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      clock = new ManualClock(NOW)
      ;({ store, cleanup } = await open(clock))
    })

    afterEach(async () => {
      await store.close()
      await cleanup()
    })

    describe('anomalies', () => {
      it('stores a record once: putting the same records again adds nothing', async () => {
        const first = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
        const records = [
          first,
          anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT }),
          anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - HOUR }),
        ]
        expect(await store.putAnomalies(records)).toBe(3)
        expect(await store.putAnomalies(records)).toBe(0)
        // A replay carrying other values for the same identity changes nothing either.
        expect(await store.putAnomalies([{ ...first, zScore: 99, runId: 'replay' }])).toBe(0)
        const extra = anomaly({ customerId: 'c1', metric: 'storage_peak', detectedAt: SLOT })
        expect(await store.putAnomalies([...records, extra])).toBe(1)
        expect(await store.putAnomalies([])).toBe(0)

        const page = await store.queryAnomalies({ customerId: 'c1', limit: 50 })
        expect(page.items.map(identity).sort()).toEqual([...records, extra].map(identity).sort())
        expect(page.items.find((r) => identity(r) === identity(first))).toStrictEqual(first)
        expect(page.nextCursor).toBeNull()
      })

      it('stores a shape record next to a volume record of the same slot and metric, each read back whole', async () => {
        const volume = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
        const shape = shapeAnomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
        expect(await store.putAnomalies([volume, shape])).toBe(2)
        expect(await store.putAnomalies([shape])).toBe(0)
        const all = await store.queryAnomalies({ customerId: 'c1', limit: 10 })
        expect(all.items).toHaveLength(2)
        expect(all.items.find((r) => r.kind === 'shape')).toStrictEqual(shape)
        expect(all.items.find((r) => r.kind === 'volume')).toStrictEqual(volume)
        expect(
          (await store.queryAnomalies({ customerId: 'c1', kind: 'shape', limit: 10 })).items,
        ).toStrictEqual([shape])
        expect(
          (await store.queryAnomalies({ customerId: 'c1', kind: 'volume', limit: 10 })).items,
        ).toStrictEqual([volume])
        // Paging one at a time walks both records of the one (slot, metric) by kind.
        const first = await store.queryAnomalies({ customerId: 'c1', limit: 1 })
        const second = await store.queryAnomalies({
          customerId: 'c1',
          limit: 1,
          cursor: first.nextCursor ?? '',
        })
        expect([...first.items, ...second.items].map((r) => r.kind).sort()).toEqual(['shape', 'volume'])
      })

      it('counts a record repeated within one batch once', async () => {
        const record = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
        expect(await store.putAnomalies([record, { ...record }])).toBe(1)
        expect((await store.queryAnomalies({ customerId: 'c1', limit: 10 })).items).toHaveLength(1)
      })

      it('round-trips every field exactly (floats, integers, null and non-null incident id)', async () => {
        const a = anomaly({
          customerId: 'cust-ü/1',
          metric: 'bandwidth',
          detectedAt: SLOT,
          currentValue: 0.1 + 0.2,
          baselineMean: 1 / 3,
          baselineStddev: 2.5e-7,
          zScore: -4.123456789012345,
          severity: 'critical',
          direction: 'drop',
          windowStart: SLOT - DAY,
          windowEnd: SLOT,
          samples: 29,
          incidentId: 'cust-ü/1|bandwidth|2025-03-10T11:00:00.000Z',
          runId: 'run-1',
          ttl: NOW_S + 90 * 86_400,
        })
        const b = anomaly({
          customerId: 'cust-ü/1',
          metric: 'compute_time',
          detectedAt: SLOT - HOUR,
          currentValue: 0,
          baselineMean: 123456789.125,
          baselineStddev: 1,
          zScore: 3,
          severity: 'warning',
          direction: 'spike',
          samples: 7,
          incidentId: null,
        })
        await store.putAnomalies([a, b])
        const { items } = await store.queryAnomalies({ customerId: 'cust-ü/1', limit: 10 })
        expect(items).toStrictEqual([a, b])
      })

      it('round-trips the window that judged a volume record, and null for one stored without it', async () => {
        const records = (['day', 'hour', 'recent', null] as const).map((windowKind, h) =>
          anomaly({
            customerId: 'c1',
            metric: 'api_calls',
            detectedAt: SLOT - h * HOUR,
            windowStart: SLOT - h * HOUR - (windowKind === 'day' ? DAY : HOUR),
            windowKind,
          }),
        )
        expect(await store.putAnomalies(records)).toBe(4)
        expect((await store.queryAnomalies({ customerId: 'c1', limit: 10 })).items).toStrictEqual(records)
        expect((await store.queryAnomalies({ metric: 'api_calls', limit: 10 })).items).toStrictEqual(records)
      })

      it('refuses a window the volume signal does not declare, naming window_kind, and stores nothing', async () => {
        const good = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
        for (const bad of ['week', 'DAY', '', 3, undefined]) {
          const record = {
            ...anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT }),
            windowKind: bad,
          }
          const err = await failure(store.putAnomalies([good, record as unknown as AnomalyRecord]))
          expect(err, String(bad)).toBeInstanceOf(ValidationError)
          expect((err as ValidationError).details).toEqual([
            {
              field: 'window_kind',
              reason: expect.stringContaining('must be one of day, hour, recent'),
              index: 1,
            },
          ])
        }
        expect((await store.queryAnomalies({ customerId: 'c1', limit: 10 })).items).toEqual([])
      })

      it('queries by customer, newest first, only that customer', async () => {
        await store.putAnomalies([
          anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - 3 * HOUR }),
          anomaly({ customerId: 'c2', metric: 'api_calls', detectedAt: SLOT }),
          anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT }),
          anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - HOUR }),
          anomaly({ customerId: 'c10', metric: 'api_calls', detectedAt: SLOT }),
        ])
        const { items } = await store.queryAnomalies({ customerId: 'c1', limit: 10 })
        expect(items.map((r) => [r.customerId, r.metric, r.detectedAt])).toEqual([
          ['c1', 'bandwidth', SLOT],
          ['c1', 'api_calls', SLOT - HOUR],
          ['c1', 'api_calls', SLOT - 3 * HOUR],
        ])
        expect((await store.queryAnomalies({ customerId: 'nobody', limit: 10 })).items).toEqual([])
      })

      it('queries by metric across customers, with since inclusive and until exclusive', async () => {
        const records = [0, 1, 2, 3, 4, 5].map((h) =>
          anomaly({ customerId: `c${h % 2}`, metric: 'bandwidth', detectedAt: SLOT - h * HOUR }),
        )
        await store.putAnomalies([
          ...records,
          anomaly({ customerId: 'c0', metric: 'api_calls', detectedAt: SLOT - 2 * HOUR }),
        ])
        const all = await store.queryAnomalies({ metric: 'bandwidth', limit: 10 })
        expect(all.items.map((r) => r.detectedAt)).toEqual([0, 1, 2, 3, 4, 5].map((h) => SLOT - h * HOUR))
        expect(all.items.every((r) => r.metric === 'bandwidth')).toBe(true)

        const bounded = await store.queryAnomalies({
          metric: 'bandwidth',
          since: SLOT - 4 * HOUR,
          until: SLOT - HOUR,
          limit: 10,
        })
        expect(bounded.items.map((r) => r.detectedAt)).toEqual([
          SLOT - 2 * HOUR,
          SLOT - 3 * HOUR,
          SLOT - 4 * HOUR,
        ])

        const sinceOnly = await store.queryAnomalies({ metric: 'bandwidth', since: SLOT - HOUR, limit: 10 })
        expect(sinceOnly.items.map((r) => r.detectedAt)).toEqual([SLOT, SLOT - HOUR])
        const untilOnly = await store.queryAnomalies({
          metric: 'bandwidth',
          until: SLOT - 4 * HOUR,
          limit: 10,
        })
        expect(untilOnly.items.map((r) => r.detectedAt)).toEqual([SLOT - 5 * HOUR])

        const byCustomer = await store.queryAnomalies({
          customerId: 'c1',
          since: SLOT - 3 * HOUR,
          until: SLOT,
          limit: 10,
        })
        expect(byCustomer.items.map((r) => r.detectedAt)).toEqual([SLOT - HOUR, SLOT - 3 * HOUR])
      })

      it('filters by severity with a customer, with a metric, and with both', async () => {
        await store.putAnomalies([
          anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT, severity: 'critical' }),
          anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT, severity: 'warning' }),
          anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - HOUR, severity: 'warning' }),
          anomaly({ customerId: 'c2', metric: 'api_calls', detectedAt: SLOT, severity: 'critical' }),
          anomaly({ customerId: 'c2', metric: 'bandwidth', detectedAt: SLOT - HOUR, severity: 'critical' }),
        ])
        const keys = (page: Page<AnomalyRecord>) => page.items.map(identity).sort()
        expect(
          keys(await store.queryAnomalies({ customerId: 'c1', severity: 'critical', limit: 10 })),
        ).toEqual([`c1|api_calls|${SLOT}`])
        expect(
          keys(await store.queryAnomalies({ customerId: 'c1', severity: 'warning', limit: 10 })),
        ).toEqual([`c1|api_calls|${SLOT - HOUR}`, `c1|bandwidth|${SLOT}`])
        expect(
          keys(await store.queryAnomalies({ metric: 'api_calls', severity: 'critical', limit: 10 })),
        ).toEqual([`c1|api_calls|${SLOT}`, `c2|api_calls|${SLOT}`])
        expect(
          keys(
            await store.queryAnomalies({
              customerId: 'c2',
              metric: 'bandwidth',
              severity: 'critical',
              limit: 10,
            }),
          ),
        ).toEqual([`c2|bandwidth|${SLOT - HOUR}`])
        expect(
          keys(
            await store.queryAnomalies({
              customerId: 'c2',
              metric: 'bandwidth',
              severity: 'warning',
              limit: 10,
            }),
          ),
        ).toEqual([])
      })

      it('pages through filtered matches: no page over the limit, every match exactly once, newest first', async () => {
        const matching = [
          anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT }),
          anomaly({ customerId: 'c2', metric: 'bandwidth', detectedAt: SLOT }),
          anomaly({ customerId: 'c3', metric: 'bandwidth', detectedAt: SLOT }),
          anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT - HOUR }),
          anomaly({ customerId: 'c2', metric: 'bandwidth', detectedAt: SLOT - 2 * HOUR }),
          anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT - 3 * HOUR }),
          anomaly({ customerId: 'c4', metric: 'bandwidth', detectedAt: SLOT - 4 * HOUR }),
        ]
        const excluded = [
          anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT }),
          anomaly({ customerId: 'c2', metric: 'bandwidth', detectedAt: SLOT - HOUR, severity: 'warning' }),
          anomaly({ customerId: 'c3', metric: 'bandwidth', detectedAt: SLOT - 8 * HOUR }),
          anomaly({ customerId: 'c4', metric: 'bandwidth', detectedAt: SLOT - HOUR, ttl: NOW_S - 60 }),
        ]
        await store.putAnomalies([...excluded.slice(0, 2), ...matching, ...excluded.slice(2)])
        const filter = { metric: 'bandwidth', severity: 'critical', since: SLOT - 6 * HOUR } as const

        const pages = await walk((cursor) => store.queryAnomalies({ ...filter, limit: 2, cursor }))
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(2)
        const walked = pages.flat()
        expect(walked.map(identity).sort()).toEqual(matching.map(identity).sort())
        expect(new Set(walked.map(identity)).size).toBe(walked.length)
        expectNewestFirst(walked)
        // The walk and a single big page agree on the order, ties included.
        const single = await store.queryAnomalies({ ...filter, limit: 100 })
        expect(walked.map(identity)).toEqual(single.items.map(identity))
        expect(single.nextCursor).toBeNull()

        const byCustomer = { customerId: 'c1', since: SLOT - 3 * HOUR } as const
        const c1Pages = await walk((cursor) => store.queryAnomalies({ ...byCustomer, limit: 2, cursor }))
        for (const page of c1Pages) expect(page.length).toBeLessThanOrEqual(2)
        const c1Walked = c1Pages.flat()
        expect(c1Walked.map(identity).sort()).toEqual(
          [
            `c1|api_calls|${SLOT}`,
            `c1|bandwidth|${SLOT}`,
            `c1|bandwidth|${SLOT - HOUR}`,
            `c1|bandwidth|${SLOT - 3 * HOUR}`,
          ].sort(),
        )
        expectNewestFirst(c1Walked)
        const c1Single = await store.queryAnomalies({ ...byCustomer, limit: 100 })
        expect(c1Walked.map(identity)).toEqual(c1Single.items.map(identity))
      })

      it('rejects a query with neither customer nor metric, unless the store lists across metrics', async () => {
        if (store.listsAcrossMetrics) {
          const records = [
            anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - HOUR }),
            anomaly({ customerId: 'c2', metric: 'bandwidth', detectedAt: SLOT, severity: 'warning' }),
          ]
          await store.putAnomalies(records)
          expect((await store.queryAnomalies({ limit: 10 })).items.map(identity)).toEqual(
            [records[1], records[0]].map((r) => identity(r as AnomalyRecord)),
          )
          expect(
            (await store.queryAnomalies({ severity: 'critical', since: 0, limit: 10 })).items,
          ).toHaveLength(1)
          return
        }
        const err = await failure(store.queryAnomalies({ limit: 10 }))
        expect(err).toBeInstanceOf(ValidationError)
        const fields = (err as ValidationError).details.map((d) => d.field)
        expect(fields.some((f) => f === 'customer_id' || f === 'metric')).toBe(true)
        await expect(
          store.queryAnomalies({ severity: 'critical', since: 0, limit: 10 }),
        ).rejects.toBeInstanceOf(ValidationError)
      })

      it('rejects a malformed cursor', async () => {
        for (const cursor of ['not a cursor!', Buffer.from('{"nope":true}').toString('base64url')]) {
          const err = await failure(store.queryAnomalies({ customerId: 'c1', limit: 2, cursor }))
          expect(err).toBeInstanceOf(ValidationError)
          expect((err as ValidationError).details.map((d) => d.field)).toContain('cursor')
        }
      })

      it('never returns expired records, and takes a new record for an expired identity', async () => {
        const expired = anomaly({
          customerId: 'c1',
          metric: 'api_calls',
          detectedAt: SLOT - DAY,
          ttl: NOW_S - 3600,
        })
        const shortLived = anomaly({
          customerId: 'c1',
          metric: 'bandwidth',
          detectedAt: SLOT - HOUR,
          ttl: NOW_S + 3600,
        })
        const live = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
        await store.putAnomalies([expired, shortLived, live])
        const visible = async (query: { customerId?: string; metric?: string }) =>
          (await store.queryAnomalies({ ...query, limit: 10 })).items.map(identity).sort()

        expect(await visible({ customerId: 'c1' })).toEqual([identity(live), identity(shortLived)].sort())
        expect(await visible({ metric: 'api_calls' })).toEqual([identity(live)])

        clock.ms = NOW + 2 * HOUR
        expect(await visible({ customerId: 'c1' })).toEqual([identity(live)])
        expect(await visible({ metric: 'bandwidth' })).toEqual([])

        // An expired record is no longer stored: the same identity with a fresh ttl is new again.
        const renewed = { ...shortLived, ttl: NOW_S + 86_400, runId: 'run-again' }
        expect(await store.putAnomalies([renewed])).toBe(1)
        expect((await store.queryAnomalies({ metric: 'bandwidth', limit: 10 })).items).toStrictEqual([
          renewed,
        ])
      })
    })

    describe('incidents', () => {
      it('saves, reads back exactly, and returns null for an unknown id', async () => {
        const open = incident({
          id: 'i-open',
          customerId: 'c1',
          metric: 'api_calls',
          openedAt: SLOT - 2 * HOUR,
        })
        const resolved = incident({
          id: 'i-resolved',
          customerId: 'c2',
          metric: 'bandwidth',
          openedAt: SLOT - 5 * HOUR,
          status: 'resolved',
          severity: 'critical',
          direction: 'drop',
          resolvedAt: SLOT - HOUR,
          peakZScore: -7.000000000000001,
          openedBySignal: 'volume',
          firingSignals: [],
          lastZScore: -0.1,
          detections: 3,
          cleanRuns: 2,
          lastEvaluatedSlot: SLOT - HOUR,
        })
        expect((await store.saveIncidents([open, resolved])).sort()).toEqual(['i-open', 'i-resolved'])
        expect(await store.getIncident('i-open')).toStrictEqual(open)
        expect(await store.getIncident('i-resolved')).toStrictEqual(resolved)
        expect(await store.getIncident('i-unknown')).toBeNull()
        expect(await store.saveIncidents([])).toEqual([])
      })

      it('acknowledges an incident; later detection writes keep the acknowledgement', async () => {
        const open = incident({ id: 'i-ack', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - HOUR })
        await store.saveIncidents([open])
        expect(await store.acknowledgeIncident('i-unknown', NOW, 'ops')).toBeNull()
        const acked = await store.acknowledgeIncident('i-ack', NOW, 'alice@example.com')
        const expected = { ...open, acknowledgedAt: NOW, acknowledgedBy: 'alice@example.com' }
        expect(acked).toStrictEqual(expected)
        expect(await store.getIncident('i-ack')).toStrictEqual(expected)
        // The next run's write carries the copy it read before the ack (acknowledgedAt null): the ack stays.
        const next = { ...open, lastEvaluatedSlot: SLOT, lastSeenAt: SLOT, detections: 2 }
        expect(await store.saveIncidents([next])).toEqual(['i-ack'])
        expect(await store.getIncident('i-ack')).toStrictEqual({
          ...next,
          acknowledgedAt: NOW,
          acknowledgedBy: 'alice@example.com',
        })
      })

      it('records feedback, keeps it across detection writes, and lists labelled incidents by period', async () => {
        const fp = incident({ id: 'i-fp', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - 10 * DAY })
        const old = incident({
          id: 'i-old',
          customerId: 'c1',
          metric: 'bandwidth',
          openedAt: SLOT - 40 * DAY,
          status: 'resolved',
          resolvedAt: SLOT - 39 * DAY,
        })
        const recent = incident({
          id: 'i-recent',
          customerId: 'c2',
          metric: 'api_calls',
          openedAt: SLOT - 5 * DAY,
          status: 'resolved',
          resolvedAt: SLOT - 4 * DAY,
        })
        const unlabelled = incident({
          id: 'i-none',
          customerId: 'c3',
          metric: 'api_calls',
          openedAt: SLOT - DAY,
        })
        await store.saveIncidents([fp, old, recent, unlabelled])
        expect(
          await store.setIncidentFeedback('i-unknown', { label: 'planned', at: NOW, by: null, note: null }),
        ).toBeNull()
        const feedback = {
          label: 'false_positive' as const,
          at: NOW,
          by: 'ops@example.com',
          note: 'test traffic',
        }
        expect(await store.setIncidentFeedback('i-fp', feedback)).toStrictEqual({ ...fp, feedback })
        const planned = { label: 'planned' as const, at: NOW + 1, by: null, note: null }
        await store.setIncidentFeedback('i-old', planned)
        await store.setIncidentFeedback('i-recent', planned)
        // A detection write carries the copy read before the label: the label stays.
        await store.saveIncidents([{ ...fp, lastEvaluatedSlot: SLOT, detections: 2 }])
        expect((await store.getIncident('i-fp'))?.feedback).toStrictEqual(feedback)

        const ids = async (since: number) => (await store.labelledIncidents(since)).map((i) => i.id).sort()
        expect(await ids(SLOT - 30 * DAY)).toEqual(['i-fp', 'i-recent'])
        expect(await ids(SLOT - 45 * DAY)).toEqual(['i-fp', 'i-old', 'i-recent'])
        expect(await ids(SLOT)).toEqual(['i-fp'])
        const relabelled = { ...feedback, label: 'planned' as const, at: NOW + 2 }
        expect((await store.setIncidentFeedback('i-fp', relabelled))?.feedback).toStrictEqual(relabelled)
      })

      it('applies a newer slot and ignores a write whose slot is not newer', async () => {
        const v1 = incident({ id: 'i1', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - 2 * HOUR })
        await store.saveIncidents([v1])
        const v2: Incident = {
          ...v1,
          severity: 'critical',
          lastSeenAt: SLOT - HOUR,
          detections: 2,
          lastZScore: 6.5,
          peakZScore: 6.5,
          openedBySignal: 'volume',
          firingSignals: ['volume'],
          lastEvaluatedSlot: SLOT - HOUR,
        }
        expect(await store.saveIncidents([v2])).toEqual(['i1'])
        expect(await store.getIncident('i1')).toStrictEqual(v2)

        const sameSlot: Incident = { ...v2, status: 'resolved', resolvedAt: SLOT - HOUR }
        const olderSlot: Incident = { ...v1, detections: 42 }
        expect(await store.saveIncidents([sameSlot])).toEqual([])
        expect(await store.saveIncidents([olderSlot])).toEqual([])
        expect(await store.getIncident('i1')).toStrictEqual(v2)

        const other = incident({ id: 'i2', customerId: 'c2', metric: 'api_calls', openedAt: SLOT })
        const v3: Incident = { ...v2, cleanRuns: 1, lastEvaluatedSlot: SLOT }
        expect((await store.saveIncidents([olderSlot, other, v3])).sort()).toEqual(['i1', 'i2'])
        expect(await store.getIncident('i1')).toStrictEqual(v3)
      })

      it('lets a real slot overwrite an incident stored with a future slot (it would stay frozen otherwise)', async () => {
        const frozen = incident({
          id: 'i-frozen',
          customerId: 'c1',
          metric: 'compute_time',
          openedAt: SLOT - 2 * HOUR,
          lastEvaluatedSlot: Date.UTC(2099, 0, 1),
        })
        await store.saveIncidents([frozen])
        const real: Incident = { ...frozen, cleanRuns: 1, lastEvaluatedSlot: SLOT }
        expect(await store.saveIncidents([real])).toEqual(['i-frozen'])
        expect(await store.getIncident('i-frozen')).toStrictEqual(real)
        // From then on the usual rule holds again.
        expect(
          await store.saveIncidents([{ ...real, cleanRuns: 9, lastEvaluatedSlot: SLOT - HOUR }]),
        ).toEqual([])
      })

      it('lists open incidents only', async () => {
        await store.saveIncidents([
          incident({ id: 'a', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - HOUR }),
          incident({ id: 'b', customerId: 'c2', metric: 'api_calls', openedAt: SLOT - 3 * HOUR }),
          incident({
            id: 'c',
            customerId: 'c1',
            metric: 'bandwidth',
            openedAt: SLOT - 4 * HOUR,
            status: 'resolved',
            resolvedAt: SLOT - 2 * HOUR,
          }),
        ])
        expect((await store.openIncidents()).map((i) => i.id).sort()).toEqual(['a', 'b'])
        const [b] = await store.saveIncidents([
          incident({
            id: 'b',
            customerId: 'c2',
            metric: 'api_calls',
            openedAt: SLOT - 3 * HOUR,
            status: 'resolved',
            resolvedAt: SLOT,
            lastEvaluatedSlot: SLOT,
          }),
        ])
        expect(b).toBe('b')
        expect((await store.openIncidents()).map((i) => i.id)).toEqual(['a'])
      })

      it('lists incidents newest opened first, by status and customer, a page at a time', async () => {
        const all = [
          incident({ id: 'i1', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - 1 * HOUR }),
          incident({ id: 'i2', customerId: 'c2', metric: 'api_calls', openedAt: SLOT - 2 * HOUR }),
          incident({ id: 'i3', customerId: 'c1', metric: 'bandwidth', openedAt: SLOT - 3 * HOUR }),
          incident({
            id: 'i4',
            customerId: 'c1',
            metric: 'storage_peak',
            openedAt: SLOT - 4 * HOUR,
            status: 'resolved',
            resolvedAt: SLOT - 2 * HOUR,
          }),
          incident({ id: 'i5', customerId: 'c1', metric: 'compute_time', openedAt: SLOT - 5 * HOUR }),
          incident({ id: 'i6', customerId: 'c3', metric: 'api_calls', openedAt: SLOT - 6 * HOUR }),
        ]
        await store.saveIncidents([...all].reverse())
        const ids = (items: Incident[]) => items.map((i) => i.id)

        expect(ids((await store.listIncidents({ limit: 10 })).items)).toEqual([
          'i1',
          'i2',
          'i3',
          'i4',
          'i5',
          'i6',
        ])
        expect(ids((await store.listIncidents({ status: 'resolved', limit: 10 })).items)).toEqual(['i4'])
        expect(ids((await store.listIncidents({ customerId: 'c1', limit: 10 })).items)).toEqual([
          'i1',
          'i3',
          'i4',
          'i5',
        ])
        expect(
          ids((await store.listIncidents({ customerId: 'c1', status: 'open', limit: 10 })).items),
        ).toEqual(['i1', 'i3', 'i5'])
        expect((await store.listIncidents({ customerId: 'nobody', limit: 10 })).items).toEqual([])
        expect(ids((await store.listIncidents({ metric: 'api_calls', limit: 10 })).items)).toEqual([
          'i1',
          'i2',
          'i6',
        ])
        expect(
          ids((await store.listIncidents({ metric: 'api_calls', customerId: 'c2', limit: 10 })).items),
        ).toEqual(['i2'])
        expect(
          ids(
            (await store.listIncidents({ openedSince: SLOT - 3 * HOUR, openedUntil: SLOT - HOUR, limit: 10 }))
              .items,
          ),
        ).toEqual(['i2', 'i3'])
        expect((await store.listIncidents({ severity: 'critical', limit: 10 })).items).toEqual([])
        expect(ids((await store.listIncidents({ severity: 'warning', limit: 10 })).items)).toHaveLength(6)
        const metricPages = await walk((cursor) =>
          store.listIncidents({ metric: 'api_calls', limit: 1, cursor }),
        )
        expect(ids(metricPages.flat())).toEqual(['i1', 'i2', 'i6'])

        const pages = await walk((cursor) => store.listIncidents({ status: 'open', limit: 2, cursor }))
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(2)
        expect(ids(pages.flat())).toEqual(['i1', 'i2', 'i3', 'i5', 'i6'])
        expect((await store.listIncidents({ limit: 10 })).items.find((i) => i.id === 'i4')).toStrictEqual(
          all[3],
        )
      })
    })

    describe('runs', () => {
      it('saves, updates by run id and reads back exactly; null for an unknown run', async () => {
        const started = run({ runId: 'r1', slot: SLOT, startedAt: SLOT + 5_000 })
        await store.saveRun(started)
        expect(await store.getRun('r1')).toStrictEqual(started)

        const finished: DetectionRun = {
          ...started,
          status: 'failed',
          finishedAt: SLOT + 65_432,
          durationMs: 60_432.25,
          checked: 400,
          customers: 100,
          anomaliesFound: 7,
          anomaliesStored: 5,
          insufficientData: 12,
          incidentsOpened: 2,
          incidentsEscalated: 1,
          incidentsResolved: 3,
          trigger: 'api',
          error: 'usage store unavailable',
        }
        await store.saveRun(finished)
        expect(await store.getRun('r1')).toStrictEqual(finished)
        expect(await store.getRun('r-unknown')).toBeNull()
        expect((await store.listRuns({ limit: 10 })).items).toStrictEqual([finished])
      })

      it('lists newest slot first, then newest start, a page at a time', async () => {
        await store.saveRun(run({ runId: 'a', slot: SLOT - 2 * HOUR, startedAt: SLOT - 2 * HOUR + 1000 }))
        await store.saveRun(run({ runId: 'b', slot: SLOT, startedAt: SLOT + 1000 }))
        // A replay of an old slot started later still sorts by its slot.
        await store.saveRun(run({ runId: 'c', slot: SLOT - HOUR, startedAt: SLOT + 9000, trigger: 'cli' }))
        await store.saveRun(run({ runId: 'd', slot: SLOT, startedAt: SLOT + 5000, trigger: 'api' }))
        await store.saveRun(run({ runId: 'e', slot: SLOT - 3 * HOUR, startedAt: SLOT - 3 * HOUR }))

        const first = await store.listRuns({ limit: 10 })
        expect(first.items.map((r) => r.runId)).toEqual(['d', 'b', 'c', 'a', 'e'])
        expect(first.nextCursor).toBeNull()

        const pages = await walk((cursor) => store.listRuns({ limit: 2, cursor }))
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(2)
        expect(pages.flat().map((r) => r.runId)).toEqual(['d', 'b', 'c', 'a', 'e'])
      })
    })

    describe('customers', () => {
      it('puts, reads back exactly, updates, lists; null for an unknown customer', async () => {
        const c1 = customer({ customerId: 'c1' })
        const c2 = customer({
          customerId: 'c2',
          status: 'disabled',
          threshold: 2.5,
          criticalThreshold: 4.75,
          metrics: ['api_calls', 'bandwidth'],
          detector: EVERY_DETECTOR_SETTING,
        })
        const c3 = customer({ customerId: 'c3', metrics: [] })
        await store.putCustomer(c2)
        await store.putCustomer(c1)
        await store.putCustomer(c3)
        expect(await store.getCustomer('c1')).toStrictEqual(c1)
        expect(await store.getCustomer('c2')).toStrictEqual(c2)
        expect(await store.getCustomer('c3')).toStrictEqual(c3)
        expect(await store.getCustomer('c-unknown')).toBeNull()

        const c1v2: CustomerProfile = {
          ...c1,
          status: 'disabled',
          metrics: ['storage_peak'],
          // Some settings only: the others stay absent (the metric's apply), not filled in.
          detector: { baseline: 'daytype', persistWindow: 6 },
          updatedAt: NOW + 1,
        }
        await store.putCustomer(c1v2)
        expect(await store.getCustomer('c1')).toStrictEqual(c1v2)
        const c2v2: CustomerProfile = {
          ...c2,
          threshold: null,
          criticalThreshold: null,
          metrics: null,
          detector: null,
        }
        await store.putCustomer(c2v2)
        expect(await store.getCustomer('c2')).toStrictEqual(c2v2)

        const listed = await store.listCustomers()
        expect([...listed].sort((x, y) => x.customerId.localeCompare(y.customerId))).toStrictEqual([
          c1v2,
          c2v2,
          c3,
        ])
      })

      it('keeps every declared detector setting, at both ends of its range', async () => {
        expect(Object.keys(EVERY_DETECTOR_SETTING).sort()).toEqual([...DETECTOR_SETTING_KEYS].sort())
        const low = customer({ customerId: 'c-low', detector: detectorAtEnd('low') })
        const high = customer({ customerId: 'c-high', detector: detectorAtEnd('high') })
        await store.putCustomer(low)
        await store.putCustomer(high)
        expect(await store.getCustomer('c-low')).toStrictEqual(low)
        expect(await store.getCustomer('c-high')).toStrictEqual(high)
        for (const key of DETECTOR_SETTING_KEYS) {
          const only = customer({ customerId: `c-${key}`, detector: { [key]: EVERY_DETECTOR_SETTING[key] } })
          await store.putCustomer(only)
          expect(await store.getCustomer(only.customerId)).toStrictEqual(only)
        }
      })

      it('lists nothing when the registry is empty', async () => {
        expect(await store.listCustomers()).toEqual([])
        expect(await store.openIncidents()).toEqual([])
        expect((await store.listRuns({ limit: 5 })).items).toEqual([])
        expect((await store.listIncidents({ limit: 5 })).items).toEqual([])
      })
    })
  })
}

// ---- Fixtures ----------------------------------------------------------------------------------------------

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
/** The clock's starting time; fixtures are relative to it. */
export const NOW = Date.UTC(2025, 2, 10, 12, 0, 30)
export const NOW_S = Math.floor(NOW / 1000)
/** The latest slot a run evaluated before NOW. */
export const SLOT = Date.UTC(2025, 2, 10, 12)

/** A shape record: the day's hours moved, its total normal. */
export function shapeAnomaly(
  fields: With<AnomalyOf<'shape'>, 'customerId' | 'metric' | 'detectedAt'>,
): AnomalyOf<'shape'> {
  return {
    kind: 'shape',
    currentValue: 2400,
    shapeSimilarity: 0.123456789012345,
    shapeThreshold: 0.9,
    meanSimilarity: 0.123456789012345,
    nearestSimilarity: 0.2,
    baselineWeeks: 4,
    deviationHour: 3,
    severity: 'critical',
    direction: 'spike',
    windowStart: fields.detectedAt - DAY,
    windowEnd: fields.detectedAt,
    incidentId: null,
    runId: `run-${fields.detectedAt}`,
    ttl: NOW_S + 90 * 86_400,
    ...fields,
  }
}

/** T with the keys K required and the rest defaulted. */
type With<T, K extends keyof T> = Partial<T> & Pick<T, K>

export function anomaly(
  fields: With<AnomalyOf<'volume'>, 'customerId' | 'metric' | 'detectedAt'>,
): AnomalyOf<'volume'> {
  return {
    kind: 'volume',
    currentValue: 1500,
    baselineMean: 1000,
    baselineStddev: 100,
    zScore: 5,
    severity: 'critical',
    direction: 'spike',
    windowStart: fields.detectedAt - DAY,
    windowEnd: fields.detectedAt,
    samples: 30,
    windowKind: 'day',
    incidentId: null,
    runId: `run-${fields.detectedAt}`,
    ttl: NOW_S + 90 * 86_400,
    ...fields,
  }
}

export function incident(fields: With<Incident, 'id' | 'customerId' | 'metric' | 'openedAt'>): Incident {
  return {
    status: 'open',
    severity: 'warning',
    direction: 'spike',
    lastSeenAt: fields.openedAt,
    resolvedAt: null,
    peakZScore: 3.5,
    openedBySignal: 'volume',
    firingSignals: ['volume'],
    lastZScore: 3.25,
    detections: 1,
    cleanRuns: 0,
    lastEvaluatedSlot: fields.openedAt,
    acknowledgedAt: null,
    acknowledgedBy: null,
    feedback: null,
    ...fields,
  }
}

export function run(fields: With<DetectionRun, 'runId' | 'slot' | 'startedAt'>): DetectionRun {
  return {
    status: 'running',
    finishedAt: null,
    durationMs: null,
    checked: 0,
    customers: 0,
    anomaliesFound: 0,
    anomaliesStored: 0,
    insufficientData: 0,
    incidentsOpened: 0,
    incidentsEscalated: 0,
    incidentsResolved: 0,
    trigger: 'schedule',
    error: null,
    ...fields,
  }
}

export function customer(fields: With<CustomerProfile, 'customerId'>): CustomerProfile {
  return {
    status: 'active',
    threshold: null,
    criticalThreshold: null,
    metrics: null,
    detector: null,
    updatedAt: NOW,
    ...fields,
  }
}

/**
 * A value for every detector setting, none of them its default: typed as the full DetectorConfig (derived from
 * the settings' declaration), so a setting added there does not compile here until the contract covers it.
 */
export const EVERY_DETECTOR_SETTING: DetectorConfig = {
  statistic: 'robust',
  baseline: 'weekday',
  windows: ['hour', 'day'],
  levelShiftDays: 3,
  minVolume: 12.5,
  hourThreshold: 6,
  recentHours: 72,
  recentThreshold: 5,
  calibration: 1.5,
  persistRuns: 2,
  persistWindow: 5,
}

/** Every setting at one end of what its declaration allows: first or last choice, all or one window, min or max. */
export function detectorAtEnd(end: 'low' | 'high'): DetectorConfig {
  const d: Record<string, unknown> = {}
  for (const key of DETECTOR_SETTING_KEYS) {
    const s: DetectorSetting = DETECTOR_SETTINGS[key]
    if (s.kind === 'choice') d[key] = end === 'low' ? s.choices[0] : s.choices.at(-1)
    else if (s.kind === 'list') d[key] = end === 'low' ? s.choices.slice(0, 1) : [...s.choices].reverse()
    else d[key] = end === 'low' ? s.range.min : s.range.max
  }
  return d as DetectorConfig
}

export function identity(r: AnomalyRecord): string {
  return `${r.customerId}|${r.metric}|${r.detectedAt}`
}

/** Follows nextCursor from the first page to the last; returns the items of each page. */
export async function walk<T>(fetch: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = []
  let cursor: string | undefined
  for (;;) {
    const page = await fetch(cursor)
    pages.push(page.items)
    if (page.nextCursor === null) return pages
    if (pages.length > 50) throw new Error('pagination did not end after 50 pages')
    cursor = page.nextCursor
  }
}

function expectNewestFirst(items: readonly AnomalyRecord[]): void {
  for (let i = 1; i < items.length; i++) {
    expect((items[i] as AnomalyRecord).detectedAt).toBeLessThanOrEqual(
      (items[i - 1] as AnomalyRecord).detectedAt,
    )
  }
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (err: unknown) => err,
  )
}
