import type { StateDb } from '../catalog/db.ts';
import { latestFinished, type RunOutcome, readJobsFirstSeen } from '../catalog/runs.ts';
import type { Config } from '../config/schema.ts';

/**
 * What the run history says about one job that takes snapshots: a snapshot job, or a backup job
 * with `snapshot:` (each of its successful runs read from a fresh snapshot). The run history is
 * where both the daemon and the CLI record runs, so no host is asked.
 */
export interface SnapshotStatus {
  job: string;
  kind: 'snapshot' | 'backup';
  host: string;
  schedule?: string;
  timezone?: string;
  /** The newest successful run. */
  lastOk?: { at: string; summary?: string };
  /** The newest finished run, when it is not `lastOk`. */
  last?: { at: string; outcome: RunOutcome; error?: string };
  /** When the daemon first scheduled the job: a new job is not overdue before its first run is due. */
  firstSeen?: string;
  /** Why the run history could not be read. */
  error?: string;
}

/** The run history as the snapshot check reads it, once per health run. */
export interface RunHistoryView {
  lastOk: ReadonlyMap<string, { finishedAt?: string | undefined; summary?: string | undefined }>;
  last: ReadonlyMap<
    string,
    { finishedAt?: string | undefined; outcome?: RunOutcome | undefined; error?: string | undefined }
  >;
  firstSeen: ReadonlyMap<string, string>;
}

export function readRunHistory(db: StateDb): RunHistoryView {
  return {
    lastOk: latestFinished(db, { ok: true }),
    last: latestFinished(db),
    firstSeen: readJobsFirstSeen(db),
  };
}

export function snapshotStatuses(
  config: Config,
  jobs: readonly string[],
  history: RunHistoryView | undefined,
): SnapshotStatus[] {
  return jobs.flatMap((name): SnapshotStatus[] => {
    const job = config.jobs[name];
    if (!job || (job.kind !== 'snapshot' && !(job.kind === 'backup' && job.snapshot))) return [];
    const s: SnapshotStatus = {
      job: name,
      kind: job.kind === 'snapshot' ? 'snapshot' : 'backup',
      host: job.host,
      ...(job.schedule ? { schedule: job.schedule } : {}),
      ...(job.timezone ? { timezone: job.timezone } : {}),
    };
    if (!history) return [{ ...s, error: 'no state database (run history) to read' }];
    const ok = history.lastOk.get(name);
    if (ok?.finishedAt) s.lastOk = { at: ok.finishedAt, ...(ok.summary ? { summary: ok.summary } : {}) };
    const last = history.last.get(name);
    if (last?.finishedAt && last.outcome && last.finishedAt !== ok?.finishedAt) {
      s.last = { at: last.finishedAt, outcome: last.outcome, ...(last.error ? { error: last.error } : {}) };
    }
    const first = history.firstSeen.get(name);
    if (first) s.firstSeen = first;
    return [s];
  });
}
