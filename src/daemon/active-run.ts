import type { RunEnd, RunRecord } from '../catalog/runs.ts';
import { errorMessage, isAbortError } from '../errors.ts';
import type { JobProgress, JobRunResult } from '../jobs/kinds.ts';

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

/** The end of a run from what its runner returned. */
export function successEnd(result: JobRunResult, at: Date): RunEnd {
  return {
    finishedAt: at.toISOString(),
    outcome: 'ok',
    bytes: result.bytes,
    storedBytes: result.storedBytes,
    files: result.files,
    backupId: result.backupId,
    summary: result.summary,
  };
}

/** The end of a run from what its runner threw: cancelled when it was aborted, else failed. */
export function failureEnd(err: unknown, aborted: boolean, at: Date): RunEnd {
  const cancelled = aborted || isAbortError(err);
  return {
    finishedAt: at.toISOString(),
    outcome: cancelled ? 'cancelled' : 'failed',
    error: errorMessage(err),
  };
}
