import type { StateDb } from '../catalog/db.ts';
import { currentOwner, finishRun, insertRun, markRunStarted } from '../catalog/runs.ts';
import type { Job } from '../config/schema.ts';
import type { InlineOutcome } from './run-inline.ts';

/**
 * Records runs made by the CLI without a daemon in the same run history the daemon keeps, so
 * `bo status` and the daemon's catch-up see them. A crash mid-run leaves the row unfinished,
 * and the daemon marks it abandoned, as for its own runs.
 */
export interface InlineHistory {
  started(runId: string, job: string, cfg: Job, at: Date): void;
  finished(runId: string, o: InlineOutcome, at: Date): void;
}

export function inlineHistory(db: StateDb): InlineHistory {
  return {
    started(runId, job, cfg, at) {
      const iso = at.toISOString();
      insertRun(
        db,
        {
          id: runId,
          job,
          kind: cfg.kind,
          host: 'host' in cfg ? cfg.host : undefined,
          trigger: 'manual',
          attempt: 1,
          queuedAt: iso,
        },
        currentOwner(),
      );
      markRunStarted(db, runId, iso);
    },
    finished(runId, o, at) {
      finishRun(db, runId, {
        finishedAt: at.toISOString(),
        outcome: o.outcome,
        bytes: o.result?.bytes,
        storedBytes: o.result?.storedBytes,
        files: o.result?.files,
        backupId: o.result?.backupId,
        error: o.error,
        summary: o.result?.summary,
      });
    },
  };
}
