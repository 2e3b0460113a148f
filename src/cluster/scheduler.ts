/**
 * The daemon's scheduler when `coordination:` is set: the same jobs, run through the same door
 * (jobs/run-recorded.ts), but the queue, the limits and the history are the cluster's.
 *
 *   every node: enqueuer ──send(slot id)──▶ pg-boss `bo-runs` ◀──claim (limits)── every node
 *                                                  │ lease (heartbeat)            │
 *                                                  ▼                              ▼
 *                                       expired → retry elsewhere        runRecorded → complete/fail
 *
 * A claimed run holds a lease it renews every third of `coordination.leaseTimeout`. Losing it (the
 * database says another node has the run, or it cannot be renewed for a whole lease) aborts the
 * run, and the fence (`fence()`, called by a backup right before its manifest commit and by prune
 * before it deletes) refuses to commit unless the lease is renewed at that very moment.
 */

import { randomUUID } from 'node:crypto';
import type { RunEnd, RunRecord } from '../catalog/runs.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import {
  type ActiveRun,
  createActiveRun,
  logRunEnd,
  progressReporter,
  type RunWatcher,
} from '../daemon/active-run.ts';
import { createServicePool } from '../daemon/service-pool.ts';
import type { SchedulerSnapshot } from '../daemon/snapshot.ts';
import { jobHosts } from '../daemon/timing.ts';
import { BoError, CancelledError, errorMessage, UsageError } from '../errors.ts';
import type { JobRunner } from '../jobs/kinds.ts';
import { jobHost } from '../jobs/kinds.ts';
import { runJob } from '../jobs/registry.ts';
import { type RunHistory, runBindings, runRecorded } from '../jobs/run-recorded.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { catchUpSlots } from './catch-up.ts';
import { enqueueDue, planEntry, replan, type SlotEntry } from './enqueuer.ts';
import { type ClaimedRun, QUEUE, type RunQueue, sendOptions } from './queue.ts';
import type { ClusterRuns } from './runs.ts';
import { attemptRunId } from './slot.ts';
import { type ClusterView, emptyView, readView, snapshotFromView } from './view.ts';

/** A run whose node lost its lease: another node owns it now. */
export class LeaseLostError extends BoError {}

export interface ClusterSchedulerDeps {
  config: Config;
  services: Services;
  clock: Clock;
  log: Logger;
  queue: RunQueue;
  runs: ClusterRuns;
  node: string;
  schema: string;
  pool: import('./pg.ts').PgPool;
  execute?: JobRunner | undefined;
}

export interface ClusterScheduler {
  start(): Promise<void>;
  update(config: Config, services: Services): void;
  request(job: string, opts?: { full?: boolean }): Promise<{ runId: string; alreadyRunning: boolean }>;
  watch(runId: string, w: RunWatcher): (() => void) | undefined;
  cancel(runId: string): boolean;
  activeRun(runId: string): RunRecord | undefined;
  /** The cluster's view as last read (refreshed every few seconds and after each change here). */
  view(): ClusterView;
  refresh(): Promise<ClusterView>;
  snapshot(): SchedulerSnapshot;
  /** Runs executing on this node. */
  localRunning(): number;
  stop(graceMs: number): Promise<void>;
}

interface Local {
  run: ActiveRun;
  claim: ClaimedRun;
  leaseLost?: string | undefined;
  renewedAt: number;
}

/** How often the claim loop looks for due runs when nothing wakes it sooner. */
const CLAIM_POLL_MS = 1_000;

export function createClusterScheduler(d: ClusterSchedulerDeps): ClusterScheduler {
  const { clock, log, queue, runs, node } = d;
  const execute = d.execute ?? runJob;
  let config = d.config;
  const pool = createServicePool(d.services, log);
  let entries = new Map<string, SlotEntry>();
  const local = new Map<string, Local>();
  let view: ClusterView = emptyView();
  let stopping = false;
  let wake: AbortController | undefined;
  const loops: Promise<void>[] = [];
  const now = () => clock.now().getTime();
  const leaseMs = () => config.coordination!.leaseTimeout;
  const poke = () => wake?.abort();
  let lastDbError = 0;
  const dbError = (what: string, err: unknown) => {
    // One line per 10 s while the database is unreachable, not one per attempt.
    if (now() - lastDbError < 10_000) return;
    lastDbError = now();
    log.warn({ what, error: errorMessage(err) }, 'Cluster database error; retrying');
  };

  /** Enqueue due slots, claim runs, sleep; until stopped. */
  async function mainLoop(): Promise<void> {
    let fires: number[] = [];
    while (!stopping) {
      let wakeAt = now() + CLAIM_POLL_MS;
      try {
        const next = await enqueueDue(
          queue,
          entries.values(),
          now(),
          log,
          (e, slot) =>
            log.warn(
              { job: e.name, scheduledAt: new Date(slot).toISOString(), skippedStarts: e.skipped },
              'Scheduled start skipped: the previous run is still queued or running',
            ),
          fires,
        );
        wakeAt = Math.min(wakeAt, next);
      } catch (err) {
        dbError('enqueue', err);
      }
      if (!stopping) await claim();
      const t = now();
      fires = fires.filter((f) => f > t);
      for (const f of fires) wakeAt = Math.min(wakeAt, f);
      wake = new AbortController();
      await clock.sleep(Math.max(0, wakeAt - now()), wake.signal).catch(() => {});
    }
  }

  async function claim(): Promise<void> {
    const nodeLimit = config.coordination?.nodeConcurrency ?? config.daemon.concurrency;
    let claimed: ClaimedRun[] = [];
    try {
      claimed = await queue.claim({
        want: nodeLimit - local.size,
        concurrency: config.daemon.concurrency,
        perHost: config.daemon.perHostConcurrency,
      });
    } catch (err) {
      dbError('claim', err);
      return;
    }
    for (const c of claimed) void begin(c);
  }

  async function begin(c: ClaimedRun): Promise<void> {
    const entry = entries.get(c.data.job);
    const at = clock.now();
    if (!entry) {
      log.warn({ job: c.data.job }, 'Queued run of a job no longer in the config dropped');
      await queue.boss.cancel(QUEUE, { id: c.id, retryCount: c.retryCount }).catch(() => {});
      return;
    }
    const record: RunRecord = {
      id: attemptRunId(c.id, c.retryCount),
      job: entry.name,
      kind: entry.job.kind,
      host: jobHost(entry.job),
      trigger: c.retryCount > 0 ? 'retry' : c.data.trigger,
      attempt: c.retryCount + 1,
      scheduledAt: c.data.slot,
      queuedAt: c.createdOn.toISOString(),
      ...(c.data.full ? { full: true } : {}),
    };
    const fire = c.data.slot ? Date.parse(c.data.slot) : c.createdOn.getTime();
    const run = createActiveRun(record, jobHosts(entry.job), fire);
    const l: Local = { run, claim: c, renewedAt: now() };
    local.set(record.id, l);
    run.markStarted(at);
    const runLog = log.child(runBindings(record));
    const lateMs = at.getTime() - fire;
    runLog.info(
      { trigger: record.trigger, attempt: record.attempt, scheduledAt: record.scheduledAt, lateMs, node },
      'Run started',
    );
    if (c.retryCount > 0) {
      const lost = await runs
        .abandonAttempts(
          c.id,
          at.toISOString(),
          'its node lost the lease of the run (it died or was cut off); retried on another node',
        )
        .catch((err: unknown) => {
          dbError('abandon', err);
          return [];
        });
      for (const r of lost)
        runLog.warn(
          { abandonedRunId: r.id, abandonedOn: r.node },
          'Run abandoned by its node; retrying it here',
        );
    }
    const lease = keepLease(l, runLog);
    const services = pool.acquire();
    const history = clusterHistory(l, c.id);
    const fence = async () => {
      if (l.leaseLost) throw new LeaseLostError(`not committing: ${l.leaseLost}`);
      let held: boolean;
      try {
        held = await queue.renew(c);
      } catch (err) {
        throw new LeaseLostError(
          `not committing: cannot confirm this node still holds the run's lease (${errorMessage(err)})`,
        );
      }
      if (!held) {
        l.leaseLost = 'another node holds the run now';
        throw new LeaseLostError(
          'not committing: this node lost the run’s lease; another node holds the run now',
        );
      }
      l.renewedAt = now();
    };
    const deps = {
      services,
      fence,
      log,
      signal: run.controller.signal,
      history,
      onProgress: progressReporter(run, runLog, now),
    };
    const finished = await runRecorded(record, entry.job, deps, execute);
    lease.abort();
    pool.release(services);
    const end: RunEnd = l.leaseLost ? { ...finished, outcome: 'abandoned', error: l.leaseLost } : finished;
    logRunEnd(runLog, record.startedAt ?? record.queuedAt, end);
    await history.flushed();
    await settle(l, end, runLog);
    local.delete(record.id);
    run.settle(end);
    poke();
  }

  /** Tells the queue how the run ended: done, or failed (retried under its limit). */
  async function settle(l: Local, end: RunEnd, runLog: Logger): Promise<void> {
    if (l.leaseLost) return; // the run is another node's now
    const attempt = { id: l.claim.id, retryCount: l.claim.retryCount };
    try {
      if (end.outcome === 'ok') await queue.boss.complete(QUEUE, attempt, { runId: l.run.record.id });
      else if (end.outcome === 'cancelled' && !stopping) await queue.boss.cancel(QUEUE, attempt);
      else await queue.boss.fail(QUEUE, attempt, { error: end.error ?? end.outcome });
    } catch (err) {
      // The lease runs out and the run is retried elsewhere: nothing is lost.
      runLog.warn(
        { error: errorMessage(err) },
        'Could not record the run’s end in the queue; its lease will expire',
      );
    }
  }

  /** Renews the run's lease; aborts the run once it is lost. */
  function keepLease(l: Local, runLog: Logger): AbortController {
    const stop = new AbortController();
    void (async () => {
      while (!stop.signal.aborted) {
        await clock.sleep(leaseMs() / 3, stop.signal).catch(() => {});
        if (stop.signal.aborted) return;
        try {
          if (await queue.renew(l.claim)) {
            l.renewedAt = now();
            continue;
          }
          l.leaseLost = 'this node lost the run’s lease; another node holds the run now';
        } catch (err) {
          if (now() - l.renewedAt < leaseMs()) continue;
          l.leaseLost = `this node could not renew the run’s lease for ${Math.round(leaseMs() / 1000)} s (${errorMessage(err)})`;
        }
        runLog.error({ reason: l.leaseLost }, 'Run lease lost; stopping the run');
        l.run.controller.abort(new LeaseLostError(l.leaseLost));
        return;
      }
    })();
    return stop;
  }

  /** The run history in the cluster's database; writes are ordered per run and never block it. */
  function clusterHistory(l: Local, queueJob: string): RunHistory & { flushed(): Promise<void> } {
    let chain: Promise<void> = Promise.resolve();
    const write = (what: string, f: () => Promise<void>) => {
      chain = chain
        .then(f)
        .catch((err: unknown) =>
          log.error(
            { what, runId: l.run.record.id, err: errorMessage(err) },
            'Could not write the run history',
          ),
        );
    };
    return {
      started: (r) => write('started', () => runs.started(r, node, queueJob)),
      finished: (id, end) =>
        write('finished', () =>
          runs.finished(id, l.leaseLost ? { ...end, outcome: 'abandoned', error: l.leaseLost } : end),
        ),
      flushed: () => chain,
    };
  }

  async function refresh(): Promise<ClusterView> {
    view = await readView({
      pool: d.pool,
      schema: d.schema,
      queue,
      runs,
      nodeTimeoutMs: config.coordination!.nodeTimeout,
    });
    return view;
  }

  return {
    async start() {
      const t = now();
      entries = new Map(
        Object.entries(config.jobs).map(([name, job]) => [name, planEntry(name, job, t, log)]),
      );
      await runs.jobsFirstSeen(Object.keys(config.jobs), new Date(t).toISOString());
      for (const c of await catchUpSlots({ queue, runs, entries: entries.values(), now: t, log })) {
        log.info({ job: c.name, missed: new Date(c.slot).toISOString() }, 'Catching up a missed run');
      }
      await refresh().catch((err: unknown) => dbError('refresh', err));
      loops.push(mainLoop());
    },

    update(next, nextServices) {
      config = next;
      pool.replace(nextServices);
      entries = replan(entries, next, now(), log);
      void runs
        .jobsFirstSeen(Object.keys(next.jobs), clock.now().toISOString())
        .catch((err: unknown) => dbError('jobs', err));
      poke();
    },

    async request(name, opts = {}) {
      if (stopping) throw new BoError('the daemon is shutting down');
      const e = entries.get(name);
      if (!e) throw new UsageError(`unknown job "${name}"`);
      const id = randomUUID();
      const data = { job: name, trigger: 'manual' as const, ...(opts.full ? { full: true } : {}) };
      const sent = await queue.boss.send(
        QUEUE,
        data,
        sendOptions(name, e.job, { id, startAfter: clock.now(), retries: false }),
      );
      poke();
      if (sent) return { runId: attemptRunId(id, 0), alreadyRunning: false };
      const v = await refresh();
      const current = v.running.find((r) => r.job === name) ?? v.queued.find((r) => r.job === name);
      if (!current) throw new BoError(`could not queue a run of ${name}; try again`);
      return { runId: current.id, alreadyRunning: true };
    },

    watch(runId, w) {
      const l = local.get(runId);
      return l ? l.run.watch(w) : undefined;
    },

    cancel(runId) {
      const l = local.get(runId);
      if (!l) return false;
      l.run.controller.abort(new CancelledError('cancelled on request'));
      return true;
    },

    activeRun: (runId) => local.get(runId)?.run.record,
    view: () => view,
    refresh,
    snapshot: () =>
      snapshotFromView(view, { entries, config, local: [...local.values()].map((l) => l.run), stopping }),
    localRunning: () => local.size,

    async stop(graceMs) {
      stopping = true;
      poke();
      await Promise.all(loops);
      const running = () => [...local.values()].map((l) => l.run.done);
      const waitFor = async (ms: number) => {
        const timer = new AbortController();
        await Promise.race([Promise.allSettled(running()), clock.sleep(ms, timer.signal).catch(() => {})]);
        timer.abort();
      };
      if (local.size > 0) {
        log.info({ running: local.size, graceMs }, 'Waiting for running jobs to finish');
        await waitFor(graceMs);
      }
      if (local.size > 0) {
        log.warn({ runIds: [...local.keys()] }, 'Cancelling running jobs: the shutdown grace period is over');
        for (const l of local.values())
          l.run.controller.abort(new CancelledError('cancelled: the daemon is shutting down'));
        await waitFor(30_000);
      }
      await pool.closeRetired();
    },
  };
}
