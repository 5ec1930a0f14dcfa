import { UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { Incident } from '../../domain/incident.js'
import { isAscendingTimeSort } from '../../domain/list-sorts.js'
import { firstFutureSlot } from '../../domain/run.js'
import { LEGACY_SIGNAL_KIND } from '../../domain/signals/signal-registry.js'
import { ConflictError } from '../../errors.js'
import type { Clock, IncidentQuery } from '../../ports.js'
import { mapLimit } from './batch.js'
import { errorName } from './client.js'
import { type Item, incidentItem } from './items.js'
import { INCIDENT_PK, incidentSk, PK, parseIncidentId, SK } from './keys.js'
import { getItem, type QueryInput, queryAll, setExpression, type TableContext } from './query.js'

// Incidents live in one partition (pk INCIDENT), sorted by `{opened ISO}#{customer}#{metric}`: newest opened
// last in key order, so listings query it backwards.

/** Conditional incident writes in flight at once. */
const PARALLELISM = 8

/** A listing cursor holds the sort key of the last incident returned. */
export const INCIDENT_CURSOR = ['string'] as const

/**
 * Upserts incidents: each write is a PutItem on condition that no item is there or that the stored one is the
 * same incident at an older slot (a failed condition is a replay: skipped, not an error). Versions of one
 * incident are applied in order, different incidents in parallel. Returns the ids written.
 */
export async function putIncidents(
  ctx: TableContext & { clock: Clock },
  incidents: readonly Incident[],
): Promise<string[]> {
  const byId = new Map<string, Incident[]>()
  for (const incident of incidents) byId.set(incident.id, [...(byId.get(incident.id) ?? []), incident])
  const written = await mapLimit([...byId.values()], PARALLELISM, async (versions) => {
    let wrote = false
    for (const version of versions) wrote = (await putIncident(ctx, version)) || wrote
    return wrote ? (versions[0] as Incident).id : null
  })
  return written.filter((id): id is string => id !== null)
}

/**
 * Whether the incident was written. An item of *another* id under the same key is a conflict. An UpdateItem,
 * not a PutItem: a run writes the copy of the incident it read before someone acknowledged it, and replacing the
 * whole item would clear the acknowledgement; only the attributes incidentItem names are set (or removed).
 */
async function putIncident(ctx: TableContext & { clock: Clock }, incident: Incident): Promise<boolean> {
  const { [PK]: pk, [SK]: sk, ...attributes } = incidentItem(incident)
  const { parts, name } = setExpression(attributes)
  try {
    await ctx.doc.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: { [PK]: pk, [SK]: sk },
        ...parts,
        ConditionExpression: `attribute_not_exists(#pk) OR (${name.id} = :id AND (${name.last_evaluated_slot} < :slot OR ${name.last_evaluated_slot} >= :future))`,
        ExpressionAttributeNames: { ...parts.ExpressionAttributeNames, '#pk': PK },
        ExpressionAttributeValues: {
          ...parts.ExpressionAttributeValues,
          ':id': incident.id,
          ':slot': incident.lastEvaluatedSlot,
          ':future': firstFutureSlot(ctx.clock.now()),
        },
      }),
    )
    return true
  } catch (err) {
    if (errorName(err) !== 'ConditionalCheckFailedException') throw err
  }
  const stored = await getItem(ctx, { [PK]: INCIDENT_PK, [SK]: String(sk) })
  if (stored && stored.id !== incident.id) {
    throw new ConflictError(
      `incident ${incident.id} has the same customer, metric and opening time as stored incident ${String(stored.id)}`,
      [{ field: 'id', reason: 'another incident is stored under the same customer, metric and opened_at' }],
    )
  }
  return false
}

/**
 * The item of incident `id`: for an id the domain makes (`{customer}|{metric}|{opened ISO}`) one GetItem on the
 * key derived from it; any other id cannot be mapped to a key, so the partition is searched.
 */
export async function findIncident(ctx: TableContext, id: string): Promise<Item | null> {
  const parsed = parseIncidentId(id)
  let item: Item | null
  if (parsed) {
    item = await getItem(ctx, {
      [PK]: INCIDENT_PK,
      [SK]: incidentSk(parsed.openedAt, parsed.customerId, parsed.metric),
    })
  } else {
    const found = await queryAll(ctx.doc, {
      TableName: ctx.table,
      KeyConditionExpression: '#pk = :pk',
      FilterExpression: '#id = :id',
      ExpressionAttributeNames: { '#pk': PK, '#id': 'id' },
      ExpressionAttributeValues: { ':pk': INCIDENT_PK, ':id': id },
      ConsistentRead: true,
    })
    item = found[0] ?? null
  }
  return item && item.id === id ? item : null
}

/**
 * Sets the acknowledgement of the stored incident `id` (only it: a concurrent detection write keeps it, see
 * putIncident) and returns the item as it now is; null when no incident has that id.
 */
export async function acknowledgeIncident(
  ctx: TableContext,
  id: string,
  at: number,
  by: string | null,
): Promise<Item | null> {
  const found = await findIncident(ctx, id)
  if (!found) return null
  try {
    const out = await ctx.doc.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: { [PK]: INCIDENT_PK, [SK]: String(found[SK]) },
        UpdateExpression: 'SET #at = :at, #by = :by',
        // Deleted (TTL) between the read and this write: unknown, not re-created as a bare item.
        ConditionExpression: '#id = :id',
        ExpressionAttributeNames: { '#at': 'acknowledged_at', '#by': 'acknowledged_by', '#id': 'id' },
        ExpressionAttributeValues: { ':at': at, ':by': by, ':id': id },
        ReturnValues: 'ALL_NEW',
      }),
    )
    return (out.Attributes as Item | undefined) ?? null
  } catch (err) {
    if (errorName(err) === 'ConditionalCheckFailedException') return null
    throw err
  }
}

/** Every open incident; strongly consistent, since the job applies its verdicts to what the last run left. */
export function openIncidentsInput(table: string): QueryInput {
  return {
    TableName: table,
    KeyConditionExpression: '#pk = :pk',
    FilterExpression: '#status = :open',
    ExpressionAttributeNames: { '#pk': PK, '#status': 'status' },
    ExpressionAttributeValues: { ':pk': INCIDENT_PK, ':open': 'open' },
    ScanIndexForward: false,
    ConsistentRead: true,
  }
}

/**
 * Newest opened first (oldest first for sort=opened_at: the partition read forwards), filtered; `afterSk` is the
 * cursor's sort key. Items written before signals carry neither signal attribute: they are volume's.
 */
export function incidentListPlan(
  table: string,
  query: IncidentQuery,
  afterSk: string | null,
): { input: QueryInput; startKey: Record<string, string> | undefined; readAhead: number } {
  const filters: string[] = []
  const names: Record<string, string> = { '#pk': PK }
  const values: Record<string, unknown> = { ':pk': INCIDENT_PK }
  if (query.status !== undefined) {
    filters.push('#status = :status')
    names['#status'] = 'status'
    values[':status'] = query.status
  }
  if (query.customerId !== undefined) {
    filters.push('#customer = :customer')
    names['#customer'] = 'customer_id'
    values[':customer'] = query.customerId
  }
  if (query.metric !== undefined) {
    filters.push('#metric = :metric')
    names['#metric'] = 'incident_metric'
    values[':metric'] = query.metric
  }
  if (query.severity !== undefined) {
    filters.push('#severity = :severity')
    names['#severity'] = 'severity'
    values[':severity'] = query.severity
  }
  if (query.kind !== undefined) {
    const legacy = query.kind === LEGACY_SIGNAL_KIND ? ' OR attribute_not_exists(#opened_by)' : ''
    filters.push(`(#opened_by = :kind OR contains(#firing, :kind)${legacy})`)
    names['#opened_by'] = 'opened_by_signal'
    names['#firing'] = 'firing_signals'
    values[':kind'] = query.kind
  }
  if (query.openedSince !== undefined || query.openedUntil !== undefined) {
    names['#opened'] = 'opened_at'
    if (query.openedSince !== undefined) {
      filters.push('#opened >= :since')
      values[':since'] = query.openedSince
    }
    if (query.openedUntil !== undefined) {
      filters.push('#opened < :until')
      values[':until'] = query.openedUntil
    }
  }
  return {
    input: {
      TableName: table,
      KeyConditionExpression: '#pk = :pk',
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: query.sort !== undefined && isAscendingTimeSort(query.sort),
    },
    startKey: afterSk === null ? undefined : { [PK]: INCIDENT_PK, [SK]: afterSk },
    readAhead: filters.length > 0 ? 4 : 1,
  }
}
