import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrations as allMigrations, type Migration } from './migrations.ts';

export type StateDb = DatabaseSync;

/**
 * Opens (creating if needed) the state database at `<stateDir>/state.db` and applies pending
 * migrations in one transaction each. WAL mode so the CLI can read while the daemon writes.
 */
export function openStateDb(stateDir: string, migrations: Migration[] = allMigrations): StateDb {
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const db = new DatabaseSync(join(stateDir, 'state.db'));
  // WAL + synchronous=NORMAL: durable across crashes of bo, one fsync per checkpoint instead of per write.
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;',
  );
  migrate(db, migrations);
  return db;
}

export function migrate(db: DatabaseSync, migrations: Migration[]): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map(
      (r) => r.version,
    ),
  );
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw new Error(`state database migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
    }
  }
}
