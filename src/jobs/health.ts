import type { HealthJob } from '../config/schema.ts';
import { performHealth } from '../health/service.ts';
import type { JobRunContext, JobRunResult } from './kinds.ts';

/**
 * The `kind: health` job: checks the selected hosts, records the history, alerts on state
 * transitions through `health.notify`, and stores the report the daemon serves. Problems found
 * on hosts are the report's business: the run itself succeeds unless it is cancelled.
 */
export async function runHealthJob(name: string, job: HealthJob, ctx: JobRunContext): Promise<JobRunResult> {
  ctx.onProgress?.({ phase: 'checking', bytes: 0, files: 0 });
  const { report, transitions, delivery } = await performHealth(ctx.services, {
    log: ctx.log.child({ job: name }),
    signal: ctx.signal,
    select: { hosts: job.hosts, roles: job.roles },
    alerts: true,
    report: 'daemon',
  });
  const parts = [report.summary.line];
  if (transitions.length > 0) parts.push(`${transitions.length} alert(s)`);
  // Counted per notifier: one alert for two notifiers is two deliveries.
  if (delivery?.late) parts.push(`${delivery.late} delayed alert(s) delivered`);
  if (delivery?.pending) parts.push(`${delivery.pending} undelivered, kept for the next run`);
  return { summary: parts.join('; ') };
}
