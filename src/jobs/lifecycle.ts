import type { Job } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { dispatch } from '../notify/dispatch.ts';
import type { JobEvent } from '../notify/notifier.ts';
import { notifiersFor } from '../notify/registry.ts';
import { failureOutcome, type JobRunContext, type JobRunResult } from './kinds.ts';

/**
 * Wraps a job run with its notifiers' start/success/fail events (`notify:` on the job). The start
 * event is sent without delaying the job; success and fail follow it, so pings arrive in order.
 * A cancelled run sends no fail (nothing failed; a monitor will see the missing success). The
 * run's own outcome is returned or thrown unchanged, whatever the notifiers do.
 */
export async function withJobNotifications(
  name: string,
  job: Job,
  ctx: JobRunContext,
  run: () => Promise<JobRunResult>,
): Promise<JobRunResult> {
  const notifiers = notifiersFor(ctx.services.config, job.notify);
  if (notifiers.length === 0) return run();
  const { clock } = ctx.services;
  const started = clock.now();
  const event = (phase: JobEvent['phase'], message?: string): JobEvent => ({
    type: 'job',
    phase,
    job: name,
    kind: job.kind,
    runId: ctx.runId,
    host: 'host' in job ? job.host : undefined,
    at: clock.now().toISOString(),
    ...(phase === 'start' ? {} : { durationMs: clock.now().getTime() - started.getTime() }),
    ...(message !== undefined ? { message } : {}),
  });
  // Not the job's signal: the fail event of a job must still go out when the job was aborted.
  const opts = { log: ctx.log, clock, attempts: 3, retryDelayMs: 1000 };
  const start = dispatch(notifiers, event('start'), opts);
  try {
    const result = await run();
    await start;
    await dispatch(notifiers, event('success', result.summary), opts);
    return result;
  } catch (err) {
    await start;
    if (failureOutcome(err, ctx.signal) === 'failed')
      await dispatch(notifiers, event('fail', errorMessage(err)), opts);
    throw err;
  }
}
