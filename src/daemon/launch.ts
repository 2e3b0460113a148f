import type { RunEnd, RunRecord } from '../catalog/runs.ts';
import type { Clock } from '../clock.ts';
import type { Job } from '../config/schema.ts';
import { BoError } from '../errors.ts';
import type { JobRunContext, JobRunResult } from '../jobs/kinds.ts';
import { type Logger, withLogContext } from '../log.ts';
import type { Services } from '../services.ts';
import { type ActiveRun, failureEnd, successEnd } from './active-run.ts';

export type JobExecutor = (name: string, job: Job, ctx: JobRunContext) => Promise<JobRunResult>;

/** Progress goes to the log at most this often (followers get it live). */
const PROGRESS_LOG_MS = 30_000;

/** What every log line of a run carries, so journald/Loki can follow one run across hosts. */
export function runBindings(r: RunRecord): Record<string, string> {
  return { runId: r.id, job: r.job, kind: r.kind, ...(r.host === undefined ? {} : { host: r.host }) };
}

/**
 * Runs one job body and turns whatever it does into the run's end: ok with its figures,
 * cancelled when its signal was aborted, failed otherwise. Never throws. The body runs in the
 * run's log context, so lines from shared storage and host connections name the run too.
 */
export async function launch(opts: {
  run: ActiveRun;
  name: string;
  job: Job;
  services: Services;
  log: Logger;
  clock: Clock;
  execute: JobExecutor;
}): Promise<RunEnd> {
  const { run, log, clock } = opts;
  let lastLog = clock.now().getTime();
  const ctx: JobRunContext = {
    services: opts.services,
    log,
    signal: run.controller.signal,
    runId: run.record.id,
    onProgress: (p) => {
      run.report(p);
      const t = clock.now().getTime();
      if (t - lastLog >= PROGRESS_LOG_MS) {
        lastLog = t;
        log.info({ phase: p.phase, bytes: p.bytes, files: p.files }, 'Run progress');
      }
    },
  };
  try {
    const body = () => opts.execute(opts.name, opts.job, ctx);
    return successEnd(await withLogContext(runBindings(run.record), body), clock.now());
  } catch (err) {
    const end = failureEnd(err, run.controller.signal.aborted, clock.now());
    if (end.outcome === 'failed' && !(err instanceof BoError)) {
      log.error({ err }, 'Job failed with an unexpected error (this is a bug, please report it)');
    }
    return end;
  }
}

/** The one log line that closes a run. */
export function logRunEnd(log: Logger, startedOrQueuedAt: string, e: RunEnd): void {
  const durationMs = Date.parse(e.finishedAt) - Date.parse(startedOrQueuedAt);
  if (e.outcome === 'ok') {
    log.info({ durationMs, bytes: e.bytes, files: e.files, backupId: e.backupId }, 'Run finished');
  } else if (e.outcome === 'cancelled') log.warn({ durationMs, error: e.error }, 'Run cancelled');
  else log.error({ durationMs, error: e.error }, 'Run failed');
}
