import { copyStates, recordedLag } from '../catalog/copies.ts';
import type { StateDb } from '../catalog/db.ts';
import type { RunRecord } from '../catalog/runs.ts';
import { formatDuration } from '../config/duration.ts';
import type { BackupJob } from '../config/schema.ts';
import { overdueAfterMs } from '../health/schedule.ts';

/** One copy storage of a backup job in `bo status`: how far it lags, from the state database. */
export interface CopyStatus {
  storage: string;
  /** Since when its oldest missing backup finished; undefined: no copy and no backup recorded yet. */
  lagMs?: number | undefined;
  /** Backups the last copy run left to copy. */
  missing: number;
  /** The last copy run to this storage. */
  last?: { at: string; outcome: 'ok' | 'failed'; error?: string | undefined } | undefined;
  /** The lag exceeds the copy's maxLag (default: the job's schedule period plus grace). */
  overdue: boolean;
}

export function copyStatusOf(
  db: StateDb,
  name: string,
  job: BackupJob,
  lastBackup: RunRecord | undefined,
  now: Date,
): CopyStatus[] {
  const states = copyStates(db, name);
  const backup =
    lastBackup?.backupId && lastBackup.finishedAt
      ? { id: lastBackup.backupId, at: lastBackup.finishedAt }
      : undefined;
  return job.copies.map((c) => {
    const s = states.get(c.storage);
    const lagMs = recordedLag(s, backup, now);
    const limit = overdueAfterMs({ maxAge: c.maxLag }, job.schedule, job.timezone);
    return {
      storage: c.storage,
      lagMs,
      missing: s?.missing ?? 0,
      last: s && { at: s.at, outcome: s.outcome, error: s.error },
      overdue: lagMs !== undefined && limit !== undefined && lagMs > limit,
    };
  });
}

/** "cold 26h behind (2 backups; last copy FAILED: …)" or "cold up to date". */
export function describeCopyStatus(c: CopyStatus): string {
  if (c.lagMs === undefined) return `${c.storage}: nothing copied yet`;
  const state = c.lagMs === 0 ? 'up to date' : `${formatDuration(c.lagMs)} behind`;
  const failed = c.last?.outcome === 'failed' ? `; last copy FAILED: ${c.last.error ?? 'unknown error'}` : '';
  const missing = c.missing > 0 ? ` (${c.missing} backup${c.missing === 1 ? '' : 's'} to copy)` : '';
  return `${c.storage}: ${state}${missing}${c.overdue ? ', OVERDUE' : ''}${failed}`;
}
