/**
 * Versioned schema of the local state database. Append only: never edit a migration that has
 * shipped; add a new one with the next version. Each area (runs, health, drills…) adds its own.
 */
import { checkMigrations } from './checks-schema.ts';
import { copyMigrations } from './copies-schema.ts';
import { healthMigrations } from './health-schema.ts';
import { runMigrations } from './runs-schema.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'meta',
    sql: `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  },
  ...checkMigrations,
  ...copyMigrations,
  ...healthMigrations,
  ...runMigrations,
];
