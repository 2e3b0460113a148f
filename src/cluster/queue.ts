/**
 * The cluster's run queue on pg-boss: one queue, `bo-runs`, with the `exclusive` policy keyed by
 * job name (at most one queued or running run per job, cluster-wide: the single daemon's "no
 * overlap"), a heartbeat lease per claimed run (a node that stops renewing loses it and pg-boss
 * retries the run elsewhere under its retry limit), and a per-host group limit. The global limit
 * is a count of the active runs taken under a transaction-scoped advisory lock, so two nodes
 * claiming at once cannot both take the last slot.
 */
import { PgBoss } from 'pg-boss';
import type { RunTrigger } from '../catalog/runs.ts';
import type { Job } from '../config/schema.ts';
import { jobHosts } from '../daemon/timing.ts';
import { type CoordinationConfig, inTransaction, type PgPool, pgOptions } from './pg.ts';

export const QUEUE = 'bo-runs';

/** What a queued run carries. */
export interface QueuedRunData {
  job: string;
  trigger: RunTrigger;
  /** The schedule time it stands for (ISO), absent for runs on request. */
  slot?: string | undefined;
  full?: boolean | undefined;
}

export interface ClaimedRun {
  id: string;
  retryCount: number;
  data: QueuedRunData;
  createdOn: Date;
}

/** pg-boss's longest expiry: a run may hold its claim at most 24 h (the lease ends it sooner). */
const EXPIRE_SECONDS = 24 * 3600;

export async function startBoss(c: CoordinationConfig, node: string): Promise<PgBoss> {
  const o = pgOptions(c, `bo ${node} queue`);
  const boss = new PgBoss({
    connectionString: o.connectionString!,
    ...(o.ssl ? { ssl: o.ssl } : {}),
    application_name: String(o.application_name),
    connectionTimeoutMillis: o.connectionTimeoutMillis,
    max: 4,
    schema: `${c.schema}_boss`,
    schedule: false,
    // Expired leases are found within seconds, so a dead node's run is retried well within 30 s.
    superviseIntervalSeconds: 2,
    monitorIntervalSeconds: 5,
    instanceName: node,
    openTelemetry: { enabled: false },
  });
  boss.on('error', () => {});
  await boss.start();
  const queue = {
    policy: 'exclusive' as const,
    heartbeatSeconds: Math.max(10, Math.round(c.leaseTimeout / 1000)),
    expireInSeconds: EXPIRE_SECONDS,
    deleteAfterSeconds: 7 * 24 * 3600,
  };
  if (!(await boss.getQueue(QUEUE))) {
    try {
      await boss.createQueue(QUEUE, queue);
    } catch (err) {
      // Another node created it first.
      if (!(await boss.getQueue(QUEUE))) throw err;
    }
  } else await boss.updateQueue(QUEUE, { heartbeatSeconds: queue.heartbeatSeconds });
  return boss;
}

/** pg-boss's send options for a run of `job`: its retry policy and its host group. */
export function sendOptions(name: string, job: Job, o: { id: string; startAfter: Date; retries: boolean }) {
  const host = jobHosts(job)[0];
  return {
    id: o.id,
    singletonKey: name,
    startAfter: o.startAfter,
    retryLimit: o.retries ? job.retries : 0,
    retryDelay: Math.max(0, Math.round(job.retryDelay / 1000)),
    ...(job.retries > 0 && o.retries
      ? { retryBackoff: true, retryDelayMax: Math.max(1, Math.round(job.retryDelayMax / 1000)) }
      : {}),
    ...(host ? { group: { id: host } } : {}),
  };
}

export interface RunQueue {
  boss: PgBoss;
  /**
   * Claims up to `want` runs that are due, within the cluster-wide limits: `concurrency` active
   * runs in all, `perHost` on one host.
   */
  claim(o: { want: number; concurrency: number; perHost: number }): Promise<ClaimedRun[]>;
  /** The queued (created or retry) runs of the cluster, oldest first. */
  queued(): Promise<Array<ClaimedRun & { state: string; startAfter: Date }>>;
  /** Renews this node's lease of a claimed run; false when the claim is gone (another node has it). */
  renew(run: { id: string; retryCount: number }): Promise<boolean>;
  /** The state of a queue job (undefined: no such job). */
  state(id: string): Promise<string | undefined>;
  /** A queue job: its state, what it carries, when it was queued (undefined: no such job). */
  job(
    id: string,
  ): Promise<{ state: string; data: QueuedRunData; createdOn: Date; retryCount: number } | undefined>;
}

export function runQueue(boss: PgBoss, pool: PgPool, schema: string): RunQueue {
  let table: string | undefined;
  const jobTable = async (c: { query: PgPool['query'] }) => {
    if (table) return table;
    const { rows } = await c.query<{ table_name: string }>(
      `SELECT table_name FROM ${schema}_boss.queue WHERE name = $1`,
      [QUEUE],
    );
    table = rows[0]?.table_name ?? 'job';
    return table;
  };
  return {
    boss,
    async claim(o) {
      if (o.want <= 0) return [];
      return inTransaction(pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`bo-claim:${schema}`]);
        const { rows } = await c.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${schema}_boss.${await jobTable(c)} WHERE name = $1 AND state = 'active'`,
          [QUEUE],
        );
        const room = Math.min(o.want, o.concurrency - Number(rows[0]!.n));
        if (room <= 0) return [];
        const db = {
          executeSql: async (text: string, values?: unknown[]) => c.query(text, values as unknown[]),
        };
        const jobs = await boss.fetch<QueuedRunData>(QUEUE, {
          batchSize: room,
          includeMetadata: true,
          groupConcurrency: o.perHost,
          db,
        });
        return jobs.map((j) => ({
          id: j.id,
          retryCount: j.retryCount,
          data: j.data,
          createdOn: j.createdOn,
        }));
      });
    },
    async queued() {
      const { rows } = await pool.query(
        `SELECT id, retry_count, data, created_on, state, start_after FROM ${schema}_boss.${await jobTable(pool)}
         WHERE name = $1 AND state IN ('created', 'retry') ORDER BY created_on LIMIT 10000`,
        [QUEUE],
      );
      return rows.map((r) => ({
        id: String(r.id),
        retryCount: Number(r.retry_count),
        data: r.data as QueuedRunData,
        createdOn: r.created_on as Date,
        state: String(r.state),
        startAfter: r.start_after as Date,
      }));
    },
    async renew(run) {
      const r = (await boss.touch(QUEUE, { id: run.id, retryCount: run.retryCount })) as {
        affected?: number;
      };
      return (r.affected ?? 0) > 0;
    },
    async job(id) {
      const { rows } = await pool.query(
        `SELECT state, data, created_on, retry_count FROM ${schema}_boss.${await jobTable(pool)} WHERE name = $1 AND id = $2`,
        [QUEUE, id],
      );
      const r = rows[0];
      return r
        ? {
            state: String(r.state),
            data: r.data as QueuedRunData,
            createdOn: r.created_on as Date,
            retryCount: Number(r.retry_count),
          }
        : undefined;
    },
    async state(id) {
      const { rows } = await pool.query(
        `SELECT state FROM ${schema}_boss.${await jobTable(pool)} WHERE name = $1 AND id = $2`,
        [QUEUE, id],
      );
      return rows[0] ? String(rows[0].state) : undefined;
    },
  };
}
