/**
 * `bo cluster migrate`: a single daemon's history moves into the cluster's database, so the
 * cluster's status, catch-up and overdue checks know what ran before, and its backups' chains
 * continue on any node. Copied: every finished run (with the node it ran on named after this
 * machine), when the daemon first saw each job, and each backup job's incremental state.
 * Idempotent: running it again copies nothing twice. Unfinished runs are left: stop the daemon
 * first.
 */
import { copyFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { StateDb } from '../catalog/db.ts';
import { listRuns, readJobsFirstSeen } from '../catalog/runs.ts';
import type { Config } from '../config/schema.ts';
import { fileIncrementalStore } from '../jobs/incremental-state.ts';
import { pgIncrementalStore } from './incremental-store.ts';
import { type CoordinationConfig, createPool, inTransaction } from './pg.ts';
import { migrateCluster } from './schema.ts';

export interface MigrationReport {
  runs: number;
  /** Runs already in the cluster's history (an earlier migration). */
  skipped: number;
  unfinished: number;
  jobs: number;
  /** Jobs whose incremental state was copied. */
  chains: string[];
}

export async function migrateToCluster(
  config: Config,
  db: StateDb,
  node = `${hostname()} (migrated)`,
): Promise<MigrationReport> {
  const coord = config.coordination as CoordinationConfig;
  const s = coord.schema;
  const pool = createPool(coord, 'bo cluster migrate');
  try {
    await migrateCluster(pool, s);
    const all = listRuns(db, { limit: Number.MAX_SAFE_INTEGER }).reverse();
    const report: MigrationReport = { runs: 0, skipped: 0, unfinished: 0, jobs: 0, chains: [] };
    await inTransaction(pool, async (c) => {
      for (const r of all) {
        if (!r.outcome) {
          report.unfinished++;
          continue;
        }
        const res = await c.query(
          `INSERT INTO ${s}.runs (id, job, kind, host, trigger, attempt, scheduled_at, queued_at, started_at, finished_at,
             outcome, bytes, stored_bytes, files, backup_id, error, summary, chain, node)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) ON CONFLICT (id) DO NOTHING`,
          [
            r.id,
            r.job,
            r.kind,
            r.host ?? null,
            r.trigger,
            r.attempt,
            r.scheduledAt ?? null,
            r.queuedAt,
            r.startedAt ?? null,
            r.finishedAt ?? null,
            r.outcome,
            r.bytes ?? null,
            r.storedBytes ?? null,
            r.files ?? null,
            r.backupId ?? null,
            r.error ?? null,
            r.summary ?? null,
            r.chain ? JSON.stringify(r.chain) : null,
            node,
          ],
        );
        if (res.rowCount === 1) report.runs++;
        else report.skipped++;
      }
      for (const [job, at] of readJobsFirstSeen(db)) {
        await c.query(
          `INSERT INTO ${s}.job_first_seen (job, first_seen) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [job, at],
        );
        report.jobs++;
      }
    });
    // Chains: the newest backup's snapshot file, so the next incremental may run on any node.
    const local = fileIncrementalStore(config.stateDir);
    const shared = pgIncrementalStore(pool, s, config.stateDir);
    for (const [name, job] of Object.entries(config.jobs)) {
      if (job.kind !== 'backup') continue;
      const state = await local.load(name);
      if (!state) continue;
      const copy = `${state.snar}.migrate`;
      await copyFile(state.snar, copy);
      try {
        await shared.commit(name, { backupId: state.backupId, fingerprint: state.fingerprint }, copy);
      } finally {
        await rm(copy, { force: true });
      }
      report.chains.push(name);
    }
    return report;
  } finally {
    await pool.end();
  }
}
