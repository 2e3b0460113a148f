import type { Migration } from './migrations.ts';

/** State tables of copies to other storages (migration versions 40–49 belong to this area). */
export const copyMigrations: Migration[] = [
  {
    version: 40,
    name: 'what the last copy of each job to each storage saw',
    sql: `
CREATE TABLE IF NOT EXISTS copy_state (
  job TEXT NOT NULL,
  storage TEXT NOT NULL,
  at TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
  error TEXT,
  newest_id TEXT,
  newest_at TEXT,
  missing INTEGER NOT NULL DEFAULT 0,
  oldest_missing_id TEXT,
  oldest_missing_at TEXT,
  PRIMARY KEY (job, storage)
);`,
  },
];
