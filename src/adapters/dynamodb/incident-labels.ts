import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { Incident, IncidentFeedback } from '../../domain/incident.js'
import { batchGetAll, batchWriteAll, type RetryOptions } from './batch.js'
import { errorName } from './client.js'
import { findIncident } from './incidents.js'
import { type Item, itemToIncident } from './items.js'
import { INCIDENT_LABELS_PK, INCIDENT_PK, incidentLabelKey, type Key, PK, SK } from './keys.js'
import type { TableContext } from './query.js'

// Feedback on incidents, and how the detection job finds the labelled ones without reading every incident.
//
// The label lives on the incident item (feedback_label, feedback_at, feedback_by, feedback_note), written by an
// UpdateItem of those attributes only; detection writes (putIncident) update only the attributes incidentItem
// names, so they never clear it. Each run asks for the labelled incidents, and a filtered Query of the incident
// partition would read (and pay for) every incident kept, open or resolved in the last 90 days, to return the few
// people labelled. So every labelled incident also has an entry under pk INCIDENT_LABELS with the incident's sort
// key: labelledIncidents is one strongly consistent Query of those small entries plus one BatchGetItem per 100
// of them, whatever the number of unlabelled incidents.
//
// Without transactions an entry and its label are two writes, entry first: a crash between them leaves an entry
// whose incident carries no label (skipped on reading; the caller saw a failure and a retry writes both again),
// never a label without an entry. The incident item is the truth: an entry counts only if its incident carries
// feedback, and period and status are the incident's current ones. An entry whose incident is gone (deleted by its
// TTL, 90 days after it resolved) is deleted when labelledIncidents meets it; nothing re-creates an incident
// under the same key, and feedback is only ever written to an incident found first.

/** Every attribute itemToIncident reads: what the BatchGetItem of labelled incidents asks for. */
const INCIDENT_ATTRIBUTES = [
  PK,
  SK,
  'id',
  'customer_id',
  'incident_metric',
  'status',
  'severity',
  'direction',
  'opened_at',
  'last_seen_at',
  'resolved_at',
  'peak_z_score',
  'last_z_score',
  'detections',
  'clean_runs',
  'last_evaluated_slot',
  'opened_by_signal',
  'firing_signals',
  'acknowledged_at',
  'acknowledged_by',
  'feedback_label',
  'feedback_at',
  'feedback_by',
  'feedback_note',
] as const

/**
 * Records (or replaces) the feedback on the stored incident `id`: its index entry, then the label. Returns the
 * incident item as it now is; null when no incident has that id.
 */
export async function setIncidentFeedback(
  ctx: TableContext,
  id: string,
  feedback: IncidentFeedback,
): Promise<Item | null> {
  const found = await findIncident(ctx, id)
  if (!found) return null
  const sk = String(found[SK])
  // Unconditional and idempotent: a replaced label, or a retry after a crash, writes the same entry again.
  await ctx.doc.send(
    new PutCommand({ TableName: ctx.table, Item: { ...incidentLabelKey(sk), incident_id: id } }),
  )
  try {
    const out = await ctx.doc.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: { [PK]: INCIDENT_PK, [SK]: sk },
        UpdateExpression: 'SET #label = :label, #at = :at, #by = :by, #note = :note',
        // Deleted (TTL) since it was found: unknown, not re-created as a bare item. Its entry goes on reading.
        ConditionExpression: '#id = :id',
        ExpressionAttributeNames: {
          '#label': 'feedback_label',
          '#at': 'feedback_at',
          '#by': 'feedback_by',
          '#note': 'feedback_note',
          '#id': 'id',
        },
        ExpressionAttributeValues: {
          ':label': feedback.label,
          ':at': feedback.at,
          ':by': feedback.by,
          ':note': feedback.note,
          ':id': id,
        },
        ReturnValues: 'ALL_NEW',
      }),
    )
    return (out.Attributes as Item | undefined) ?? null
  } catch (err) {
    if (errorName(err) === 'ConditionalCheckFailedException') return null
    throw err
  }
}

/**
 * Incidents carrying feedback that are open or resolved at/after `since`: a Query of the index, a BatchGetItem of
 * the incidents it names, the period checked here. Deletes the entries of incidents that are gone.
 */
export async function labelledIncidents(
  ctx: TableContext,
  since: number,
  retry: RetryOptions,
): Promise<Incident[]> {
  const keys: Key[] = []
  let startKey: Record<string, unknown> | undefined
  do {
    const out = await ctx.doc.send(
      new QueryCommand({
        TableName: ctx.table,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#sk',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': INCIDENT_LABELS_PK },
        ConsistentRead: true,
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    )
    for (const item of (out.Items ?? []) as Item[]) keys.push({ [PK]: INCIDENT_PK, [SK]: String(item[SK]) })
    startKey = out.LastEvaluatedKey
  } while (startKey !== undefined)
  if (keys.length === 0) return []
  const stored = await batchGetAll(ctx.doc, ctx.table, keys, INCIDENT_ATTRIBUTES, retry)
  const present = new Set(stored.map((item) => String(item[SK])))
  const gone = keys.filter((key) => !present.has(key[SK] as string))
  if (gone.length > 0) await deleteEntries(ctx, gone, retry)
  return stored
    .map(itemToIncident)
    .filter(
      (i) => i.feedback !== null && (i.status === 'open' || i.resolvedAt === null || i.resolvedAt >= since),
    )
}

/** Housekeeping, so it never fails the read: an entry left behind is met, and deleted, next time. */
async function deleteEntries(ctx: TableContext, incidentKeys: readonly Key[], retry: RetryOptions) {
  const deletes = incidentKeys.map((key) => ({ DeleteRequest: { Key: incidentLabelKey(key[SK] as string) } }))
  try {
    await batchWriteAll(ctx.doc, ctx.table, deletes, retry)
  } catch {
    // Left for the next read.
  }
}
