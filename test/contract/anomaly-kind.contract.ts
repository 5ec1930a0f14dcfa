import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AnomalyRecord } from '../../src/domain/anomaly.js'
import { SIGNAL_KINDS } from '../../src/domain/signals/signal-registry.js'
import { ValidationError } from '../../src/errors.js'
import type { AnomalyStore } from '../../src/ports.js'
import { ManualClock } from '../helpers.js'
import { anomaly, DAY, HOUR, incident, NOW, SLOT, walk } from './anomaly-store.contract.js'

/**
 * What every AnomalyStore does with detection signals: records keep their `kind` (part of their identity),
 * queries filter by it, an unregistered kind is refused before anything is written, and incidents keep which
 * signal opened them and which fire. Only the volume signal exists, so records of a second kind cannot be built
 * without a fake signal in production code; the stores' key functions are tested for a second kind in their own
 * test files instead.
 */
export function describeAnomalyKindContract(
  name: string,
  open: (clock: ManualClock) => Promise<{ store: AnomalyStore; cleanup(): Promise<void> }>,
): void {
  describe(`AnomalyStore signal kinds: ${name}`, () => {
    let store: AnomalyStore
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      ;({ store, cleanup } = await open(new ManualClock(NOW)))
    })
    afterEach(async () => {
      await store.close()
      await cleanup()
    })

    it('round-trips every registered kind and filters by it, by customer and by metric', async () => {
      expect(SIGNAL_KINDS).toContain('volume')
      const records = [0, 1, 2].map((h) =>
        anomaly({ kind: 'volume', customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - h * HOUR }),
      )
      expect(await store.putAnomalies(records)).toBe(3)
      for (const kind of SIGNAL_KINDS) {
        const mine = records.filter((r) => r.kind === kind)
        const byCustomer = await store.queryAnomalies({ customerId: 'c1', kind, limit: 10 })
        expect(byCustomer.items).toStrictEqual(mine)
        const byMetric = await store.queryAnomalies({ metric: 'api_calls', kind, limit: 10 })
        expect(byMetric.items).toStrictEqual(mine)
        // The cursor carries the kind: a filtered walk sees every record once.
        const pages = await walk((cursor) =>
          store.queryAnomalies({ customerId: 'c1', kind, limit: 1, ...(cursor ? { cursor } : {}) }),
        )
        expect(pages.flat()).toStrictEqual(mine)
      }
    })

    it('refuses a record of an unregistered kind and a query for one, storing nothing', async () => {
      const good = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
      const alien = { ...anomaly({ customerId: 'c1', metric: 'bandwidth', detectedAt: SLOT }), kind: 'vibes' }
      const err = await store.putAnomalies([good, alien as unknown as AnomalyRecord]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect((err as ValidationError).details).toEqual([expect.objectContaining({ field: 'kind', index: 1 })])
      expect((await store.queryAnomalies({ customerId: 'c1', limit: 10 })).items).toEqual([])

      const query = { customerId: 'c1', kind: 'vibes' as AnomalyRecord['kind'], limit: 10 }
      const refused = await store.queryAnomalies(query).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(ValidationError)
      expect((refused as ValidationError).details.map((d) => d.field)).toEqual(['kind'])
    })

    it('keeps which signal opened an incident and which fire now, across detection writes', async () => {
      const opened = incident({ id: 'i1', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - 2 * HOUR })
      expect(opened).toMatchObject({ openedBySignal: 'volume', firingSignals: ['volume'] })
      await store.saveIncidents([opened])
      expect(await store.getIncident('i1')).toStrictEqual(opened)
      // Not a state the job makes (a clean run counts in cleanRuns), so that a store deriving the signals from other
      // fields, as it does for incidents written before signals, is caught.
      const quiet = { ...opened, firingSignals: [], lastEvaluatedSlot: SLOT - HOUR }
      expect(await store.saveIncidents([quiet])).toEqual(['i1'])
      expect(await store.getIncident('i1')).toStrictEqual(quiet)
      expect(await store.openIncidents()).toStrictEqual([quiet])
      // Every way of reading an incident back keeps them (DynamoDB reads labelled ones by a projection).
      const feedback = { label: 'planned' as const, at: NOW, by: null, note: null }
      const labelled = { ...quiet, feedback }
      expect(await store.setIncidentFeedback('i1', feedback)).toStrictEqual(labelled)
      expect(await store.labelledIncidents(SLOT - DAY)).toStrictEqual([labelled])
      expect((await store.listIncidents({ limit: 10 })).items).toStrictEqual([labelled])
    })
  })
}
