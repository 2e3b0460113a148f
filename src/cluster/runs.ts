/**
 * The cluster's run history (table `<schema>.runs`): the same records as the state database's
 * (catalog/runs.ts), written by every node, with the node that ran each attempt and the queue job
 * (pg-boss) it stood for. A row without an outcome is in progress on its node; when that node's
 * heartbeat stops (nodes.ts) or the queue gives its job to another node, it becomes abandoned.
 */
import type { RunChain, RunEnd, RunOutcome, RunRecord, RunTrigger } from '../catalog/runs.ts';
import type { PgPool } from './pg.ts';

export type ClusterRun = RunRecord & { node?: string | undefined };

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null ? undefined : String(v));
const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
const opt = (v: unknown) => (v === null || v === undefined ? undefined : String(v));

export function toClusterRun(row: Record<string, unknown>): ClusterRun {
  return {
    id: String(row.id),
    job: String(row.job),
    kind: String(row.kind),
    host: opt(row.host),
    trigger: row.trigger as RunTrigger,
    attempt: Number(row.attempt),
    scheduledAt: iso(row.scheduled_at),
    queuedAt: iso(row.queued_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    outcome: opt(row.outcome) as RunOutcome | undefined,
    bytes: num(row.bytes),
    storedBytes: num(row.stored_bytes),
    files: num(row.files),
    backupId: opt(row.backup_id),
    error: opt(row.error),
    summary: opt(row.summary),
    chain: (row.chain ?? undefined) as RunChain | undefined,
    node: opt(row.node),
  };
}

export interface ClusterRuns {
  /** A run began on `node` for queue job `queueJob` (undefined for runs outside the queue). */
  started(r: RunRecord & { startedAt: string }, node: string, queueJob?: string): Promise<void>;
  finished(id: string, end: RunEnd): Promise<void>;
  /** Earlier attempts of a queue job still open: their node lost the job (died, or was cut off). */
  abandonAttempts(queueJob: string, at: string, why: string): Promise<ClusterRun[]>;
  /** Open runs of nodes whose heartbeat is older than `deadBefore`. */
  abandonDeadNodes(deadBefore: string, at: string): Promise<ClusterRun[]>;
  get(id: string): Promise<ClusterRun | undefined>;
  latestFinished(opts?: { ok?: boolean }): Promise<Map<string, ClusterRun>>;
  unfinished(): Promise<ClusterRun[]>;
  list(opts?: { job?: string; limit?: number }): Promise<ClusterRun[]>;
  jobsFirstSeen(jobs: string[], at: string): Promise<Map<string, string>>;
  prune(opts: { before: string; perJob: number }): Promise<number>;
}

export function clusterRuns(pool: PgPool, s: string): ClusterRuns {
  const q = async (sql: string, args: unknown[] = []) => (await pool.query(sql, args)).rows;
  return {
    async started(r, node, queueJob) {
      await q(
        `INSERT INTO ${s}.runs (id, job, kind, host, trigger, attempt, scheduled_at, queued_at, started_at, node, queue_job)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at, node = EXCLUDED.node`,
        [
          r.id,
          r.job,
          r.kind,
          r.host ?? null,
          r.trigger,
          r.attempt,
          r.scheduledAt ?? null,
          r.queuedAt,
          r.startedAt,
          node,
          queueJob ?? null,
        ],
      );
    },
    async finished(id, end) {
      await q(
        `UPDATE ${s}.runs SET finished_at = $1, outcome = $2, bytes = $3, stored_bytes = $4, files = $5,
           backup_id = $6, error = $7, summary = $8, chain = $9 WHERE id = $10 AND outcome IS NULL`,
        [
          end.finishedAt,
          end.outcome,
          end.bytes ?? null,
          end.storedBytes ?? null,
          end.files ?? null,
          end.backupId ?? null,
          end.error ?? null,
          end.summary ?? null,
          end.chain ? JSON.stringify(end.chain) : null,
          id,
        ],
      );
    },
    async abandonAttempts(queueJob, at, why) {
      const rows = await q(
        `UPDATE ${s}.runs SET outcome = 'abandoned', finished_at = $2, error = $3
         WHERE queue_job = $1 AND outcome IS NULL RETURNING *`,
        [queueJob, at, why],
      );
      return rows.map(toClusterRun);
    },
    async abandonDeadNodes(deadBefore, at) {
      const rows = await q(
        `UPDATE ${s}.runs r SET outcome = 'abandoned', finished_at = $2,
           error = 'its node ' || r.node || ' stopped answering while the run was in progress'
         FROM ${s}.nodes n
         WHERE r.outcome IS NULL AND r.node = n.name AND n.heartbeat_at < $1 RETURNING r.*`,
        [deadBefore, at],
      );
      return rows.map(toClusterRun);
    },
    async get(id) {
      const rows = await q(`SELECT * FROM ${s}.runs WHERE id = $1`, [id]);
      return rows[0] ? toClusterRun(rows[0]) : undefined;
    },
    async latestFinished(opts = {}) {
      const filter = opts.ok ? "outcome = 'ok'" : 'outcome IS NOT NULL';
      const rows = await q(
        `SELECT DISTINCT ON (job) * FROM ${s}.runs WHERE ${filter} ORDER BY job, finished_at DESC, id DESC`,
      );
      return new Map(rows.map((r) => [String(r.job), toClusterRun(r)]));
    },
    async unfinished() {
      return (await q(`SELECT * FROM ${s}.runs WHERE outcome IS NULL ORDER BY queued_at`)).map(toClusterRun);
    },
    async list(opts = {}) {
      const rows = await q(
        `SELECT * FROM ${s}.runs WHERE ($1::text IS NULL OR job = $1) ORDER BY queued_at DESC, id DESC LIMIT $2`,
        [opts.job ?? null, opts.limit ?? 100],
      );
      return rows.map(toClusterRun);
    },
    async jobsFirstSeen(jobs, at) {
      await q(
        `INSERT INTO ${s}.job_first_seen (job, first_seen) SELECT j, $2 FROM unnest($1::text[]) j ON CONFLICT DO NOTHING`,
        [jobs, at],
      );
      const rows = await q(`SELECT job, first_seen FROM ${s}.job_first_seen WHERE job = ANY($1)`, [jobs]);
      return new Map(rows.map((r) => [String(r.job), iso(r.first_seen)!]));
    },
    async prune(opts) {
      const rows = await q(
        `WITH keep AS (SELECT DISTINCT ON (job) id FROM ${s}.runs WHERE outcome = 'ok' ORDER BY job, finished_at DESC),
              ranked AS (SELECT id, row_number() OVER (PARTITION BY job ORDER BY queued_at DESC) AS rn FROM ${s}.runs)
         DELETE FROM ${s}.runs r WHERE r.outcome IS NOT NULL AND r.id NOT IN (SELECT id FROM keep)
           AND (r.finished_at < $1 OR r.id IN (SELECT id FROM ranked WHERE rn > $2)) RETURNING 1`,
        [opts.before, opts.perJob],
      );
      return rows.length;
    },
  };
}
