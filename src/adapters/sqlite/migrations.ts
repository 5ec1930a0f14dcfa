export interface Migration {
  version: number
  name: string
  sql: string
}

/**
 * Append-only: never edit a shipped migration, add a new one. Every statement is idempotent (IF NOT EXISTS)
 * so that a migration interrupted before its version was recorded can simply run again.
 *
 * Tables are STRICT: a value of the wrong type is refused instead of silently stored as text. Times are
 * epoch milliseconds (INTEGER), `ttl` epoch seconds (INTEGER, the seed's DynamoDB attribute), measured values
 * REAL (IEEE doubles: every JS number round-trips exactly).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'anomalies, incidents, runs, customers',
    sql: `
      -- The seed's DynamoDB table: pk CUSTOMER#{customer_id}, sk ANOMALY#{detected_at}#{metric}.
      CREATE TABLE IF NOT EXISTS anomalies (
        customer_id TEXT NOT NULL,
        detected_at INTEGER NOT NULL,
        metric TEXT NOT NULL,
        current_value REAL NOT NULL,
        baseline_mean REAL NOT NULL,
        baseline_stddev REAL NOT NULL,
        z_score REAL NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
        direction TEXT NOT NULL CHECK (direction IN ('spike', 'drop')),
        window_start INTEGER NOT NULL,
        window_end INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        incident_id TEXT,
        run_id TEXT NOT NULL,
        ttl INTEGER NOT NULL,
        -- Declared in the order queries read it: newest first, ties by metric ascending.
        PRIMARY KEY (customer_id, detected_at DESC, metric)
      ) STRICT, WITHOUT ROWID;
      -- The seed's GSI metric-severity-index (pk metric, sk detected_at); customer_id makes the order total.
      CREATE INDEX IF NOT EXISTS anomalies_metric_detected_at ON anomalies (metric, detected_at DESC, customer_id);
      -- Expiry sweeps (DELETE ... WHERE ttl < now) without a full scan.
      CREATE INDEX IF NOT EXISTS anomalies_ttl ON anomalies (ttl);

      CREATE TABLE IF NOT EXISTS incidents (
        id TEXT NOT NULL PRIMARY KEY,
        customer_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
        severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
        direction TEXT NOT NULL CHECK (direction IN ('spike', 'drop')),
        opened_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        resolved_at INTEGER,
        peak_z_score REAL NOT NULL,
        last_z_score REAL NOT NULL,
        detections INTEGER NOT NULL,
        clean_runs INTEGER NOT NULL,
        last_evaluated_slot INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status, opened_at DESC, id);
      CREATE INDEX IF NOT EXISTS incidents_customer_metric ON incidents (customer_id, metric);
      CREATE INDEX IF NOT EXISTS incidents_opened_at ON incidents (opened_at DESC, id);

      CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT NOT NULL PRIMARY KEY,
        slot INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        duration_ms REAL,
        checked INTEGER NOT NULL,
        customers INTEGER NOT NULL,
        anomalies_found INTEGER NOT NULL,
        anomalies_stored INTEGER NOT NULL,
        insufficient_data INTEGER NOT NULL,
        incidents_opened INTEGER NOT NULL,
        incidents_escalated INTEGER NOT NULL,
        incidents_resolved INTEGER NOT NULL,
        triggered_by TEXT NOT NULL,
        error TEXT
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS runs_slot ON runs (slot DESC, started_at DESC, run_id);

      CREATE TABLE IF NOT EXISTS customers (
        customer_id TEXT NOT NULL PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        threshold REAL,
        critical_threshold REAL,
        -- JSON array of metric names, or NULL for every registered metric.
        metrics TEXT CHECK (metrics IS NULL OR json_type(metrics) = 'array'),
        updated_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'alert outbox, mutes, incident acknowledgement',
    sql: `
      -- Not IF NOT EXISTS-able: the migration's own transaction makes these two statements all-or-nothing.
      ALTER TABLE incidents ADD COLUMN acknowledged_at INTEGER;
      ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT;

      CREATE TABLE IF NOT EXISTS alert_deliveries (
        id TEXT NOT NULL PRIMARY KEY,
        channel TEXT NOT NULL,
        status TEXT NOT NULL
          CHECK (status IN ('pending', 'delivered', 'failed', 'held', 'muted', 'suppressed')),
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        delivered_at INTEGER,
        -- The alert as JSON: channels format it, nothing queries inside it.
        alert TEXT NOT NULL CHECK (json_valid(alert))
      ) STRICT, WITHOUT ROWID;
      -- due(): pending rows by due time, without reading the delivered history.
      CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries (status, next_attempt_at, id);
      CREATE INDEX IF NOT EXISTS alert_deliveries_channel ON alert_deliveries (channel, id DESC);

      CREATE TABLE IF NOT EXISTS mutes (
        id TEXT NOT NULL PRIMARY KEY,
        customer_id TEXT,
        metric TEXT,
        until INTEGER NOT NULL,
        reason TEXT,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'incident feedback, per-customer detector',
    sql: `
      ALTER TABLE incidents ADD COLUMN feedback_label TEXT
        CHECK (feedback_label IS NULL OR feedback_label IN ('false_positive', 'planned'));
      ALTER TABLE incidents ADD COLUMN feedback_at INTEGER;
      ALTER TABLE incidents ADD COLUMN feedback_by TEXT;
      ALTER TABLE incidents ADD COLUMN feedback_note TEXT;
      CREATE INDEX IF NOT EXISTS incidents_feedback ON incidents (feedback_label) WHERE feedback_label IS NOT NULL;
      ALTER TABLE customers ADD COLUMN detector TEXT CHECK (detector IS NULL OR json_type(detector) = 'object');
    `,
  },
  {
    version: 4,
    name: 'API keys',
    sql: `
      -- The secret is never stored: hash is the SHA-256 of the whole key (see domain/api-key.ts).
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL CHECK (json_type(scopes) = 'array'),
        hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'shard results and finish claims of sharded runs',
    sql: `
      -- Write-once results of a sharded run's workers (see shard-store.ts). A rowid table, not WITHOUT ROWID:
      -- a payload can be megabytes, and WITHOUT ROWID suits small rows only.
      CREATE TABLE IF NOT EXISTS shard_results (
        run_id TEXT NOT NULL,
        idx INTEGER NOT NULL CHECK (idx >= 0),
        payload TEXT NOT NULL,
        ttl INTEGER NOT NULL,
        PRIMARY KEY (run_id, idx)
      ) STRICT;
      CREATE INDEX IF NOT EXISTS shard_results_ttl ON shard_results (ttl);
      -- Who may finish a run, until when (epoch ms).
      CREATE TABLE IF NOT EXISTS shard_claims (
        run_id TEXT NOT NULL PRIMARY KEY,
        owner TEXT NOT NULL,
        until INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: 'records of every detection signal, incident signals',
    sql: `
      -- kind (the signal: volume, ...) joins a record's identity. Each signal's own fields (volume: the seed's
      -- baseline_mean, baseline_stddev, z_score, samples) move into one JSON object under their storage names, so
      -- a new signal needs no new columns. SQLite cannot change a primary key in place: the table is rebuilt
      -- (not idempotent: the migration's own transaction makes the rebuild all-or-nothing).
      CREATE TABLE IF NOT EXISTS anomalies_by_kind (
        customer_id TEXT NOT NULL,
        detected_at INTEGER NOT NULL,
        metric TEXT NOT NULL,
        kind TEXT NOT NULL,
        current_value REAL NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
        direction TEXT NOT NULL CHECK (direction IN ('spike', 'drop')),
        window_start INTEGER NOT NULL,
        window_end INTEGER NOT NULL,
        signal_fields TEXT NOT NULL CHECK (json_type(signal_fields) = 'object'),
        incident_id TEXT,
        run_id TEXT NOT NULL,
        ttl INTEGER NOT NULL,
        PRIMARY KEY (customer_id, detected_at DESC, metric, kind)
      ) STRICT, WITHOUT ROWID;
      -- Every stored record is a volume one. printf('%!.17g') writes 17 significant digits: every double
      -- reads back exactly (json_object would round some to 15).
      INSERT INTO anomalies_by_kind
        SELECT customer_id, detected_at, metric, 'volume', current_value, severity, direction, window_start,
          window_end,
          '{"baseline_mean":' || printf('%!.17g', baseline_mean) ||
          ',"baseline_stddev":' || printf('%!.17g', baseline_stddev) ||
          ',"z_score":' || printf('%!.17g', z_score) ||
          ',"samples":' || samples || '}',
          incident_id, run_id, ttl
        FROM anomalies;
      DROP TABLE anomalies;
      ALTER TABLE anomalies_by_kind RENAME TO anomalies;
      CREATE INDEX IF NOT EXISTS anomalies_metric_detected_at ON anomalies (metric, detected_at DESC, customer_id);
      CREATE INDEX IF NOT EXISTS anomalies_ttl ON anomalies (ttl);

      -- Which signal opened an incident and which fired at its latest verdict: stored incidents are volume's.
      ALTER TABLE incidents ADD COLUMN opened_by_signal TEXT NOT NULL DEFAULT 'volume';
      ALTER TABLE incidents ADD COLUMN firing_signals TEXT NOT NULL DEFAULT '[]'
        CHECK (json_type(firing_signals) = 'array');
      UPDATE incidents SET firing_signals = '["volume"]' WHERE status = 'open' AND clean_runs = 0;
    `,
  },
  {
    version: 7,
    name: 'indexes of the dashboard listing orders',
    sql: `
      -- One index per listing order's first column (see list-queries.ts), so every order's first and deep pages
      -- seek instead of sorting the table: all anomalies by time (oldest first reads it backwards), by severity,
      -- and incidents by severity, customer and |peak z| (the expression the ORDER BY names).
      CREATE INDEX IF NOT EXISTS anomalies_detected_at ON anomalies (detected_at DESC, metric, customer_id, kind);
      CREATE INDEX IF NOT EXISTS anomalies_severity ON anomalies (severity, detected_at DESC, metric, customer_id, kind);
      CREATE INDEX IF NOT EXISTS incidents_severity ON incidents (severity, opened_at DESC, id);
      CREATE INDEX IF NOT EXISTS incidents_customer ON incidents (customer_id, opened_at DESC, id);
      CREATE INDEX IF NOT EXISTS incidents_peak_z ON incidents (abs(peak_z_score) DESC, opened_at DESC, id);
    `,
  },
]
