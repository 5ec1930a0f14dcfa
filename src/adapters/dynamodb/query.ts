import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb'
import type { Item } from './items.js'

/** The most items one Query call is asked to evaluate while collecting a page. */
const MAX_EVALUATED = 1_000

export type QueryInput = Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit'>

/**
 * Collects up to `limit` matching items starting strictly after `startKey`. DynamoDB applies Limit before the
 * FilterExpression, so one call can return fewer matches than asked (even none) with more to come: calls go on
 * until limit + 1 matches are seen or the key range ends. The extra match only says that another page exists,
 * so a page that ends exactly at the last match has no cursor. `readAhead` scales how many items a call
 * evaluates per match still needed (1 when the filter rarely drops anything).
 */
export async function collectPage(
  doc: DynamoDBDocumentClient,
  input: QueryInput,
  limit: number,
  startKey: Record<string, unknown> | undefined,
  readAhead: number,
): Promise<{ items: Item[]; more: boolean }> {
  const collected: Item[] = []
  let exclusiveStartKey = startKey
  do {
    const needed = limit + 1 - collected.length
    const out = await doc.send(
      new QueryCommand({
        ...input,
        Limit: Math.min(MAX_EVALUATED, needed * readAhead),
        ...(exclusiveStartKey === undefined ? {} : { ExclusiveStartKey: exclusiveStartKey }),
      }),
    )
    collected.push(...((out.Items ?? []) as Item[]))
    exclusiveStartKey = out.LastEvaluatedKey
  } while (exclusiveStartKey !== undefined && collected.length <= limit)
  return { items: collected.slice(0, limit), more: collected.length > limit }
}

/** Every item the query matches, page after page. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryInput): Promise<Item[]> {
  const items: Item[] = []
  let exclusiveStartKey: Record<string, unknown> | undefined
  do {
    const out = await doc.send(
      new QueryCommand({
        ...input,
        ...(exclusiveStartKey === undefined ? {} : { ExclusiveStartKey: exclusiveStartKey }),
      }),
    )
    items.push(...((out.Items ?? []) as Item[]))
    exclusiveStartKey = out.LastEvaluatedKey
  } while (exclusiveStartKey !== undefined)
  return items
}

/** The table a store works on, as its helpers need it. */
export interface TableContext {
  doc: DynamoDBDocumentClient
  table: string
}

/** One item by key, strongly consistent; null when absent. */
export async function getItem(ctx: TableContext, key: Record<string, string>): Promise<Item | null> {
  const out = await ctx.doc.send(new GetCommand({ TableName: ctx.table, Key: key, ConsistentRead: true }))
  return (out.Item as Item | undefined) ?? null
}

export interface UpdateParts {
  UpdateExpression: string
  ExpressionAttributeNames: Record<string, string>
  ExpressionAttributeValues: Record<string, unknown>
}

/** An update and the placeholder of each attribute it names, for conditions on the same attributes. */
export interface UpdateSpec {
  parts: UpdateParts
  name: Record<string, string>
}

/**
 * An UpdateItem expression that makes the given attributes what `attributes` says (undefined: REMOVE) and
 * leaves every other attribute of the item alone. A condition adds its own placeholders (not starting with #u
 * or :u) and refers to the attributes set here through `name`.
 */
export function setExpression(attributes: Item): UpdateSpec {
  const names: Record<string, string> = {}
  const values: Record<string, unknown> = {}
  const name: Record<string, string> = {}
  const sets: string[] = []
  const removes: string[] = []
  Object.entries(attributes).forEach(([attribute, value], i) => {
    names[`#u${i}`] = attribute
    name[attribute] = `#u${i}`
    if (value === undefined) {
      removes.push(`#u${i}`)
    } else {
      values[`:u${i}`] = value
      sets.push(`#u${i} = :u${i}`)
    }
  })
  const clauses = [
    ...(sets.length > 0 ? [`SET ${sets.join(', ')}`] : []),
    ...(removes.length > 0 ? [`REMOVE ${removes.join(', ')}`] : []),
  ]
  return {
    parts: {
      UpdateExpression: clauses.join(' '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
    name,
  }
}
