/**
 * What the last copy of a job to each of its copy storages saw (table `copy_state`, migrations
 * in copies-schema.ts), so `bo status` shows copy lag without listing any storage. The storages
 * stay the truth: the health report and the backup-freshness check list them (health/backups.ts).
 */
import type { StateDb } from './db.ts';

export interface CopyState {
  at: string;
  outcome: 'ok' | 'failed';
  error?: string | undefined;
  /** The newest backup the target held after the run. */
  newest?: { id: string; at: string } | undefined;
  /** Backups the run left to copy (failed, or found after it planned), and the oldest of them. */
  missing: number;
  oldestMissing?: { id: string; at: string } | undefined;
}

/** Records a copy run; a failed run without a listing keeps what the previous one saw. */
export function recordCopyState(db: StateDb, job: string, storage: string, s: CopyState): void {
  const seen = s.outcome === 'ok' || s.newest !== undefined;
  db.prepare(
    `INSERT INTO copy_state (job, storage, at, outcome, error, newest_id, newest_at, missing, oldest_missing_id, oldest_missing_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (job, storage) DO UPDATE SET at = excluded.at, outcome = excluded.outcome, error = excluded.error
     ${seen ? ', newest_id = excluded.newest_id, newest_at = excluded.newest_at, missing = excluded.missing, oldest_missing_id = excluded.oldest_missing_id, oldest_missing_at = excluded.oldest_missing_at' : ''}`,
  ).run(
    job,
    storage,
    s.at,
    s.outcome,
    s.error ?? null,
    s.newest?.id ?? null,
    s.newest?.at ?? null,
    s.missing,
    s.oldestMissing?.id ?? null,
    s.oldestMissing?.at ?? null,
  );
}

/** The last copy runs of `job`, by storage; empty when none ran or the table is not there. */
export function copyStates(db: StateDb, job: string): Map<string, CopyState> {
  let rows: Array<Record<string, unknown>>;
  try {
    rows = db.prepare('SELECT * FROM copy_state WHERE job = ?').all(job) as Array<Record<string, unknown>>;
  } catch {
    return new Map(); // an older database opened read-only: no copies recorded
  }
  const pair = (id: unknown, at: unknown) =>
    typeof id === 'string' && typeof at === 'string' ? { id, at } : undefined;
  return new Map(
    rows.map((r) => [
      String(r.storage),
      {
        at: String(r.at),
        outcome: r.outcome as CopyState['outcome'],
        error: (r.error as string | null) ?? undefined,
        newest: pair(r.newest_id, r.newest_at),
        missing: Number(r.missing),
        oldestMissing: pair(r.oldest_missing_id, r.oldest_missing_at),
      },
    ]),
  );
}

/**
 * How far a copy lags, from its last recorded run and the job's newest committed backup: the
 * time since the oldest backup it still lacks finished. Undefined when it never ran.
 */
export function recordedLag(
  state: CopyState | undefined,
  lastBackup: { id: string; at: string } | undefined,
  now: Date,
): number | undefined {
  const since = (at: string) => Math.max(0, now.getTime() - Date.parse(at));
  if (!state) return lastBackup ? since(lastBackup.at) : undefined;
  if (state.oldestMissing) return since(state.oldestMissing.at);
  // A run that failed before it could list: behind since then at least (it ran for a backup).
  if (state.outcome === 'failed' && state.missing === 0 && !state.newest) return since(state.at);
  const newer = lastBackup && lastBackup.id !== state.newest?.id && lastBackup.at > (state.newest?.at ?? '');
  return newer ? since(lastBackup.at) : 0;
}
