/**
 * bo's own tables in the cluster's PostgreSQL schema (pg-boss keeps its queue in `<schema>_boss`):
 * the run history of every node, the nodes and their heartbeats, the incremental-chain state and
 * small shared documents (health transitions, the alert outbox). Applied at start under an
 * advisory lock, so nodes starting together migrate once.
 */
import { inTransaction, type PgPool } from './pg.ts';

interface PgMigration {
  version: number;
  name: string;
  sql: (s: string) => string;
}

const migrations: PgMigration[] = [
  {
    version: 1,
    name: 'cluster runs, nodes, incremental state, shared documents',
    sql: (s) => `
CREATE TABLE ${s}.runs (
  id text PRIMARY KEY,
  job text NOT NULL,
  kind text NOT NULL,
  host text,
  trigger text NOT NULL,
  attempt int NOT NULL DEFAULT 1,
  scheduled_at timestamptz,
  queued_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  outcome text CHECK (outcome IN ('ok', 'failed', 'cancelled', 'abandoned')),
  bytes bigint,
  stored_bytes bigint,
  files bigint,
  backup_id text,
  error text,
  summary text,
  chain jsonb,
  node text,
  queue_job uuid
);
CREATE INDEX runs_by_job ON ${s}.runs (job, queued_at);
CREATE INDEX runs_unfinished ON ${s}.runs (node) WHERE outcome IS NULL;
CREATE INDEX runs_by_queue_job ON ${s}.runs (queue_job);
CREATE TABLE ${s}.job_first_seen (job text PRIMARY KEY, first_seen timestamptz NOT NULL);
CREATE TABLE ${s}.nodes (
  name text PRIMARY KEY,
  pid int NOT NULL,
  version text NOT NULL,
  config_hash text NOT NULL,
  started_at timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  stopped_at timestamptz,
  socket text,
  running int NOT NULL DEFAULT 0
);
CREATE TABLE ${s}.incremental (
  job text PRIMARY KEY,
  backup_id text NOT NULL,
  fingerprint text NOT NULL,
  size bigint NOT NULL,
  saved_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ${s}.incremental_chunks (
  job text NOT NULL,
  backup_id text NOT NULL,
  seq int NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (job, backup_id, seq)
);
CREATE TABLE ${s}.documents (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);`,
  },
];

/** Creates the schema and applies pending migrations (idempotent; safe with nodes starting at once). */
export async function migrateCluster(pool: PgPool, schema: string): Promise<void> {
  await inTransaction(pool, async (c) => {
    // One migrator at a time across the cluster; the lock goes with the transaction.
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`bo-migrate:${schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await c.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`);
    const applied = new Set(rows.map((r) => r.version));
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await c.query(m.sql(schema));
      await c.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
    }
  });
}
