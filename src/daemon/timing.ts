/**
 * Pure timing rules of the scheduler: jitter, retry backoff, catch-up and "overdue". Every job
 * kind goes through them; nothing here knows what a job does.
 */

import type { RunRecord } from '../catalog/runs.ts';
import type { Job } from '../config/schema.ts';
import { jobHost } from '../jobs/kinds.ts';
import type { CronSchedule } from '../plan/cron.ts';

/** A random start delay in [0, jitter] ms. */
export function jitterMs(jitter: number, random: () => number): number {
  if (jitter <= 0) return 0;
  return Math.min(jitter, Math.floor(random() * (jitter + 1)));
}

/** Delay before retrying after failed attempt number `attempt` (1-based): doubling, capped. */
export function retryDelayMs(job: Pick<Job, 'retryDelay' | 'retryDelayMax'>, attempt: number): number {
  const delay = job.retryDelay * 2 ** Math.max(0, attempt - 1);
  return Math.min(delay, job.retryDelayMax);
}

/**
 * The hosts a run of the job counts against the per-host limit: its `host`, a drill's `toHost`.
 * None for prune and verify, which only talk to storage, nor for health: its probes are light
 * and bounded by health.concurrency and hostTimeout, and a fleet check must not wait hours for
 * one host's long backup, which is when its disk is most worth watching.
 */
export function jobHosts(job: Job): string[] {
  if (job.kind === 'health') return [];
  if (job.kind === 'drill') return job.toHost ? [job.toHost.slice(0, job.toHost.indexOf(':'))] : [];
  const host = jobHost(job);
  return host === undefined ? [] : [host];
}

/**
 * Where "has a scheduled time passed since?" starts counting for a job: its newest success
 * (the schedule time it stood for, else when it started), else when the daemon first saw it.
 */
export function catchUpBaseline(
  lastSuccess: RunRecord | undefined,
  firstSeen: string | undefined,
): string | undefined {
  return lastSuccess?.scheduledAt ?? lastSuccess?.startedAt ?? firstSeen;
}

/**
 * Where "overdue" starts counting: the newest success's end (its schedule time or start when it
 * has none). A due time that passed while the job's own run was still going was skipped by the
 * no-overlap rule (shown as skipped starts), not missed: a slow run is not an absent one.
 */
export function overdueBaseline(
  lastSuccess: RunRecord | undefined,
  firstSeen: string | undefined,
): string | undefined {
  return lastSuccess?.finishedAt ?? catchUpBaseline(lastSuccess, firstSeen);
}

/** The first schedule time after `baseline` when it is already past: a run that was missed. */
export function missedRun(cron: CronSchedule, baseline: string | undefined, now: number): Date | undefined {
  if (baseline === undefined) return undefined;
  const due = cron.next(new Date(baseline));
  return due && due.getTime() <= now ? due : undefined;
}

/**
 * How long after its due time a run may still be missing before the job counts as overdue:
 * half the schedule period, at most 2 h (a run has to start and finish).
 */
export function overdueGraceMs(cron: CronSchedule, due: Date): number {
  const after = cron.next(due);
  const period = after ? after.getTime() - due.getTime() : 0;
  return Math.min(Math.max(period / 2, 1000), 2 * 3_600_000);
}

/** The due time that has gone unmet for longer than the grace, if any. */
export function overdueSince(
  cron: CronSchedule,
  baseline: string | undefined,
  now: number,
): Date | undefined {
  const due = missedRun(cron, baseline, now);
  if (!due) return undefined;
  return now > due.getTime() + overdueGraceMs(cron, due) ? due : undefined;
}
