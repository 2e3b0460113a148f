/**
 * The one door every job run goes through, whoever starts it: the daemon's scheduler, `bo backup
 * now` / `bo run` / `bo snapshot now` without a daemon, and `bo prune` / `bo verify` / `bo drill`
 * run by hand (hand-runs.ts). It records the run's start and end in the run history, sends the
 * job's start/success/fail notifications, runs the body in the run's log context, decides the
 * outcome by the one rule (failureOutcome), logs an unexpected error as a bug, and returns the
 * finished record: the one outcome type the daemon stores and serves and the CLI prints.
 */
import { randomUUID } from 'node:crypto';
import type { RunEnd, RunRecord } from '../catalog/runs.ts';
import type { Job } from '../config/schema.ts';
import { BoError, errorMessage } from '../errors.ts';
import { type Logger, withLogContext } from '../log.ts';
import type { Services } from '../services.ts';
import { failureOutcome, type JobProgress, type JobRunContext, type JobRunner, jobHost } from './kinds.ts';
import { withJobNotifications } from './lifecycle.ts';
import { runJob } from './registry.ts';

/** A run that has ended, as the door returns it. */
export type FinishedRun = RunRecord & RunEnd;

/** Where runs are recorded (history.ts keeps it in the state database). */
export interface RunHistory {
  /** The run began: its row (queued earlier, or not) gets its start time. */
  started(r: RunRecord & { startedAt: string }): void;
  finished(id: string, end: RunEnd): void;
}

export interface RunDeps {
  services: Services;
  /** The caller's logger; the door adds the run's bindings. */
  log: Logger;
  signal: AbortSignal;
  /** Undefined: the run is not recorded (no writable state database here). */
  history: RunHistory | undefined;
  onProgress?: ((p: JobProgress) => void) | undefined;
  /** See JobRunContext.fence. */
  fence?: (() => Promise<void>) | undefined;
}

/** What every log line of a run carries, so journald/Loki can follow one run across hosts. */
export function runBindings(r: RunRecord): Record<string, string> {
  return { runId: r.id, job: r.job, kind: r.kind, ...(r.host === undefined ? {} : { host: r.host }) };
}

/** The record of a run started by hand, here and now. */
export function manualRun(name: string, job: Job, at: Date): RunRecord {
  const queuedAt = at.toISOString();
  return {
    id: randomUUID(),
    job: name,
    kind: job.kind,
    host: jobHost(job),
    trigger: 'manual',
    attempt: 1,
    queuedAt,
  };
}

/**
 * Runs `job` as the run `queued` (its start time is now unless it has one) and returns the
 * finished record. Never throws: a failure or cancellation is the record's outcome. `execute` is
 * the body, by default the job kind's runner; a recording problem is logged, never fatal.
 */
export async function runRecorded(
  queued: RunRecord,
  job: Job,
  deps: RunDeps,
  execute: JobRunner = runJob,
): Promise<FinishedRun> {
  const { clock } = deps.services;
  const record = { ...queued, startedAt: queued.startedAt ?? clock.now().toISOString() };
  const log = deps.log.child(runBindings(record));
  const write = (what: string, f: () => void) => {
    try {
      f();
    } catch (err) {
      log.error({ what, err: errorMessage(err) }, 'Could not write the run history');
    }
  };
  write('started', () => deps.history?.started(record));
  const ctx: JobRunContext = {
    services: deps.services,
    log,
    signal: deps.signal,
    runId: record.id,
    onProgress: deps.onProgress,
    full: record.full,
    fence: deps.fence,
  };
  const body = () => withJobNotifications(record.job, job, ctx, () => execute(record.job, job, ctx));
  let end: RunEnd;
  try {
    const r = await withLogContext(runBindings(record), body);
    const { backupId, bytes, storedBytes, files, summary } = r;
    end = {
      finishedAt: clock.now().toISOString(),
      outcome: 'ok',
      backupId,
      bytes,
      storedBytes,
      files,
      summary,
      ...(r.note ? { note: r.note } : {}),
      ...(r.chain ? { chain: r.chain } : {}),
    };
  } catch (err) {
    const outcome = failureOutcome(err, deps.signal);
    if (outcome === 'failed' && !(err instanceof BoError))
      log.error({ err }, 'Job failed with an unexpected error (this is a bug, please report it)');
    end = {
      finishedAt: clock.now().toISOString(),
      outcome,
      error: errorMessage(err),
      ...(err instanceof BoError && err.hint ? { hint: err.hint } : {}),
    };
  }
  write('finished', () => deps.history?.finished(record.id, end));
  return { ...record, ...end };
}

/** How long a finished run took (from its start, else from when it was queued). */
export function runDurationMs(r: RunRecord): number {
  if (!r.finishedAt) return 0;
  return Date.parse(r.finishedAt) - Date.parse(r.startedAt ?? r.queuedAt);
}
