import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { API_KEY_SCOPES, type ApiKeyRecord, type ApiKeyScope } from '../../domain/api-key.js'
import { ConflictError } from '../../errors.js'
import type { ApiKeyStore } from '../../ports.js'
import { checkApiKeyRecord, checkKeyTime } from '../store-args/api-key.js'
import { errorName } from './client.js'
import type { Item } from './items.js'
import { API_KEYS_PK, apiKeyKey, PK, SK } from './keys.js'
import { getItem, queryAll, type TableContext } from './query.js'

/** What the key store shares with the anomaly store that owns it. */
export interface ApiKeyStoreContext extends TableContext {
  /** The owner's wrapper: refuses when closed, turns SDK failures into StoreErrors naming `what` and the table. */
  run<T>(what: string, operation: () => Promise<T>): Promise<T>
}

/**
 * API keys in the anomaly table under pk API_KEYS, sk = key id. The items carry neither `metric` nor
 * `detected_at`, so they stay out of the seed's GSI.
 */
export class DynamoDbApiKeyStore implements ApiKeyStore {
  constructor(private readonly ctx: ApiKeyStoreContext) {}

  async insert(key: ApiKeyRecord): Promise<void> {
    checkApiKeyRecord(key)
    await this.ctx.run('store an API key', async () => {
      try {
        await this.ctx.doc.send(
          new PutCommand({
            TableName: this.ctx.table,
            Item: toItem(key),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        )
      } catch (err) {
        if (errorName(err) !== 'ConditionalCheckFailedException') throw err
        throw new ConflictError(`an API key with id ${key.id} exists`, [{ field: 'id', reason: 'is taken' }])
      }
    })
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    if (!isKeyId(id)) return null
    const item = await this.ctx.run('read an API key', () => getItem(this.ctx, apiKeyKey(id)))
    return item ? fromItem(item) : null
  }

  async list(): Promise<ApiKeyRecord[]> {
    const items = await this.ctx.run('list API keys', () =>
      queryAll(this.ctx.doc, {
        TableName: this.ctx.table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':pk': API_KEYS_PK },
        ConsistentRead: true,
      }),
    )
    return items.map(fromItem).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
  }

  async revoke(id: string, at: number): Promise<ApiKeyRecord | null> {
    checkKeyTime('revoked_at', at)
    if (!isKeyId(id)) return null
    return this.ctx.run('revoke an API key', async () => {
      try {
        const out = await this.ctx.doc.send(
          new UpdateCommand({
            TableName: this.ctx.table,
            Key: apiKeyKey(id),
            // The first revocation time stays.
            UpdateExpression: 'SET revoked_at = if_not_exists(revoked_at, :at)',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':at': at },
            ReturnValues: 'ALL_NEW',
          }),
        )
        return fromItem(out.Attributes as Item)
      } catch (err) {
        if (errorName(err) === 'ConditionalCheckFailedException') return null
        throw err
      }
    })
  }

  async touch(id: string, at: number): Promise<void> {
    checkKeyTime('last_used_at', at)
    if (!isKeyId(id)) return
    await this.ctx.run('record an API key use', async () => {
      try {
        await this.ctx.doc.send(
          new UpdateCommand({
            TableName: this.ctx.table,
            Key: apiKeyKey(id),
            UpdateExpression: 'SET last_used_at = :at',
            ConditionExpression:
              'attribute_exists(#pk) AND (attribute_not_exists(last_used_at) OR last_used_at < :at)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':at': at },
          }),
        )
      } catch (err) {
        // Unknown key, or a later use is already recorded: nothing to do.
        if (errorName(err) !== 'ConditionalCheckFailedException') throw err
      }
    })
  }
}

/** A sort key DynamoDB accepts (non-empty, within its size limit); anything else names no stored key. */
function isKeyId(id: string): boolean {
  return id !== '' && Buffer.byteLength(id, 'utf8') <= 1024
}

function toItem(key: ApiKeyRecord): Item {
  return {
    ...apiKeyKey(key.id),
    name: key.name,
    // A list, not a string set: sets cannot be empty and carry no order.
    scopes: key.scopes,
    hash: key.hash,
    created_at: key.createdAt,
    ...(key.lastUsedAt === null ? {} : { last_used_at: key.lastUsedAt }),
    ...(key.revokedAt === null ? {} : { revoked_at: key.revokedAt }),
  }
}

function fromItem(item: Item): ApiKeyRecord {
  const stored = Array.isArray(item.scopes) ? (item.scopes as unknown[]) : []
  return {
    id: String(item[SK]),
    name: String(item.name),
    // Unknown scopes (from a newer MeterFlow) grant nothing here.
    scopes: API_KEY_SCOPES.filter((s): s is ApiKeyScope => stored.includes(s)),
    hash: String(item.hash),
    createdAt: Number(item.created_at),
    lastUsedAt: typeof item.last_used_at === 'number' ? item.last_used_at : null,
    revokedAt: typeof item.revoked_at === 'number' ? item.revoked_at : null,
  }
}
