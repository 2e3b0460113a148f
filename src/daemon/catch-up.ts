import type { StateDb } from '../catalog/db.ts';
import {
  abandonRuns,
  jobsFirstSeen,
  latestFinished,
  type RunOwner,
  type RunRecord,
} from '../catalog/runs.ts';
import type { Logger } from '../log.ts';
import type { Entry } from './snapshot.ts';
import { catchUpBaseline, missedRun } from './timing.ts';

/**
 * What the daemon owes at start: runs that were in progress when bo died are marked abandoned,
 * and every enabled job with catchUp gets one run when a schedule time passed since its last
 * success, or when its last run was abandoned. Returns the jobs to queue, with the schedule time
 * each run stands for.
 */
export function catchUps(opts: {
  db: StateDb;
  entries: Iterable<Entry>;
  now: number;
  log: Logger;
  ownerAlive?: ((o: RunOwner) => boolean) | undefined;
}): Array<{ entry: Entry; scheduledAt: number | undefined }> {
  const { db, log, now } = opts;
  const at = new Date(now).toISOString();
  const entries = [...opts.entries];
  const abandoned = abandonRuns(db, at, opts.ownerAlive);
  const firstSeen = jobsFirstSeen(
    db,
    entries.map((e) => e.name),
    at,
  );
  const successes = latestFinished(db, { ok: true });
  const interrupted = new Map<string, RunRecord>();
  for (const r of abandoned) {
    log.warn(
      { runId: r.id, job: r.job, startedAt: r.startedAt },
      'Run abandoned: bo stopped while it was in progress',
    );
    interrupted.set(r.job, r);
  }
  const due: Array<{ entry: Entry; scheduledAt: number | undefined }> = [];
  for (const e of entries) {
    if (!e.job.enabled || !e.job.catchUp) continue;
    const lost = interrupted.get(e.name);
    const missed =
      e.cron && missedRun(e.cron, catchUpBaseline(successes.get(e.name), firstSeen.get(e.name)), now);
    if (!lost && !missed) continue;
    log.info({ job: e.name, missed: missed?.toISOString(), abandoned: lost?.id }, 'Catching up a missed run');
    due.push({ entry: e, scheduledAt: lost?.scheduledAt ? Date.parse(lost.scheduledAt) : missed?.getTime() });
  }
  return due;
}
