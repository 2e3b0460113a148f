/**
 * Health transition state and the alert outbox, shared by the cluster: a health job runs on any
 * node, and the state machine it advances (health_state: debounce counts, alert states) and the
 * alerts it could not deliver yet (health_outbox) must be the ones the previous run left, whichever
 * node ran it. Around each health run the node takes a cluster-wide advisory lock, loads both
 * tables from PostgreSQL into its state database, runs, and writes them back: health runs are
 * serialised across the cluster and each sees its predecessor's state.
 */
import type { StateDb } from '../catalog/db.ts';
import type { Report } from '../health/report.ts';
import { saveReport } from '../health/report-store.ts';
import type { SharedHealthState } from '../health/service.ts';
import type { PgPool } from './pg.ts';

const TABLES = ['health_state', 'health_outbox'] as const;

/**
 * Brings the cluster's newest health report into this node's state database when it is newer
 * than the newest there, so every node's page shows it. Returns its time (undefined: none).
 */
export async function importLatestReport(
  pool: PgPool,
  s: string,
  db: StateDb,
  since: number,
): Promise<number> {
  const { rows } = await pool.query(
    `SELECT value FROM ${s}.documents WHERE key = 'health:report' AND (value->>'at')::bigint > $1`,
    [since],
  );
  const doc = rows[0]?.value as { at: number; report: Report } | undefined;
  if (!doc) return since;
  const have = db.prepare("SELECT max(at) AS at FROM health_reports WHERE origin = 'daemon'").get() as {
    at: number | null;
  };
  if ((have.at ?? 0) < doc.at) saveReport(db, doc.report, 'daemon');
  return doc.at;
}

export function sharedHealthState(pool: PgPool, s: string): SharedHealthState {
  return {
    async pull(db: StateDb) {
      const client = await pool.connect();
      const lock = `bo-health:${s}`;
      try {
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
        const { rows } = await client.query(`SELECT key, value FROM ${s}.documents WHERE key = ANY($1)`, [
          TABLES.map((t) => `health:${t}`),
        ]);
        const docs = new Map(rows.map((r) => [String(r.key), r.value as Array<Record<string, unknown>>]));
        db.exec('BEGIN');
        try {
          for (const t of TABLES) {
            const stored = docs.get(`health:${t}`);
            if (!stored) continue; // first health run of the cluster: this node's tables start it
            db.exec(`DELETE FROM ${t}`);
            for (const row of stored) {
              const cols = Object.keys(row);
              db.prepare(
                `INSERT INTO ${t} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
              ).run(...cols.map((c) => row[c] as string | number | null));
            }
          }
          db.exec('COMMIT');
        } catch (err) {
          db.exec('ROLLBACK');
          throw err;
        }
      } catch (err) {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => {});
        client.release();
        throw err;
      }
      return {
        async push() {
          try {
            for (const t of TABLES) {
              const rows = db.prepare(`SELECT * FROM ${t}`).all();
              await client.query(
                `INSERT INTO ${s}.documents (key, value, updated_at) VALUES ($1, $2, now())
                 ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now()`,
                [`health:${t}`, JSON.stringify(rows)],
              );
            }
            // The newest report of the daemons' health jobs, for every node's page.
            const newest = db
              .prepare(
                "SELECT at, report FROM health_reports WHERE origin = 'daemon' ORDER BY at DESC, id DESC LIMIT 1",
              )
              .get() as { at: number; report: string } | undefined;
            if (newest)
              await client.query(
                `INSERT INTO ${s}.documents (key, value, updated_at) VALUES ('health:report', $1, now())
                 ON CONFLICT (key) DO UPDATE SET value = $1, updated_at = now()
                 WHERE (${s}.documents.value->>'at')::bigint < ($1::jsonb->>'at')::bigint`,
                [JSON.stringify({ at: newest.at, report: JSON.parse(newest.report) })],
              );
          } finally {
            await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => {});
            client.release();
          }
        },
      };
    },
  };
}
