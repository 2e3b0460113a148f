import type { Config, Job } from '../config/schema.ts';
import type { JobProgress } from '../jobs/kinds.ts';
import type { CronSchedule } from '../plan/cron.ts';
import type { ActiveRun } from './active-run.ts';

/** The scheduler's state for one configured job. */
export interface Entry {
  name: string;
  job: Job;
  cron?: CronSchedule | undefined;
  /** Next schedule time (ms), and when it will actually fire (plus jitter). */
  nextAt?: number | undefined;
  fireAt?: number | undefined;
  retry?: { at: number; attempt: number; scheduledAt: number | undefined } | undefined;
  /** The job's queued or running run: at most one, which is what prevents overlap. */
  active?: ActiveRun | undefined;
  /** Scheduled starts skipped because the previous run was still going. */
  skipped: number;
}

/** Live view of a job in the daemon, served to `bo status` and `bo jobs`. */
export interface LiveJob {
  job: string;
  state: 'idle' | 'queued' | 'running' | 'retry-wait';
  /** When the next scheduled start fires (jitter included). */
  nextRunAt?: string | undefined;
  retryAt?: string | undefined;
  run?:
    | {
        id: string;
        trigger: string;
        attempt: number;
        queuedAt: string;
        startedAt?: string | undefined;
        progress?: JobProgress | undefined;
        /** 1-based place in the queue while queued. */
        position?: number | undefined;
        /** The cluster node running it (coordination: postgres). */
        node?: string | undefined;
      }
    | undefined;
  skippedStarts: number;
}

export interface QueuedRun {
  runId: string;
  job: string;
  host?: string | undefined;
  queuedAt: string;
  /** What it waits for: a free global slot, or a free slot on (one of) its host(s). */
  waitingFor: 'concurrency' | 'host';
}

export interface SchedulerSnapshot {
  jobs: LiveJob[];
  queue: QueuedRun[];
  running: number;
  limits: { concurrency: number; perHostConcurrency: number };
  stopping: boolean;
}

export function snapshotOf(s: {
  entries: Map<string, Entry>;
  queue: readonly ActiveRun[];
  running: ReadonlySet<ActiveRun>;
  config: Config;
  stopping: boolean;
}): SchedulerSnapshot {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const hostBusy = new Map<string, number>();
  for (const r of s.running) for (const h of r.hosts) hostBusy.set(h, (hostBusy.get(h) ?? 0) + 1);
  const jobs: LiveJob[] = [...s.entries.values()].map((e) => {
    const a = e.active;
    const state: LiveJob['state'] = a ? a.state : e.retry ? 'retry-wait' : 'idle';
    return {
      job: e.name,
      state,
      nextRunAt: iso(e.fireAt),
      retryAt: iso(e.retry?.at),
      run: a && {
        id: a.record.id,
        trigger: a.record.trigger,
        attempt: a.record.attempt,
        queuedAt: a.record.queuedAt,
        startedAt: a.record.startedAt,
        progress: a.progress,
        position: a.state === 'queued' ? s.queue.indexOf(a) + 1 : undefined,
      },
      skippedStarts: e.skipped,
    };
  });
  const limits = {
    concurrency: s.config.daemon.concurrency,
    perHostConcurrency: s.config.daemon.perHostConcurrency,
  };
  const queue: QueuedRun[] = s.queue.map((r) => ({
    runId: r.record.id,
    job: r.record.job,
    host: r.record.host,
    queuedAt: r.record.queuedAt,
    waitingFor: r.hosts.some((h) => (hostBusy.get(h) ?? 0) >= limits.perHostConcurrency)
      ? 'host'
      : 'concurrency',
  }));
  return { jobs, queue, running: s.running.size, limits, stopping: s.stopping };
}
