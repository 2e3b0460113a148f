import type { Migration } from './migrations.ts';

/** State tables of the daemon's run history (migration versions 2–9 belong to this area). */
export const runMigrations: Migration[] = [
  {
    version: 2,
    name: 'run history',
    sql: `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  kind TEXT NOT NULL,
  host TEXT,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'retry', 'manual')),
  attempt INTEGER NOT NULL DEFAULT 1,
  scheduled_at TEXT,
  queued_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  outcome TEXT CHECK (outcome IN ('ok', 'failed', 'cancelled', 'abandoned')),
  bytes INTEGER,
  files INTEGER,
  backup_id TEXT,
  error TEXT,
  summary TEXT,
  owner_pid INTEGER NOT NULL,
  owner_boot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_job ON runs (job, queued_at);
CREATE INDEX IF NOT EXISTS runs_unfinished ON runs (outcome) WHERE outcome IS NULL;
CREATE TABLE IF NOT EXISTS daemon_jobs (job TEXT PRIMARY KEY, first_seen TEXT NOT NULL);`,
  },
  {
    version: 3,
    name: 'run owner start time',
    // With the pid, when the owning process started (clock ticks since boot, /proc/PID/stat):
    // a pid reused by an unrelated process no longer passes for the run's owner.
    sql: 'ALTER TABLE runs ADD COLUMN owner_start TEXT;',
  },
  {
    version: 4,
    name: 'run stored bytes',
    // A backup's stored bytes (archive, index and dumps) beside its source bytes (\`bytes\`), so
    // bo status, bo backup now through the daemon and /metrics show both without reading storage.
    sql: 'ALTER TABLE runs ADD COLUMN stored_bytes INTEGER;',
  },
  {
    version: 5,
    name: 'run chain',
    // A backup's place in its incremental chain ({type, level, root} as JSON), so bo status shows
    // the chain's length and its full's age without reading storage.
    sql: 'ALTER TABLE runs ADD COLUMN chain TEXT;',
  },
];
