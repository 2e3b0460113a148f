/**
 * Incremental-chain state in the cluster's database, so whichever node runs a job's next backup
 * continues its chain: the job's kept state (table `incremental`) and tar's snapshot file of its
 * newest backup, in 1 MiB chunks (table `incremental_chunks`), streamed in and out so a snapshot
 * file of tens of MB never sits in memory. A node keeps a copy under its stateDir as a cache; the
 * database is the truth. The new state replaces the old in one transaction, after the manifest
 * committed (jobs/backup.ts), so a failed run leaves the previous state for the next one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileIncrementalStore, type IncrementalStore } from '../jobs/incremental-state.ts';
import { inTransaction, type PgPool } from './pg.ts';

const CHUNK = 1024 * 1024;
/** Chunks read per query when streaming a snapshot file out. */
const READ_BATCH = 4;

export function pgIncrementalStore(pool: PgPool, s: string, stateDir: string): IncrementalStore {
  const files = fileIncrementalStore(stateDir);
  const cacheDir = join(stateDir, 'incremental', 'cluster');
  const cached = (job: string, backupId: string) =>
    join(cacheDir, `${encodeURIComponent(job)}.${backupId}.snar`);
  return {
    async load(job) {
      const { rows } = await pool.query(
        `SELECT backup_id, fingerprint, size FROM ${s}.incremental WHERE job = $1`,
        [job],
      );
      const row = rows[0];
      if (!row) return undefined;
      const backupId = String(row.backup_id);
      const path = cached(job, backupId);
      const have = await stat(path).catch(() => undefined);
      if (have?.size !== Number(row.size)) {
        await mkdir(cacheDir, { recursive: true, mode: 0o700 });
        const tmp = `${path}.tmp`;
        await pipeline(chunksOf(pool, s, job, backupId), createWriteStream(tmp, { mode: 0o600 }));
        if ((await stat(tmp)).size !== Number(row.size)) {
          await rm(tmp, { force: true });
          return undefined; // replaced while we read it: the run makes a full, saying why
        }
        await rename(tmp, path);
      }
      return { backupId, fingerprint: String(row.fingerprint), snar: path };
    },
    receive: (job, runId, body, opts) => files.receive(job, runId, body, opts),
    async commit(job, state, received) {
      const size = (await stat(received)).size;
      await inTransaction(pool, async (c) => {
        // Concurrent commits of one job (which the lease prevents) would be serialised here.
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`bo-incremental:${job}`]);
        await c.query(`DELETE FROM ${s}.incremental_chunks WHERE job = $1 AND backup_id = $2`, [
          job,
          state.backupId,
        ]);
        let seq = 0;
        for await (const chunk of createReadStream(received, { highWaterMark: CHUNK })) {
          await c.query(
            `INSERT INTO ${s}.incremental_chunks (job, backup_id, seq, data) VALUES ($1, $2, $3, $4)`,
            [job, state.backupId, seq++, chunk],
          );
        }
        await c.query(
          `INSERT INTO ${s}.incremental (job, backup_id, fingerprint, size, saved_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (job) DO UPDATE SET backup_id = $2, fingerprint = $3, size = $4, saved_at = now()`,
          [job, state.backupId, state.fingerprint, size],
        );
        await c.query(`DELETE FROM ${s}.incremental_chunks WHERE job = $1 AND backup_id <> $2`, [
          job,
          state.backupId,
        ]);
      });
      await mkdir(cacheDir, { recursive: true, mode: 0o700 });
      await rename(received, cached(job, state.backupId));
    },
    discard: (received) => files.discard(received),
  };
}

/** The chunks of a snapshot file, in order, a few per query. */
function chunksOf(pool: PgPool, s: string, job: string, backupId: string): Readable {
  let next = 0;
  let batch: Buffer[] = [];
  return new Readable({
    async read() {
      try {
        if (batch.length === 0) {
          const { rows } = await pool.query(
            `SELECT data FROM ${s}.incremental_chunks WHERE job = $1 AND backup_id = $2 AND seq >= $3 ORDER BY seq LIMIT $4`,
            [job, backupId, next, READ_BATCH],
          );
          batch = rows.map((r) => r.data as Buffer);
          next += batch.length;
          if (batch.length === 0) return void this.push(null);
        }
        this.push(batch.shift());
      } catch (err) {
        this.destroy(err as Error);
      }
    },
  });
}
