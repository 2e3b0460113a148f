import type { Migration } from './migrations.ts';

/** State tables of verify, drill and prune (migration versions 30–39 belong to this area). */
export const checkMigrations: Migration[] = [
  {
    version: 30,
    name: 'backup checks (verify and restore drills)',
    sql: `
CREATE TABLE IF NOT EXISTS backup_checks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('verify', 'drill')),
  storage TEXT NOT NULL,
  job TEXT NOT NULL,
  backup_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
  depth TEXT,
  files INTEGER,
  bytes INTEGER,
  target TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS backup_checks_by_job ON backup_checks (job, kind, finished_at);
CREATE INDEX IF NOT EXISTS backup_checks_by_backup ON backup_checks (storage, job, backup_id, kind);`,
  },
  {
    version: 31,
    name: 'what the last prune of each job listed',
    sql: `
CREATE TABLE IF NOT EXISTS prune_seen (
  storage TEXT NOT NULL,
  job TEXT NOT NULL,
  at TEXT NOT NULL,
  listed INTEGER NOT NULL,
  kept INTEGER NOT NULL,
  newest_id TEXT,
  newest_at TEXT,
  PRIMARY KEY (storage, job)
);`,
  },
];
