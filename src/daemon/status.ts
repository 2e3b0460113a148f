/**
 * What `bo status` and `bo jobs` show, built from the config, the run history and (when a daemon
 * runs) its live scheduler state. The same code serves the daemon's control endpoint and the CLI
 * reading the state database directly, so both give the same answer.
 */
import { type DrillStatus, drillStatus } from '../catalog/checks.ts';
import type { StateDb } from '../catalog/db.ts';
import {
  latestFinished,
  ownerAlive,
  type RunRecord,
  readJobsFirstSeen,
  unfinishedRuns,
} from '../catalog/runs.ts';
import type { ClusterNode } from '../cluster/nodes.ts';
import type { BackupJob, Config, Job } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { jobHost } from '../jobs/kinds.ts';
import { type CronSchedule, compileCron } from '../plan/cron.ts';
import { type CopyStatus, copyStatusOf, describeCopyStatus } from './copy-status.ts';
import type { LiveJob, QueuedRun, SchedulerSnapshot } from './snapshot.ts';
import { overdueBaseline, overdueSince } from './timing.ts';

export interface DaemonInfo {
  pid: number;
  version: string;
  startedAt: string;
  configFile: string;
  socket: string;
}

export interface JobStatus {
  job: string;
  kind: string;
  host?: string | undefined;
  schedule?: string | undefined;
  timezone?: string | undefined;
  enabled: boolean;
  state: LiveJob['state'] | 'disabled' | 'on-demand';
  nextRunAt?: string | undefined;
  retryAt?: string | undefined;
  /** The queued or running run, with live progress when the daemon serves this. */
  run?: LiveJob['run'];
  /** The newest finished run (any outcome) and the newest successful one. */
  lastRun?: RunRecord | undefined;
  lastSuccess?: RunRecord | undefined;
  /** Set when a scheduled time passed more than the grace ago without a success since. */
  overdueSince?: string | undefined;
  skippedStarts?: number | undefined;
  /** Backup jobs: the restore drills' "last proven restorable" (see catalog/checks.ts). */
  drill?: DrillStatus | undefined;
  /** Backup jobs with copies: each copy's lag (daemon/copy-status.ts). */
  copies?: CopyStatus[] | undefined;
}

export interface StatusReport {
  generatedAt: string;
  /** Who answered: the running daemon, or the state database read directly. */
  source: 'daemon' | 'state-db';
  daemon?:
    | (DaemonInfo & { running: number; queue: QueuedRun[]; limits: SchedulerSnapshot['limits'] })
    | undefined;
  /** Set when the state database could not be read (no history shown). */
  historyError?: string | undefined;
  /** With `coordination:`: the node that answered and every node of the cluster. */
  cluster?: ClusterStatus | undefined;
  jobs: JobStatus[];
  /**
   * Empty means healthy. One line per job whose last run failed, was cut short or is overdue, or
   * whose last restore drill failed; one when no daemon runs although jobs have a schedule.
   */
  problems: string[];
}

export interface ClusterStatus {
  /** The node that answered. */
  node: string;
  nodes: Array<Omit<ClusterNode, 'socket'>>;
  /** When the view was read from the database. */
  readAt?: string | undefined;
}

export interface JobInfo {
  job: string;
  kind: string;
  host?: string | undefined;
  schedule?: string | undefined;
  timezone?: string | undefined;
  enabled: boolean;
  catchUp: boolean;
  retries: number;
  jitterMs: number;
  nextRunAt?: string | undefined;
}

function cronOf(job: Job): CronSchedule | undefined {
  if (!job.schedule) return undefined;
  try {
    return compileCron(job.schedule, job.timezone);
  } catch {
    return undefined;
  }
}

/** Configured jobs with their next run: the daemon's (jitter included) or computed from now. */
export function listJobs(config: Config, now: Date, live?: SchedulerSnapshot): JobInfo[] {
  const liveBy = new Map(live?.jobs.map((j) => [j.job, j]));
  return Object.entries(config.jobs).map(([name, job]) => {
    const cron = job.enabled ? cronOf(job) : undefined;
    const next = live ? liveBy.get(name)?.nextRunAt : cron?.next(now)?.toISOString();
    return {
      job: name,
      kind: job.kind,
      host: jobHost(job),
      schedule: job.schedule,
      timezone: job.timezone,
      enabled: job.enabled,
      catchUp: job.catchUp,
      retries: job.retries,
      jitterMs: job.jitter,
      nextRunAt: next,
    };
  });
}

export interface History {
  last: Map<string, RunRecord>;
  ok: Map<string, RunRecord>;
  firstSeen: Map<string, string>;
  /** Runs of processes still alive (offline view only: a `bo backup now` running inline). */
  inProgress: Map<string, RunRecord>;
}

function readHistory(db: StateDb, offline: boolean): History {
  const last = latestFinished(db);
  const inProgress = new Map<string, RunRecord>();
  if (offline) {
    for (const r of unfinishedRuns(db)) {
      const { owner, ...rec } = r;
      if (ownerAlive(owner)) inProgress.set(r.job, rec);
      else if (!last.has(r.job) || (last.get(r.job)!.finishedAt ?? '') < r.queuedAt)
        last.set(r.job, { ...rec, outcome: 'abandoned', error: 'bo stopped while the run was in progress' });
    }
  }
  return { last, ok: latestFinished(db, { ok: true }), firstSeen: readJobsFirstSeen(db), inProgress };
}

/**
 * A run that ended cancelled (shutdown, Ctrl-C, `cancel`) or abandoned (bo died) produced
 * nothing: it is a problem until the job runs again, like a failure. While a new run is queued
 * or running (a catch-up after a crash, a retry) it is not reported: that run is the answer.
 */
function cutShort(r: RunRecord | undefined): boolean {
  return r?.outcome === 'cancelled' || r?.outcome === 'abandoned';
}

function scheduledJobs(config: Config): string[] {
  return Object.entries(config.jobs)
    .filter(([, j]) => j.enabled && j.schedule)
    .map(([name]) => name);
}

/** No state database at all: fine until a job is scheduled, since then the daemon should have run. */
function missingHistory(config: Config): string | undefined {
  const scheduled = scheduledJobs(config).length > 0;
  return scheduled ? `no state database in ${config.stateDir}: the daemon has not run here yet` : undefined;
}

/** No daemon answered, yet jobs have a schedule: nothing will run them. */
function noDaemon(config: Config): string | undefined {
  const n = scheduledJobs(config).length;
  if (n === 0) return undefined;
  const [has, them] = n === 1 ? ['1 job has', 'it'] : [`${n} jobs have`, 'them'];
  return `no daemon is running, but ${has} a schedule: nothing runs ${them} (start it: systemctl start bo, or bo daemon)`;
}

export function buildStatus(opts: {
  config: Config;
  db: StateDb | undefined;
  now: Date;
  live?: SchedulerSnapshot | undefined;
  daemon?: DaemonInfo | undefined;
  /** Why there is no `db` (it could not be opened). */
  historyError?: string | undefined;
  /** The run history when it is not in `db` (a cluster's, read from PostgreSQL). */
  history?: History | undefined;
}): StatusReport {
  const { config, live, now } = opts;
  let history: History | undefined;
  let historyError = opts.historyError;
  try {
    if (opts.history) history = opts.history;
    else if (opts.db) history = readHistory(opts.db, !live);
    else historyError ??= missingHistory(config);
  } catch (err) {
    historyError = `cannot read the run history: ${(err as Error).message}`;
  }
  const liveBy = new Map(live?.jobs.map((j) => [j.job, j]));
  // A probe that cannot see the history cannot vouch for anything.
  const problems: string[] = historyError ? [historyError] : [];
  const stopped = live ? undefined : noDaemon(config);
  if (stopped) problems.push(stopped);
  const jobs = Object.entries(config.jobs).map(([name, job]): JobStatus => {
    const cron = job.enabled ? cronOf(job) : undefined;
    const l = liveBy.get(name);
    const inline = history?.inProgress.get(name);
    const lastRun = history?.last.get(name);
    const lastSuccess = history?.ok.get(name);
    const busy = l ? l.state === 'running' || l.state === 'queued' : Boolean(inline);
    const baseline = overdueBaseline(lastSuccess, history?.firstSeen.get(name));
    const overdue = cron && !busy ? overdueSince(cron, baseline, now.getTime()) : undefined;
    if (lastRun?.outcome === 'failed')
      problems.push(`${name}: last run failed: ${lastRun.error ?? 'unknown error'}`);
    else if (cutShort(lastRun) && !busy)
      problems.push(`${name}: last run ${lastRun?.outcome}: ${lastRun?.error ?? 'no reason recorded'}`);
    else if (overdue) problems.push(`${name}: overdue (due ${overdue.toISOString()})`);
    const drill = job.kind === 'backup' && opts.db && !historyError ? drillOf(opts.db, name) : undefined;
    if (drill?.lastFailed)
      problems.push(`${name}: last restore drill FAILED: ${drill.lastFailed.detail ?? 'no reason recorded'}`);
    const state: JobStatus['state'] =
      l?.state ?? (inline ? 'running' : !job.enabled ? 'disabled' : cron ? 'idle' : 'on-demand');
    return {
      job: name,
      kind: job.kind,
      host: jobHost(job),
      schedule: job.schedule,
      timezone: job.timezone,
      enabled: job.enabled,
      state: l && l.state === 'idle' && !cron ? (job.enabled ? 'on-demand' : 'disabled') : state,
      nextRunAt: live ? l?.nextRunAt : cron?.next(now)?.toISOString(),
      retryAt: l?.retryAt,
      run:
        l?.run ??
        (inline && {
          id: inline.id,
          trigger: inline.trigger,
          attempt: inline.attempt,
          queuedAt: inline.queuedAt,
          startedAt: inline.startedAt,
        }),
      lastRun,
      lastSuccess,
      overdueSince: overdue?.toISOString(),
      skippedStarts: l?.skippedStarts,
      drill,
      copies:
        job.kind === 'backup' && opts.db && !historyError
          ? copiesOf(opts.db, name, job, lastSuccess)
          : undefined,
    };
  });
  function copiesOf(db: StateDb, name: string, job: BackupJob, last: RunRecord | undefined) {
    if (job.copies.length === 0) return undefined;
    const copies = copyStatusOf(db, name, job, last, now);
    for (const c of copies) if (c.overdue) problems.push(`${name}: copy ${describeCopyStatus(c)}`);
    return copies;
  }
  function drillOf(db: StateDb, job: string): DrillStatus | undefined {
    try {
      return drillStatus(db, job);
    } catch (err) {
      problems.push(`${job}: cannot read its drill records: ${errorMessage(err)}`);
      return undefined;
    }
  }
  return {
    generatedAt: now.toISOString(),
    source: live ? 'daemon' : 'state-db',
    daemon: opts.daemon &&
      live && { ...opts.daemon, running: live.running, queue: live.queue, limits: live.limits },
    historyError,
    jobs,
    problems,
  };
}
