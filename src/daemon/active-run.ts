import type { RunEnd, RunRecord } from '../catalog/runs.ts';
import type { JobProgress } from '../jobs/kinds.ts';
import type { Logger } from '../log.ts';

/** Progress goes to the log at most this often (followers get it live). */
const PROGRESS_LOG_MS = 30_000;

/** Someone following a run (the control endpoint streaming it to `bo backup now`). */
export interface RunWatcher {
  onStart?(record: RunRecord): void;
  onProgress?(progress: JobProgress): void;
  onDone(record: RunRecord): void;
}

/** A run the scheduler holds: queued or running, with its cancel switch and live progress. */
export interface ActiveRun {
  readonly record: RunRecord;
  /** Every host the run touches; each counts it against the per-host limit. */
  readonly hosts: readonly string[];
  /** When it was meant to start (schedule time plus jitter, retry time, or request time). */
  readonly fireAt: number;
  readonly controller: AbortController;
  readonly done: Promise<RunRecord>;
  state: 'queued' | 'running';
  progress: JobProgress | undefined;
  settled: boolean;
  watch(w: RunWatcher): () => void;
  markStarted(at: Date): void;
  report(p: JobProgress): void;
  /** Records the end once; false when it had already ended. */
  settle(end: RunEnd): boolean;
}

export function createActiveRun(record: RunRecord, hosts: readonly string[], fireAt: number): ActiveRun {
  const watchers = new Set<RunWatcher>();
  let resolve!: (r: RunRecord) => void;
  const done = new Promise<RunRecord>((r) => (resolve = r));
  const each = (f: (w: RunWatcher) => void) => {
    for (const w of [...watchers]) {
      try {
        f(w);
      } catch {
        // a broken watcher (closed socket) must not break the run
      }
    }
  };
  const run: ActiveRun = {
    record,
    hosts,
    fireAt,
    controller: new AbortController(),
    done,
    state: 'queued',
    progress: undefined,
    settled: false,
    watch(w) {
      watchers.add(w);
      return () => watchers.delete(w);
    },
    markStarted(at) {
      run.state = 'running';
      record.startedAt = at.toISOString();
      each((w) => w.onStart?.(record));
    },
    report(p) {
      run.progress = p;
      each((w) => w.onProgress?.(p));
    },
    settle(end) {
      if (run.settled) return false;
      run.settled = true;
      Object.assign(record, end);
      each((w) => w.onDone(record));
      watchers.clear();
      resolve(record);
      return true;
    },
  };
  return run;
}

/** A run's progress callback: its followers get every report, the log one every PROGRESS_LOG_MS. */
export function progressReporter(run: ActiveRun, log: Logger, now: () => number): (p: JobProgress) => void {
  let last = now();
  return (p) => {
    run.report(p);
    if (now() - last < PROGRESS_LOG_MS) return;
    last = now();
    log.info({ phase: p.phase, bytes: p.bytes, files: p.files }, 'Run progress');
  };
}

/** The one log line that closes a run in the daemon's log. */
export function logRunEnd(log: Logger, startedOrQueuedAt: string, e: RunEnd): void {
  const durationMs = Date.parse(e.finishedAt) - Date.parse(startedOrQueuedAt);
  if (e.outcome === 'ok') {
    log.info({ durationMs, bytes: e.bytes, files: e.files, backupId: e.backupId }, 'Run finished');
  } else if (e.outcome === 'cancelled') log.warn({ durationMs, error: e.error }, 'Run cancelled');
  else log.error({ durationMs, error: e.error }, 'Run failed');
}
