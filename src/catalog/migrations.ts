/**
 * Versioned schema of the local state database. Append only: never edit a migration that has
 * shipped; add a new one with the next version. Each area (runs, health, drills…) adds its own.
 */
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
];
