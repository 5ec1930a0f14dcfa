import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AlertDelivery, IncidentAlert, Mute } from '../../src/domain/alert.js'
import { ValidationError } from '../../src/errors.js'
import type { AlertStore, AnomalyStore } from '../../src/ports.js'
import { ManualClock } from '../helpers.js'

const HOUR = 3_600_000
export const ALERT_NOW = Date.UTC(2026, 10, 25, 10, 5)
const SLOT = Date.UTC(2026, 10, 25, 10)

/**
 * The behaviour every AlertStore (the outbox and mutes of an AnomalyStore adapter) must show. Each test gets a
 * fresh, empty store from `open`; the suite closes it afterwards and calls `cleanup`.
 */
export function describeAlertStoreContract(
  name: string,
  open: (clock: ManualClock) => Promise<{ store: AnomalyStore; cleanup(): Promise<void> }>,
): void {
  describe(`AlertStore contract: ${name}`, () => {
    let clock: ManualClock
    let owner: AnomalyStore
    let store: AlertStore
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      clock = new ManualClock(ALERT_NOW)
      ;({ store: owner, cleanup } = await open(clock))
      store = owner.alerts
    })

    afterEach(async () => {
      await owner.close()
      await cleanup()
    })

    it("reads every delivery of the alerts asked for, on every channel, and no other alert's", async () => {
      const a = delivery({ slot: SLOT, customerId: 'acme', channel: 'webhook' })
      const aSlack = delivery({ slot: SLOT, customerId: 'acme', channel: 'slack', status: 'failed' })
      // An alert whose id extends the first one's: a prefix match without the channel separator.
      const base = delivery({ slot: SLOT, customerId: 'acme', channel: 'webhook' })
      const other = { ...base, id: `${a.alert.id}x>webhook`, alert: { ...base.alert, id: `${a.alert.id}x` } }
      const later = delivery({ slot: SLOT + 3_600_000, customerId: 'acme', channel: 'webhook' })
      await store.enqueue([a, aSlack, other, later])
      const ids = async (alertIds: string[]) => (await store.ofAlerts(alertIds)).map((d) => d.id).sort()
      expect(await ids([a.alert.id])).toEqual([aSlack.id, a.id].sort())
      expect(await ids([a.alert.id, later.alert.id, 'nope'])).toEqual([aSlack.id, a.id, later.id].sort())
      expect(await ids([])).toEqual([])
      expect((await store.ofAlerts([a.alert.id])).find((d) => d.id === aSlack.id)).toStrictEqual(aSlack)
    })

    it('enqueues a delivery once and reads it back exactly', async () => {
      const d = delivery({ slot: SLOT, customerId: 'acme|corp', channel: 'slack' })
      expect(await store.enqueue([d])).toBe(1)
      expect(await store.enqueue([d, { ...d, attempts: 3 }])).toBe(0)
      expect(await store.get(d.id)).toStrictEqual(d)
      expect(await store.get('nope')).toBeNull()
      expect(await store.enqueue([])).toBe(0)
    })

    it('returns due pending deliveries only, earliest due first, up to the limit', async () => {
      const a = delivery({ slot: SLOT, customerId: 'a', channel: 'slack', nextAttemptAt: ALERT_NOW - 10 })
      const b = delivery({ slot: SLOT, customerId: 'b', channel: 'slack', nextAttemptAt: ALERT_NOW - 20 })
      const later = delivery({ slot: SLOT, customerId: 'c', channel: 'slack', nextAttemptAt: ALERT_NOW + 1 })
      const held = delivery({ slot: SLOT, customerId: 'd', channel: 'slack', status: 'held' })
      const done = delivery({ slot: SLOT, customerId: 'e', channel: 'slack', status: 'delivered' })
      await store.enqueue([a, b, later, held, done])
      expect((await store.due(ALERT_NOW, 10)).map((x) => x.id)).toEqual([b.id, a.id])
      expect((await store.due(ALERT_NOW, 1)).map((x) => x.id)).toEqual([b.id])
      expect((await store.due(ALERT_NOW + 1, 10)).map((x) => x.id)).toEqual([b.id, a.id, later.id])
      const other = delivery({
        slot: SLOT,
        customerId: 'a',
        channel: 'pagerduty',
        nextAttemptAt: ALERT_NOW - 30,
      })
      await store.enqueue([other])
      expect((await store.due(ALERT_NOW, 10, 'pagerduty')).map((x) => x.id)).toEqual([other.id])
      expect((await store.due(ALERT_NOW, 10, 'slack')).map((x) => x.id)).toEqual([b.id, a.id])
      expect(await store.due(ALERT_NOW, 10, 'email')).toEqual([])
    })

    it('updates only when status and attempts are as expected (one of two claims wins)', async () => {
      const d = delivery({ slot: SLOT, customerId: 'a', channel: 'pagerduty' })
      await store.enqueue([d])
      const claim = { ...d, attempts: 1, nextAttemptAt: ALERT_NOW + 60_000, updatedAt: ALERT_NOW }
      expect(await store.update(claim, { status: 'pending', attempts: 0 })).toBe(true)
      expect(await store.update({ ...claim, lastError: 'x' }, { status: 'pending', attempts: 0 })).toBe(false)
      expect(await store.get(d.id)).toStrictEqual(claim)
      expect(await store.due(ALERT_NOW, 10)).toEqual([])
      const done = { ...claim, status: 'delivered' as const, deliveredAt: ALERT_NOW + 5 }
      expect(await store.update(done, { status: 'pending', attempts: 1 })).toBe(true)
      expect(await store.get(d.id)).toStrictEqual(done)
      expect(await store.update({ ...done, status: 'pending' }, { status: 'failed', attempts: 1 })).toBe(
        false,
      )
      expect(await store.update(done, { status: 'pending', attempts: 0 })).toBe(false)
    })

    it('an update of an unknown id writes nothing', async () => {
      const d = delivery({ slot: SLOT, customerId: 'a', channel: 'slack' })
      expect(await store.update(d, { status: 'pending', attempts: 0 })).toBe(false)
      expect(await store.get(d.id)).toBeNull()
    })

    it('lists newest first by id, filtered by status and channel, a page at a time', async () => {
      const all: AlertDelivery[] = []
      for (let i = 0; i < 7; i++) {
        for (const channel of ['slack', 'webhook']) {
          all.push(
            delivery({
              slot: SLOT - i * HOUR,
              customerId: `c${i}`,
              channel,
              status: i % 3 === 0 ? 'failed' : 'delivered',
            }),
          )
        }
      }
      await store.enqueue(all)
      const newestFirst = [...all].sort((x, y) => (x.id < y.id ? 1 : -1))
      expect(await walk((cursor) => store.list({ limit: 3, ...(cursor ? { cursor } : {}) }))).toStrictEqual(
        newestFirst,
      )
      const failedSlack = newestFirst.filter((d) => d.status === 'failed' && d.channel === 'slack')
      expect(failedSlack).toHaveLength(3)
      expect(
        await walk((cursor) =>
          store.list({ status: 'failed', channel: 'slack', limit: 2, ...(cursor ? { cursor } : {}) }),
        ),
      ).toStrictEqual(failedSlack)
      expect((await store.list({ status: 'held', limit: 5 })).items).toEqual([])
    })

    it('rejects a malformed cursor', async () => {
      await expect(store.list({ limit: 2, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError)
    })

    it('keeps mutes until they expire and deletes them by id', async () => {
      const m1: Mute = {
        id: 'm1',
        customerId: 'acme',
        metric: null,
        until: ALERT_NOW + HOUR,
        reason: 'migration',
        createdAt: ALERT_NOW - 2,
      }
      const m2: Mute = {
        id: 'm2',
        customerId: null,
        metric: 'api_calls',
        until: ALERT_NOW + 2 * HOUR,
        reason: null,
        createdAt: ALERT_NOW - 1,
      }
      const expired: Mute = { ...m1, id: 'm3', until: ALERT_NOW, createdAt: ALERT_NOW - 3 }
      await store.putMute(m1)
      await store.putMute(m2)
      await store.putMute(expired)
      expect(await store.activeMutes(ALERT_NOW)).toStrictEqual([m2, m1])
      expect(await store.activeMutes(ALERT_NOW + HOUR)).toStrictEqual([m2])
      expect(await store.deleteMute('m2')).toBe(true)
      expect(await store.deleteMute('m2')).toBe(false)
      expect(await store.activeMutes(ALERT_NOW)).toStrictEqual([m1])
    })
  })
}

async function walk(
  page: (cursor?: string) => Promise<{ items: AlertDelivery[]; nextCursor: string | null }>,
) {
  const out: AlertDelivery[] = []
  let cursor: string | undefined
  for (let i = 0; i < 100; i++) {
    const result = await page(cursor)
    out.push(...result.items)
    if (!result.nextCursor) return out
    cursor = result.nextCursor
  }
  throw new Error('paging did not end')
}

export function delivery(f: {
  slot: number
  customerId: string
  channel: string
  status?: AlertDelivery['status']
  nextAttemptAt?: number
}): AlertDelivery {
  const incidentId = `${f.customerId}|api_calls|${new Date(f.slot).toISOString()}`
  const alert: IncidentAlert = {
    kind: 'incident',
    id: `${new Date(f.slot).toISOString()}|opened|${incidentId}`,
    severity: 'critical',
    createdAt: f.slot,
    title: `Critical anomaly: ${f.customerId} - api_calls`,
    link: null,
    transition: 'opened',
    incident: {
      id: incidentId,
      customerId: f.customerId,
      metric: 'api_calls',
      status: 'open',
      severity: 'critical',
      direction: 'spike',
      openedAt: f.slot,
      resolvedAt: null,
      peakZScore: 7.25,
      openedBySignal: 'volume',
      firingSignals: ['volume'],
    },
    detection: {
      signal: 'volume',
      slot: f.slot,
      currentValue: 12_345.5,
      baselineMean: 1000.25,
      baselineStddev: 100.125,
      zScore: 7.25,
      windowStart: f.slot - 24 * HOUR,
      windowEnd: f.slot,
    },
  }
  return {
    id: `${alert.id}>${f.channel}`,
    channel: f.channel,
    status: f.status ?? 'pending',
    attempts: 0,
    nextAttemptAt: f.nextAttemptAt ?? ALERT_NOW,
    lastError: f.status === 'failed' ? 'HTTP 500 from receiver' : null,
    createdAt: ALERT_NOW,
    updatedAt: ALERT_NOW,
    deliveredAt: f.status === 'delivered' ? ALERT_NOW : null,
    alert,
  }
}
