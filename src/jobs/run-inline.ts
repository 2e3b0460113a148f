import { randomUUID } from 'node:crypto';
import type { Job } from '../config/schema.ts';
import { BoError, errorMessage, isAbortError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import type { InlineHistory } from './inline-history.ts';
import type { JobProgress, JobRunResult } from './kinds.ts';
import { runJob } from './registry.ts';

export interface InlineOutcome {
  job: string;
  kind: Job['kind'];
  outcome: 'ok' | 'failed' | 'cancelled';
  durationMs: number;
  result?: JobRunResult;
  error?: string;
  hint?: string;
}

/**
 * Runs jobs one after another in this process. A failing job is recorded and the next one
 * still runs (one bad host never blocks the rest); cancellation stops the whole batch.
 */
export async function runJobsInline(
  names: string[],
  opts: {
    services: Services;
    log: Logger;
    signal: AbortSignal;
    onProgress?: (job: string, p: JobProgress) => void;
    onDone?: (o: InlineOutcome) => void;
    history?: InlineHistory | undefined;
  },
): Promise<InlineOutcome[]> {
  const outcomes: InlineOutcome[] = [];
  for (const name of names) {
    const job = opts.services.config.jobs[name]!;
    const started = Date.now();
    const runId = randomUUID();
    const base = { job: name, kind: job.kind };
    let o: InlineOutcome;
    const record = (f: () => void) => {
      try {
        f();
      } catch (err) {
        opts.log.warn(
          { job: name, err: errorMessage(err) },
          'Could not record the run in the state database',
        );
      }
    };
    if (!opts.signal.aborted) record(() => opts.history?.started(runId, name, job, new Date(started)));
    if (opts.signal.aborted) {
      o = { ...base, outcome: 'cancelled', durationMs: 0, error: 'cancelled before start' };
    } else {
      try {
        const result = await runJob(name, job, {
          services: opts.services,
          log: opts.log.child({ runId, job: name, ...('host' in job ? { host: job.host } : {}) }),
          signal: opts.signal,
          runId,
          onProgress: (p) => opts.onProgress?.(name, p),
        });
        o = { ...base, outcome: 'ok', durationMs: Date.now() - started, result };
      } catch (err) {
        const cancelled = opts.signal.aborted || isAbortError(err);
        o = {
          ...base,
          outcome: cancelled ? 'cancelled' : 'failed',
          durationMs: Date.now() - started,
          error: errorMessage(err),
          ...(err instanceof BoError && err.hint ? { hint: err.hint } : {}),
        };
        if (!(err instanceof BoError) && !cancelled) {
          opts.log.error(
            { job: name, err },
            'Job failed with an unexpected error (this is a bug, please report it)',
          );
        }
      }
    }
    if (o.durationMs > 0 || o.outcome !== 'cancelled')
      record(() => opts.history?.finished(runId, o, new Date()));
    outcomes.push(o);
    opts.onDone?.(o);
  }
  return outcomes;
}
