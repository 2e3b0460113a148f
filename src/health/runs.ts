import type { RunOutcome } from '../catalog/runs.ts';
import type { Config } from '../config/schema.ts';
import type { RunHistoryView } from './snapshots.ts';

/** A job whose newest finished run did not succeed (verify, prune, drill… any kind), from the run history. */
export interface RunProblem {
  job: string;
  kind: string;
  outcome: Exclude<RunOutcome, 'ok'>;
  /** When that run finished. */
  at: string;
  error?: string;
  /** The newest successful run of the job, if there is one. */
  lastOkAt?: string;
}

/** The jobs among `jobs` whose newest finished run failed, was cancelled or abandoned; newest first. Pure. */
export function runProblems(
  config: Config,
  jobs: readonly string[],
  history: RunHistoryView | undefined,
): RunProblem[] {
  if (!history) return [];
  const out: RunProblem[] = [];
  for (const job of jobs) {
    const last = history.last.get(job);
    if (!last?.finishedAt || !last.outcome || last.outcome === 'ok') continue;
    const ok = history.lastOk.get(job)?.finishedAt;
    out.push({
      job,
      kind: config.jobs[job]?.kind ?? 'unknown',
      outcome: last.outcome,
      at: last.finishedAt,
      ...(last.error ? { error: last.error } : {}),
      ...(ok ? { lastOkAt: ok } : {}),
    });
  }
  return out.sort((a, b) => b.at.localeCompare(a.at) || a.job.localeCompare(b.job));
}
