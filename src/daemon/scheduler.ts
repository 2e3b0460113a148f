/**
 * The daemon's single scheduling path, for every job kind: cron times (with jitter), catch-up
 * at start, retries with backoff, no overlap, a visible queue under a global and a per-host
 * limit, cancellation and graceful stop. Time comes only from the injected clock, so tests run
 * days of schedule in milliseconds. Job bodies are opaque: each run goes through the one door
 * (jobs/run-recorded.ts: history, notifications, outcome), which calls `execute` (the registry).
 */
import { randomUUID } from 'node:crypto';
import type { StateDb } from '../catalog/db.ts';
import {
  currentOwner,
  finishRun,
  insertRun,
  jobsFirstSeen,
  type RunEnd,
  type RunOwner,
  type RunRecord,
  type RunTrigger,
} from '../catalog/runs.ts';
import type { Clock } from '../clock.ts';
import type { Config, Job } from '../config/schema.ts';
import { BoError, CancelledError, UsageError } from '../errors.ts';
import { stateDbHistory } from '../jobs/history.ts';
import { type JobRunner, jobHost } from '../jobs/kinds.ts';
import { runJob } from '../jobs/registry.ts';
import { runBindings, runRecorded } from '../jobs/run-recorded.ts';
import type { Logger } from '../log.ts';
import { compileCron } from '../plan/cron.ts';
import type { Services } from '../services.ts';
import {
  type ActiveRun,
  createActiveRun,
  logRunEnd,
  progressReporter,
  type RunWatcher,
} from './active-run.ts';
import { catchUps } from './catch-up.ts';
import { createServicePool } from './service-pool.ts';
import { createSlots } from './slots.ts';
import { type Entry, type SchedulerSnapshot, snapshotOf } from './snapshot.ts';
import { jitterMs, jobHosts, retryDelayMs } from './timing.ts';

/** Runs a job's body: the job registry's runJob, a fake in tests. */
export type JobExecutor = JobRunner;

/** What happened to a run; for metrics and tests. `lateMs`: start time minus intended time. */
export type RunEvent =
  | { type: 'queued' | 'finished'; record: RunRecord }
  | { type: 'started'; record: RunRecord; lateMs: number }
  | { type: 'skipped'; job: string; scheduledAt: string; runningId: string };

export interface SchedulerDeps {
  config: Config;
  services: Services;
  clock: Clock;
  log: Logger;
  db: StateDb;
  /** Runs a job's body; default the job registry's runJob. */
  execute?: JobExecutor;
  random?: () => number;
  newRunId?: () => string;
  owner?: RunOwner;
  /** Whether the process owning an unfinished row is still alive (default: pid + boot id). */
  ownerAlive?: (o: RunOwner) => boolean;
}

export interface Scheduler {
  /** Marks abandoned runs, queues catch-ups, starts the timer loop. */
  start(): void;
  /** Applies a reloaded config: running runs continue on what they started with. */
  update(config: Config, services: Services): void;
  /** Queues a run on request, or joins the job's queued or running run. */
  /** `full`: a backup run must be a full (joining a queued or running run keeps what it is). */
  request(job: string, opts?: { full?: boolean }): { runId: string; alreadyRunning: boolean };
  /** Follows an active run (replaying its latest progress); undefined when it is not queued or running. */
  watch(runId: string, w: RunWatcher): (() => void) | undefined;
  cancel(runId: string, reason?: string): boolean;
  /** The live record of a queued or running run. */
  activeRun(runId: string): RunRecord | undefined;
  snapshot(): SchedulerSnapshot;
  subscribe(listener: (e: RunEvent) => void): () => void;
  /** Stop scheduling; let running runs finish for `graceMs`, then cancel them; resolves when all ended. */
  stop(graceMs: number): Promise<void>;
}

/** Longest sleep between re-checks, so wall-clock jumps (NTP, suspend) are noticed. */
const MAX_SLEEP_MS = 60_000;
/** After cancelling at shutdown, how long runs get to clean up (abort uploads) before we give up. */
export const CANCEL_WAIT_MS = 30_000;

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { clock, log, db } = deps;
  const execute = deps.execute ?? runJob;
  const random = deps.random ?? Math.random;
  const newRunId = deps.newRunId ?? randomUUID;
  const owner = deps.owner ?? currentOwner();
  const history = stateDbHistory(db, owner);
  let config = deps.config;
  const pool = createServicePool(deps.services, log);
  const entries = new Map<string, Entry>();
  const slots = createSlots();
  const active = new Map<string, { run: ActiveRun; entry: Entry }>();
  const listeners = new Set<(e: RunEvent) => void>();
  let stopping = false;
  let wake: AbortController | undefined;
  let loop: Promise<void> | undefined;

  const now = () => clock.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const emit = (e: RunEvent) => {
    for (const l of listeners) l(e);
  };
  const poke = () => wake?.abort();
  /** The state database must not take the scheduler down: a failed write is logged. */
  const record = (what: string, f: () => void) => {
    try {
      f();
    } catch (err) {
      log.error({ err, what }, 'Could not write the run history');
    }
  };

  function plan(e: Entry, from: number): void {
    e.cron = undefined;
    e.nextAt = e.fireAt = undefined;
    if (!e.job.enabled || !e.job.schedule) return;
    try {
      e.cron = compileCron(e.job.schedule, e.job.timezone);
    } catch (err) {
      log.error({ job: e.name, err }, 'Job not scheduled: invalid schedule');
      return;
    }
    advance(e, from);
  }

  function advance(e: Entry, from: number): void {
    const next = e.cron?.next(new Date(from));
    e.nextAt = next?.getTime();
    e.fireAt = e.nextAt === undefined ? undefined : e.nextAt + jitterMs(e.job.jitter, random);
  }

  function newEntry(name: string, job: Job): Entry {
    return { name, job, skipped: 0 };
  }

  function enqueue(
    e: Entry,
    trigger: RunTrigger,
    attempt: number,
    scheduledAt: number | undefined,
    fireAt: number,
  ): ActiveRun {
    const rec: RunRecord = {
      id: newRunId(),
      job: e.name,
      kind: e.job.kind,
      host: jobHost(e.job),
      trigger,
      attempt,
      scheduledAt: scheduledAt === undefined ? undefined : iso(scheduledAt),
      queuedAt: iso(now()),
    };
    const run = createActiveRun(rec, jobHosts(e.job), fireAt);
    record('queued', () => insertRun(db, rec, owner));
    e.active = run;
    active.set(rec.id, { run, entry: e });
    slots.enqueue(run);
    log.debug({ ...runBindings(rec), trigger, attempt }, 'Run queued');
    emit({ type: 'queued', record: rec });
    return run;
  }

  function dispatch(): void {
    if (stopping) return;
    for (const run of slots.admit(config.daemon)) begin(run);
  }

  function begin(run: ActiveRun): void {
    const { entry } = active.get(run.record.id)!;
    const startedAt = clock.now();
    run.markStarted(startedAt);
    const runLog = log.child(runBindings(run.record));
    const { trigger, attempt, scheduledAt } = run.record;
    const lateMs = startedAt.getTime() - run.fireAt;
    runLog.info({ trigger, attempt, scheduledAt, lateMs }, 'Run started');
    emit({ type: 'started', record: run.record, lateMs });
    const services = pool.acquire();
    const onProgress = progressReporter(run, runLog, now);
    const deps = { services, log, signal: run.controller.signal, history, onProgress };
    void runRecorded(run.record, entry.job, deps, execute)
      .then((e) => end(run, entry, e, runLog))
      .finally(() => pool.release(services));
  }

  /** A run ended: frees its slot, schedules a retry when it failed, tells its followers. */
  function end(run: ActiveRun, entry: Entry, e: RunEnd, runLog: Logger): void {
    if (run.settled) return;
    slots.release(run);
    const r = run.record;
    logRunEnd(runLog, r.startedAt ?? r.queuedAt, e);
    if (entry.active === run) entry.active = undefined;
    active.delete(r.id);
    const job = entry.job;
    const current = entries.get(entry.name) === entry;
    if (
      e.outcome === 'failed' &&
      r.trigger !== 'manual' &&
      !stopping &&
      current &&
      r.attempt <= job.retries
    ) {
      const at = now() + retryDelayMs(job, r.attempt);
      const scheduledAt = r.scheduledAt ? Date.parse(r.scheduledAt) : undefined;
      entry.retry = { at, attempt: r.attempt + 1, scheduledAt };
      runLog.info({ retryAt: iso(at), nextAttempt: r.attempt + 1, retries: job.retries }, 'Retry scheduled');
    }
    run.settle(e);
    emit({ type: 'finished', record: r });
    dispatch();
    poke();
  }

  /** Ends a run the door is not running (still queued, or not stopping when cancelled): recorded here. */
  function cancel(run: ActiveRun, reason: string): void {
    slots.dequeue(run);
    const { entry } = active.get(run.record.id)!;
    const r = run.record;
    const e: RunEnd = { finishedAt: iso(now()), outcome: 'cancelled', error: reason };
    const runLog = log.child(runBindings(r));
    record('finished', () => finishRun(db, r.id, e));
    end(run, entry, e, runLog);
  }

  function tick(t: number): void {
    for (const e of entries.values()) {
      if (e.fireAt !== undefined && e.fireAt <= t) {
        const scheduledAt = e.nextAt!;
        const fireAt = e.fireAt;
        advance(e, Math.max(t, scheduledAt));
        if (e.active) {
          e.skipped++;
          log.warn(
            { ...runBindings(e.active.record), scheduledAt: iso(scheduledAt), skippedStarts: e.skipped },
            'Scheduled start skipped: the previous run is still queued or running',
          );
          emit({
            type: 'skipped',
            job: e.name,
            scheduledAt: iso(scheduledAt),
            runningId: e.active.record.id,
          });
        } else {
          if (e.retry) log.info({ job: e.name }, 'Pending retry replaced by the scheduled run');
          e.retry = undefined;
          enqueue(e, 'schedule', 1, scheduledAt, fireAt);
        }
      }
      if (e.retry && e.retry.at <= t) {
        const r = e.retry;
        e.retry = undefined;
        if (!e.active) enqueue(e, 'retry', r.attempt, r.scheduledAt, r.at);
      }
    }
    dispatch();
  }

  async function run(): Promise<void> {
    while (!stopping) {
      const t = now();
      tick(t);
      let wakeAt = Number.POSITIVE_INFINITY;
      for (const e of entries.values()) {
        if (e.fireAt !== undefined && e.fireAt < wakeAt) wakeAt = e.fireAt;
        if (e.retry && e.retry.at < wakeAt) wakeAt = e.retry.at;
      }
      wake = new AbortController();
      await clock.sleep(Math.max(0, Math.min(wakeAt - t, MAX_SLEEP_MS)), wake.signal).catch(() => {});
    }
  }

  return {
    start() {
      const t = now();
      for (const [name, job] of Object.entries(config.jobs)) {
        const e = newEntry(name, job);
        entries.set(name, e);
        plan(e, t);
      }
      for (const c of catchUps({ db, entries: entries.values(), now: t, log, ownerAlive: deps.ownerAlive })) {
        enqueue(c.entry, 'catch-up', 1, c.scheduledAt, t);
      }
      loop = run();
    },

    update(next, nextServices) {
      const t = now();
      config = next;
      pool.replace(nextServices);
      for (const [name, job] of Object.entries(next.jobs)) {
        const e = entries.get(name);
        if (!e) {
          const fresh = newEntry(name, job);
          entries.set(name, fresh);
          plan(fresh, t);
          continue;
        }
        const prev = e.job;
        e.job = job;
        const same =
          prev.schedule === job.schedule &&
          prev.timezone === job.timezone &&
          prev.jitter === job.jitter &&
          prev.enabled === job.enabled;
        if (!same) plan(e, t);
      }
      for (const [name, e] of entries) {
        if (name in next.jobs) continue;
        entries.delete(name);
        e.retry = undefined;
        if (e.active?.state === 'queued') cancel(e.active, 'the job was removed from the config');
      }
      jobsFirstSeen(db, Object.keys(next.jobs), iso(t));
      dispatch();
      poke();
    },

    request(name, opts = {}) {
      if (stopping) throw new BoError('the daemon is shutting down');
      const e = entries.get(name);
      if (!e) throw new UsageError(`unknown job "${name}"`);
      if (e.active) return { runId: e.active.record.id, alreadyRunning: true };
      if (e.retry) log.info({ job: name }, 'Pending retry replaced by a run on request');
      e.retry = undefined;
      const run = enqueue(e, 'manual', 1, undefined, now());
      if (opts.full) run.record.full = true;
      dispatch();
      poke();
      return { runId: run.record.id, alreadyRunning: false };
    },

    watch(runId, w) {
      const a = active.get(runId);
      if (!a) return undefined;
      const unwatch = a.run.watch(w);
      if (a.run.progress) w.onProgress?.(a.run.progress);
      return unwatch;
    },

    activeRun(runId) {
      return active.get(runId)?.run.record;
    },

    cancel(runId, reason = 'cancelled on request') {
      const a = active.get(runId);
      if (!a) return false;
      if (a.run.state === 'queued') cancel(a.run, reason);
      else a.run.controller.abort(new CancelledError(reason));
      return true;
    },

    snapshot() {
      return snapshotOf({ entries, queue: slots.queue, running: slots.running, config, stopping });
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async stop(graceMs) {
      stopping = true;
      poke();
      for (const r of [...slots.queue]) cancel(r, 'the daemon is shutting down');
      for (const e of entries.values()) e.retry = undefined;
      const waitFor = async (ms: number) => {
        const timer = new AbortController();
        await Promise.race([
          Promise.allSettled([...slots.running].map((r) => r.done)),
          clock.sleep(ms, timer.signal).catch(() => {}),
        ]);
        timer.abort();
      };
      if (slots.running.size > 0) {
        log.info({ running: slots.running.size, graceMs }, 'Waiting for running jobs to finish');
        await waitFor(graceMs);
      }
      if (slots.running.size > 0) {
        log.warn(
          { runIds: [...slots.running].map((r) => r.record.id) },
          'Cancelling running jobs: the shutdown grace period is over',
        );
        for (const r of slots.running)
          r.controller.abort(new CancelledError('cancelled: the daemon is shutting down'));
        await waitFor(CANCEL_WAIT_MS);
      }
      for (const r of [...slots.running]) cancel(r, 'did not stop after cancellation');
      await loop;
      await pool.closeRetired();
    },
  };
}
