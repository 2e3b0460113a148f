/**
 * This daemon as a member of the cluster: it connects to PostgreSQL (migrating bo's tables and
 * pg-boss's), runs the cluster scheduler, beats its heartbeat, marks the runs of dead nodes
 * abandoned, reports nodes that died or run another config, and answers the control endpoint's
 * questions from the cluster's tables, so every node gives the same answers.
 */
import type { StateDb } from '../catalog/db.ts';
import type { RunRecord } from '../catalog/runs.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { ControlHandlers } from '../daemon/control.ts';
import { buildStatus, type DaemonInfo, listJobs, type StatusReport } from '../daemon/status.ts';
import { BoError } from '../errors.ts';
import type { ClusterPanel } from '../health/render/cluster-html.ts';
import type { JobRunner } from '../jobs/kinds.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { claimNodeAlerts, sendNodeAlerts } from './alerts.ts';
import { importLatestReport, sharedHealthState } from './health-state.ts';
import { pgIncrementalStore } from './incremental-store.ts';
import { clusterProblems, configHash, defaultNodeName, nodeRegistry } from './nodes.ts';
import { type CoordinationConfig, createPool, pgErrorMessage } from './pg.ts';
import { runQueue, startBoss } from './queue.ts';
import { clusterRuns } from './runs.ts';
import { type ClusterScheduler, createClusterScheduler } from './scheduler.ts';
import { migrateCluster } from './schema.ts';
import { queueJobOf } from './slot.ts';

export interface ClusterNodeHandle {
  name: string;
  scheduler: ClusterScheduler;
  /** Services that keep incremental state in the cluster's database. */
  services(s: Services): Services;
  handlers(o: { info: DaemonInfo; config: () => Config; db: StateDb }): ControlHandlers;
  reload(config: Config, services: Services): void;
  /** The cluster as the HTTP page shows it. */
  panel(): ClusterPanel;
  stop(graceMs: number): Promise<void>;
}

const HEARTBEAT_MS = 3_000;
const PRUNE_EVERY_MS = 3_600_000;

export async function startClusterNode(o: {
  config: Config;
  services: Services;
  clock: Clock;
  log: Logger;
  execute?: JobRunner | undefined;
  pid: number;
  version: string;
  /** This node's state database: the health report the page shows is copied into it. */
  db: StateDb;
}): Promise<ClusterNodeHandle> {
  const coord = o.config.coordination as CoordinationConfig;
  const { clock } = o;
  const name = defaultNodeName(o.config);
  const log = o.log.child({ node: name });
  const schema = coord.schema;
  const pool = createPool(coord, `bo ${name}`);
  let boss: Awaited<ReturnType<typeof startBoss>>;
  try {
    await migrateCluster(pool, schema);
    boss = await startBoss(coord, name);
  } catch (err) {
    await pool.end().catch(() => {});
    throw new BoError(`cannot join the cluster: PostgreSQL: ${pgErrorMessage(err, coord.url)}`, {
      hint: 'check coordination.url (the database must be reachable from every node)',
    });
  }
  const queue = runQueue(boss, pool, schema);
  const runs = clusterRuns(pool, schema);
  const nodes = nodeRegistry(pool, schema);
  const store = pgIncrementalStore(pool, schema, o.config.stateDir);
  const healthState = sharedHealthState(pool, schema);
  const withStore = (s: Services): Services => ({ ...s, incremental: () => store, healthState });
  let config = o.config;
  const scheduler = createClusterScheduler({
    config,
    services: withStore(o.services),
    clock,
    log,
    queue,
    runs,
    node: name,
    schema,
    pool,
    execute: o.execute,
  });
  const startedAt = clock.now().toISOString();
  // Hashed once per config, not per heartbeat: with 2,000 jobs each hash built sorted copies of
  // the whole config and its JSON in one burst, the node's top CPU item, and much of it outlived
  // the small young generation (old-generation growth ~1 -> ~0.4 MB/s in bench/cluster.ts).
  let hash = configHash(config);
  const beat = () =>
    nodes.beat({
      name,
      pid: o.pid,
      version: o.version,
      configHash: hash,
      startedAt,
      socket: config.daemon.socket,
      running: scheduler.localRunning(),
    });
  await beat();
  await scheduler.start();

  // Heartbeat, dead nodes' runs, the view; reports each node's death and each config split once.
  const reported = new Set<string>();
  const housekeeping = new AbortController();
  let lastPrune = 0;
  let reportAt = 0;
  const loop = (async () => {
    while (!housekeeping.signal.aborted) {
      try {
        await beat();
        const at = clock.now();
        const deadBefore = new Date(at.getTime() - config.coordination!.nodeTimeout).toISOString();
        for (const r of await runs.abandonDeadNodes(deadBefore, at.toISOString()))
          log.warn(
            { runId: r.id, job: r.job, deadNode: r.node },
            'Run abandoned: its node stopped answering',
          );
        const v = await scheduler.refresh();
        reportAt = await importLatestReport(pool, schema, o.db, reportAt);
        const alerts = await claimNodeAlerts(pool, schema, v.nodes, at.getTime());
        void sendNodeAlerts(alerts, { config, log, clock, signal: housekeeping.signal }).catch(() => {});
        const problems = clusterProblems(v.nodes, name);
        for (const p of problems) if (!reported.has(p)) log.error({ problem: p }, 'Cluster problem');
        reported.clear();
        for (const p of problems) reported.add(p);
        if (at.getTime() - lastPrune > PRUNE_EVERY_MS) {
          lastPrune = at.getTime();
          const { maxAge, perJob } = config.daemon.historyRetention;
          const removed = await runs.prune({ before: new Date(at.getTime() - maxAge).toISOString(), perJob });
          if (removed > 0) log.info({ removed }, 'Old runs removed from the history');
        }
      } catch (err) {
        log.warn({ error: pgErrorMessage(err, coord.url) }, 'Cluster heartbeat failed; retrying');
      }
      await clock.sleep(HEARTBEAT_MS, housekeeping.signal).catch(() => {});
    }
  })();

  const findRun = async (id: string): Promise<RunRecord | undefined> => {
    const live = scheduler.activeRun(id);
    if (live) return live;
    const stored = await runs.get(id);
    if (stored) return stored;
    // Queued, or just claimed by a node that has not written its row yet: the queue knows it.
    const q = await queue.job(queueJobOf(id));
    if (!q || q.state === 'completed' || q.state === 'cancelled' || q.state === 'failed') return undefined;
    return {
      id,
      job: q.data.job,
      kind: config.jobs[q.data.job]?.kind ?? 'backup',
      trigger: q.retryCount > 0 ? 'retry' : q.data.trigger,
      attempt: q.retryCount + 1,
      queuedAt: q.createdOn.toISOString(),
      ...(q.data.slot ? { scheduledAt: q.data.slot } : {}),
    };
  };

  async function status(info: DaemonInfo, db: StateDb): Promise<StatusReport> {
    const v = await scheduler.refresh().catch(() => scheduler.view());
    const [last, ok, firstSeen] = await Promise.all([
      runs.latestFinished(),
      runs.latestFinished({ ok: true }),
      runs.jobsFirstSeen(Object.keys(config.jobs), clock.now().toISOString()),
    ]);
    const report = buildStatus({
      config,
      db,
      now: clock.now(),
      live: scheduler.snapshot(),
      daemon: info,
      history: { last, ok, firstSeen, inProgress: new Map() },
    });
    report.problems.push(...clusterProblems(v.nodes, name));
    report.cluster = { node: name, nodes: v.nodes, readAt: v.readAt };
    return report;
  }

  return {
    name,
    scheduler,
    services: withStore,
    handlers: ({ info, db }) => ({
      ping: () => ({ pid: info.pid, version: info.version }),
      status: () => status(info, db),
      jobs: () => listJobs(config, clock.now(), scheduler.snapshot()),
      async enqueue(job, opts) {
        const r = await scheduler.request(job, opts);
        const run = (await findRun(r.runId)) ?? {
          id: r.runId,
          job,
          kind: config.jobs[job]!.kind,
          trigger: 'manual' as const,
          attempt: 1,
          queuedAt: clock.now().toISOString(),
        };
        return { ...r, run };
      },
      run: findRun,
      watch: (id, w) => scheduler.watch(id, w) ?? followRemote(id, w),
      cancel: (id) => scheduler.cancel(id),
    }),
    panel() {
      const v = scheduler.view();
      return {
        node: name,
        nodes: v.nodes,
        running: v.running.map((r) => ({ job: r.job, node: r.node, startedAt: r.startedAt })),
        problems: clusterProblems(v.nodes, name),
      };
    },
    reload(next, services) {
      config = next;
      hash = configHash(next);
      scheduler.update(next, withStore(services));
      void beat().catch(() => {});
    },
    async stop(graceMs) {
      await scheduler.stop(graceMs);
      housekeeping.abort();
      await loop;
      await nodes.stopped(name).catch(() => {});
      await boss.stop({ graceful: false, close: true }).catch(() => {});
      await pool.end().catch(() => {});
    },
  };

  /** Follows a run executing on another node (or still queued): its record, polled until it ends. */
  function followRemote(id: string, w: import('../daemon/active-run.ts').RunWatcher): () => void {
    let stopped = false;
    let started = false;
    const stopFns: Array<() => void> = [];
    void (async () => {
      while (!stopped) {
        await clock.sleep(1_000).catch(() => {});
        if (stopped) return;
        const local = scheduler.watch(id, w);
        if (local) {
          // It started here after all: the local run tells the rest.
          stopFns.push(local);
          return;
        }
        const r = await runs.get(id).catch(() => undefined);
        if (r?.startedAt && !started) {
          started = true;
          w.onStart?.(r);
        }
        if (r?.outcome) {
          w.onDone(r);
          return;
        }
      }
    })();
    return () => {
      stopped = true;
      for (const f of stopFns) f();
    };
  }
}
