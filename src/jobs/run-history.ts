import type { StateDb } from '../catalog/db.ts';

/**
 * The newest backup this machine committed for `job`, from the daemon's run history (table
 * `runs`, kept by catalog/runs.ts). Undefined when there is no history yet, or the table is not
 * there (a CLI-only machine): the prune guard then relies on its other evidence.
 */
export function lastCommittedBackup(db: StateDb, job: string): { id: string; at: string } | undefined {
  try {
    const row = db
      .prepare(
        "SELECT backup_id, started_at FROM runs WHERE job = ? AND kind = 'backup' AND outcome = 'ok' AND backup_id IS NOT NULL ORDER BY started_at DESC LIMIT 1",
      )
      .get(job) as { backup_id: string; started_at: string } | undefined;
    return row ? { id: row.backup_id, at: row.started_at } : undefined;
  } catch {
    return undefined; // no runs table (yet)
  }
}
