import type Database from 'better-sqlite3'
import { API_KEY_SCOPES, type ApiKeyRecord, type ApiKeyScope } from '../../domain/api-key.js'
import { ConflictError } from '../../errors.js'
import type { ApiKeyStore } from '../../ports.js'
import { checkApiKeyRecord, checkKeyTime } from '../store-args/api-key.js'

interface ApiKeyRow {
  id: string
  name: string
  scopes: string
  hash: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
}

/** API keys in the anomaly store's SQLite file (table api_keys, migration 4). */
export class SqliteApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: Database.Database,
    /** The owning store's error wrapper (StoreError with the file's path). */
    private readonly run: <T>(what: string, operation: () => T) => T,
  ) {}

  async insert(key: ApiKeyRecord): Promise<void> {
    checkApiKeyRecord(key)
    const inserted = this.run('store an API key', () =>
      this.db
        .prepare(
          `INSERT INTO api_keys (id, name, scopes, hash, created_at, last_used_at, revoked_at)
           VALUES (@id, @name, @scopes, @hash, @created_at, @last_used_at, @revoked_at) ON CONFLICT (id) DO NOTHING`,
        )
        .run(toRow(key)),
    )
    if (inserted.changes === 0) {
      throw new ConflictError(`an API key with id ${key.id} exists`, [{ field: 'id', reason: 'is taken' }])
    }
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const row = this.run('read an API key', () =>
      this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id),
    ) as ApiKeyRow | undefined
    return row ? fromRow(row) : null
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = this.run('list API keys', () =>
      this.db.prepare('SELECT * FROM api_keys ORDER BY created_at DESC, id').all(),
    ) as ApiKeyRow[]
    return rows.map(fromRow)
  }

  async revoke(id: string, at: number): Promise<ApiKeyRecord | null> {
    checkKeyTime('revoked_at', at)
    const row = this.run('revoke an API key', () =>
      this.db
        .prepare('UPDATE api_keys SET revoked_at = coalesce(revoked_at, @at) WHERE id = @id RETURNING *')
        .get({ id, at }),
    ) as ApiKeyRow | undefined
    return row ? fromRow(row) : null
  }

  async touch(id: string, at: number): Promise<void> {
    checkKeyTime('last_used_at', at)
    this.run('record an API key use', () =>
      this.db
        .prepare(
          'UPDATE api_keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)',
        )
        .run({ id, at }),
    )
  }
}

function toRow(key: ApiKeyRecord): ApiKeyRow {
  return {
    id: key.id,
    name: key.name,
    scopes: JSON.stringify(key.scopes),
    hash: key.hash,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    revoked_at: key.revokedAt,
  }
}

function fromRow(row: ApiKeyRow): ApiKeyRecord {
  const stored = JSON.parse(row.scopes) as unknown[]
  return {
    id: row.id,
    name: row.name,
    // Unknown scopes (from a newer MeterFlow) grant nothing here.
    scopes: API_KEY_SCOPES.filter((s): s is ApiKeyScope => stored.includes(s)),
    hash: row.hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  }
}
