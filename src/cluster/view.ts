/**
 * The cluster as every node shows it: the nodes with their heartbeats, the runs executing (on
 * which node) and the runs queued, read from the database, so `bo status` through any node gives
 * the same answer. Read every few seconds; the status handlers serve the latest read.
 */
import type { Config } from '../config/schema.ts';
import type { ActiveRun } from '../daemon/active-run.ts';
import type { LiveJob, QueuedRun, SchedulerSnapshot } from '../daemon/snapshot.ts';
import { fireAt, type SlotEntry } from './enqueuer.ts';
import { type ClusterNode, nodeRegistry } from './nodes.ts';
import type { PgPool } from './pg.ts';
import type { RunQueue } from './queue.ts';
import type { ClusterRun, ClusterRuns } from './runs.ts';
import { attemptRunId } from './slot.ts';

export interface ClusterView {
  readAt?: string | undefined;
  /** Why the last read failed (the view is then as of readAt). */
  error?: string | undefined;
  nodes: ClusterNode[];
  running: ClusterRun[];
  queued: Array<{
    id: string;
    job: string;
    trigger: string;
    attempt: number;
    queuedAt: string;
    retryAt?: string | undefined;
  }>;
}

export function emptyView(): ClusterView {
  return { nodes: [], running: [], queued: [] };
}

export async function readView(o: {
  pool: PgPool;
  schema: string;
  queue: RunQueue;
  runs: ClusterRuns;
  nodeTimeoutMs: number;
}): Promise<ClusterView> {
  const [nodes, running, queued] = await Promise.all([
    nodeRegistry(o.pool, o.schema).list(o.nodeTimeoutMs),
    o.runs.unfinished(),
    o.queue.queued(),
  ]);
  const t = Date.now();
  return {
    readAt: new Date(t).toISOString(),
    nodes,
    running,
    // A slot sent ahead of its time is not queued yet.
    queued: queued
      .filter((q) => q.state === 'retry' || q.startAfter.getTime() <= t)
      .map((q) => ({
        id: attemptRunId(q.id, q.retryCount),
        job: q.data.job,
        trigger: q.retryCount > 0 ? 'retry' : q.data.trigger,
        attempt: q.retryCount + 1,
        queuedAt: q.createdOn.toISOString(),
        ...(q.state === 'retry' ? { retryAt: q.startAfter.toISOString() } : {}),
      })),
  };
}

/** The view in the shape the single daemon's status code reads (daemon/status.ts). */
export function snapshotFromView(
  v: ClusterView,
  s: { entries: Map<string, SlotEntry>; config: Config; local: ActiveRun[]; stopping: boolean },
): SchedulerSnapshot {
  const localBy = new Map(s.local.map((r) => [r.record.id, r]));
  const runningBy = new Map(v.running.map((r) => [r.job, r]));
  const queuedBy = new Map(v.queued.map((q, i) => [q.job, { ...q, position: i + 1 }]));
  const jobs: LiveJob[] = [...s.entries.values()].map((e) => {
    const r = runningBy.get(e.name);
    const q = queuedBy.get(e.name);
    const state: LiveJob['state'] = r ? 'running' : q ? (q.retryAt ? 'retry-wait' : 'queued') : 'idle';
    const next = e.next === undefined ? undefined : new Date(Math.max(fireAt(e, e.next), 0));
    return {
      job: e.name,
      state,
      nextRunAt: next?.toISOString(),
      retryAt: q?.retryAt,
      run: r
        ? {
            id: r.id,
            trigger: r.trigger,
            attempt: r.attempt,
            queuedAt: r.queuedAt,
            startedAt: r.startedAt,
            progress: localBy.get(r.id)?.progress,
            node: r.node,
          }
        : q && {
            id: q.id,
            trigger: q.trigger,
            attempt: q.attempt,
            queuedAt: q.queuedAt,
            position: q.position,
          },
      skippedStarts: e.skipped,
    };
  });
  const queue: QueuedRun[] = v.queued
    .filter((q) => !q.retryAt)
    .map((q) => ({
      runId: q.id,
      job: q.job,
      host: undefined,
      queuedAt: q.queuedAt,
      waitingFor: 'concurrency',
    }));
  return {
    jobs,
    queue,
    running: v.running.length,
    limits: {
      concurrency: s.config.daemon.concurrency,
      perHostConcurrency: s.config.daemon.perHostConcurrency,
    },
    stopping: s.stopping,
  };
}
