import type { Migration } from './migrations.ts';

/** State tables of health checks (migration versions 20–29 belong to this area). Times are ms since the epoch. */
export const healthMigrations: Migration[] = [
  {
    version: 20,
    name: 'health check results (the history: status changes plus an hourly sample)',
    sql: `
CREATE TABLE IF NOT EXISTS health_results (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  host TEXT NOT NULL,
  check_name TEXT NOT NULL,
  subject TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'warn', 'crit', 'unknown')),
  value REAL,
  message TEXT NOT NULL,
  data TEXT
);
CREATE INDEX IF NOT EXISTS health_results_by_key ON health_results (host, check_name, subject, at);
CREATE INDEX IF NOT EXISTS health_results_by_time ON health_results (at);`,
  },
  {
    version: 21,
    name: 'health state per check: last result and alert state machine',
    sql: `
CREATE TABLE IF NOT EXISTS health_state (
  host TEXT NOT NULL,
  check_name TEXT NOT NULL,
  subject TEXT NOT NULL,
  status TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  sampled_at INTEGER,
  alert_state TEXT,
  alert_since INTEGER,
  candidate TEXT,
  candidate_count INTEGER NOT NULL DEFAULT 0,
  last_alert_at INTEGER,
  PRIMARY KEY (host, check_name, subject)
) WITHOUT ROWID;`,
  },
  {
    version: 22,
    name: 'health reports (latest per origin, for changes since the previous one)',
    sql: `
CREATE TABLE IF NOT EXISTS health_reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  origin TEXT NOT NULL,
  report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS health_reports_by_origin ON health_reports (origin, at);`,
  },
  {
    version: 23,
    name: 'health alert outbox (alerts not yet delivered, per notifier, retried on later runs)',
    sql: `
CREATE TABLE IF NOT EXISTS health_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  notifier TEXT NOT NULL,
  alert TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  claimed_at INTEGER
);
CREATE INDEX IF NOT EXISTS health_outbox_by_notifier ON health_outbox (notifier, id);`,
  },
];
