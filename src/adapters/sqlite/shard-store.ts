import type Database from 'better-sqlite3'
import type { Clock, ShardStore, StoredShardResult } from '../../ports.js'
import { checkFinishClaim, checkRunId, checkShardResult } from '../store-args/shard.js'

interface ShardResultRow {
  run_id: string
  idx: number
  payload: string
  ttl: number
}

/** A claim that expired this long ago is deleted by the next write: expired and absent mean the same. */
const CLAIM_KEPT_MS = 86_400_000

/**
 * Shard results and finish claims in the anomaly store's SQLite file (tables shard_results and shard_claims,
 * migration 5). better-sqlite3 is synchronous, so each method is one atomic step for this process; IMMEDIATE
 * transactions make it one for other processes on the same file too.
 */
export class SqliteShardStore implements ShardStore {
  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    /** The owning store's error wrapper (StoreError with the file's path). */
    private readonly run: <T>(what: string, operation: () => T) => T,
  ) {}

  async putResult(result: StoredShardResult): Promise<boolean> {
    checkShardResult(result)
    const now = this.clock.now()
    return this.run('store a shard result', () =>
      this.db
        .transaction(() => {
          // Results are wanted until their run is finished: expired ones (of any run) go with the next write.
          this.db.prepare('DELETE FROM shard_results WHERE ttl < ?').run(Math.floor(now / 1000))
          this.db.prepare('DELETE FROM shard_claims WHERE until < ?').run(now - CLAIM_KEPT_MS)
          const row: ShardResultRow = {
            run_id: result.runId,
            idx: result.index,
            payload: result.payload,
            ttl: result.ttl,
          }
          // Write-once: the first result of a shard stays, whatever a duplicate carries.
          const inserted = this.db
            .prepare(
              `INSERT INTO shard_results (run_id, idx, payload, ttl) VALUES (@run_id, @idx, @payload, @ttl)
               ON CONFLICT (run_id, idx) DO NOTHING`,
            )
            .run(row)
          return inserted.changes === 1
        })
        .immediate(),
    )
  }

  async results(runId: string): Promise<StoredShardResult[]> {
    checkRunId(runId)
    const rows = this.run('read shard results', () =>
      this.db.prepare('SELECT * FROM shard_results WHERE run_id = ? ORDER BY idx').all(runId),
    ) as ShardResultRow[]
    return rows.map((r) => ({ runId: r.run_id, index: r.idx, payload: r.payload, ttl: r.ttl }))
  }

  async storedIndexes(runId: string): Promise<number[]> {
    checkRunId(runId)
    // Answered from the primary key's index alone: no payload is read.
    return this.run('list stored shards', () =>
      this.db.prepare('SELECT idx FROM shard_results WHERE run_id = ? ORDER BY idx').pluck().all(runId),
    ) as number[]
  }

  async claimFinish(runId: string, owner: string, now: number, until: number): Promise<boolean> {
    checkFinishClaim(runId, owner, now, until)
    const taken = this.run('claim a run finish', () =>
      this.db
        .prepare(
          `INSERT INTO shard_claims (run_id, owner, until) VALUES (@run_id, @owner, @until)
           ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
           WHERE shard_claims.until <= @now OR shard_claims.owner = excluded.owner`,
        )
        .run({ run_id: runId, owner, until, now }),
    )
    return taken.changes === 1
  }
}
