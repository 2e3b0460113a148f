/**
 * The cluster's connection to PostgreSQL: one pg Pool per daemon, shared by pg-boss and bo's own
 * tables. The URL is a secret (never logged: errors are re-worded without it); TLS comes from the
 * URL's sslmode or from `coordination.tls`. Every statement is bounded so a node cut off from the
 * database notices within seconds instead of hanging on a dead TCP connection.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Coordination } from '../config/schema.ts';
import type { SecretValue } from '../config/secret.ts';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

/** How long one statement (and one connection attempt) may take before the node gives up on it. */
export const PG_STATEMENT_TIMEOUT_MS = 10_000;

export type CoordinationConfig = Omit<Coordination, 'url'> & { url: SecretValue };

/** The pg connection options for the config's database (TLS included). */
export function pgOptions(c: CoordinationConfig, applicationName: string): pg.PoolConfig {
  const ssl = c.tls
    ? {
        rejectUnauthorized: c.tls.rejectUnauthorized,
        ...(c.tls.ca ? { ca: readFileSync(c.tls.ca, 'utf8') } : {}),
      }
    : undefined;
  return {
    connectionString: c.url.reveal(),
    ...(ssl ? { ssl } : {}),
    application_name: applicationName,
    connectionTimeoutMillis: PG_STATEMENT_TIMEOUT_MS,
    statement_timeout: PG_STATEMENT_TIMEOUT_MS,
    query_timeout: PG_STATEMENT_TIMEOUT_MS + 2_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    idleTimeoutMillis: 30_000,
    max: 8,
  };
}

export function createPool(c: CoordinationConfig, applicationName: string): PgPool {
  const pool = new pg.Pool(pgOptions(c, applicationName));
  // An idle client whose server went away emits 'error'; the pool drops it. Never crash on it.
  pool.on('error', () => {});
  return pool;
}

/** Runs `f` in one transaction on one connection. */
export async function inTransaction<T>(pool: PgPool, f: (c: PgClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const r = await f(client);
    await client.query('COMMIT');
    return r;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** A pg error as a message that cannot carry the connection URL. */
export function pgErrorMessage(err: unknown, url?: SecretValue): string {
  let m = err instanceof Error ? err.message : String(err);
  const secret = url?.reveal();
  if (secret && m.includes(secret)) m = m.split(secret).join('[redacted]');
  return m.replace(/postgres(ql)?:\/\/[^\s'"]+/g, 'postgres://[redacted]');
}
