/**
 * `bo prune`, `bo verify` and `bo drill` run by hand go into the same run history as the daemon's
 * runs and `bo backup now`: each is recorded as a manual run of every configured job of that kind
 * whose work it covered, so `bo status` shows them (no more "never ran" after a hand-run) and the
 * daemon's catch-up counts them. Covered means: every backup job the configured job acts on was
 * included, and the hand-run went at least as deep (no sample where the job checks everything, a
 * sample no smaller than the job's, an identity where the job has one). A dry run changes and
 * proves nothing and is never recorded; neither is a verify or drill of one given backup.
 */
import { randomUUID } from 'node:crypto';
import { openStateDb } from '../catalog/db.ts';
import type { DrillJob, VerifyJob } from '../config/schema.ts';
import { BoError, errorMessage, isAbortError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { type InlineHistory, inlineHistory } from './inline-history.ts';
import type { JobRunResult } from './kinds.ts';
import type { InlineOutcome } from './run-inline.ts';
import { backupJobTargets } from './targets.ts';

export interface HandRun {
  kind: 'prune' | 'verify' | 'drill';
  /** The backup jobs the hand-run acts on. */
  targets: readonly string[];
  /** verify/drill --sample, a share in (0, 1]; undefined: everything. */
  sample?: number | undefined;
  /** verify/drill: an age identity was given (content checked, not just ciphertext). */
  identity?: boolean;
}

/** The configured jobs a hand-run stands for (see the file comment), each with its targets. */
export function coveredJobs(services: Services, run: HandRun): Array<{ job: string; targets: Set<string> }> {
  if (run.targets.length === 0) return [];
  const out: Array<{ job: string; targets: Set<string> }> = [];
  const targets = new Set(run.targets);
  const deepEnough = (job: VerifyJob | DrillJob) =>
    (run.sample === undefined || (job.sample !== undefined && run.sample >= job.sample)) &&
    (run.identity || !job.identity);
  for (const [name, job] of Object.entries(services.config.jobs)) {
    if (job.kind !== run.kind || (run.kind !== 'prune' && !deepEnough(job as VerifyJob | DrillJob))) continue;
    const jobTargets = backupJobTargets(services, (job as { jobs?: string[] | undefined }).jobs);
    if (jobTargets.every((t) => targets.has(t))) out.push({ job: name, targets: new Set(jobTargets) });
  }
  return out;
}

/**
 * Runs `work` and records it under each covered job, with the result `judge` makes of the items
 * for that job's targets (the job kind's own summary, which throws on failure). Recording
 * problems are only logged.
 */
export async function recordHandRun<T extends { job: string }>(
  deps: { services: Services; log: Logger; signal: AbortSignal },
  run: HandRun,
  work: () => Promise<T[]>,
  judge: (job: string, items: T[]) => JobRunResult,
): Promise<T[]> {
  const covered = coveredJobs(deps.services, run);
  const history = covered.length ? openHistory(deps.services.config.stateDir, deps.log) : undefined;
  const safely = (f: () => void) => {
    try {
      f();
    } catch (err) {
      deps.log.warn({ err: errorMessage(err) }, 'Could not record the run in the state database');
    }
  };
  const runs = covered.map((c) => ({ ...c, cfg: deps.services.config.jobs[c.job]!, runId: randomUUID() }));
  const started = Date.now();
  for (const r of runs) safely(() => history?.started(r.runId, r.job, r.cfg, new Date(started)));
  const finish = (r: (typeof runs)[number], o: Omit<InlineOutcome, 'job' | 'kind' | 'durationMs'>) =>
    safely(() =>
      history?.finished(
        r.runId,
        { job: r.job, kind: r.cfg.kind, durationMs: Date.now() - started, ...o },
        new Date(),
      ),
    );
  try {
    let value: T[];
    try {
      value = await work();
    } catch (err) {
      const outcome = deps.signal.aborted || isAbortError(err) ? 'cancelled' : 'failed';
      for (const r of runs) finish(r, { outcome, error: errorMessage(err) });
      throw err;
    }
    for (const r of runs) {
      try {
        finish(r, {
          outcome: 'ok',
          result: judge(
            r.job,
            value.filter((v) => r.targets.has(v.job)),
          ),
        });
      } catch (err) {
        finish(r, { outcome: 'failed', error: errorMessage(err), ...hintOf(err) });
      }
    }
    return value;
  } finally {
    history?.close();
  }
}

function hintOf(err: unknown): { hint?: string } {
  return err instanceof BoError && err.hint ? { hint: err.hint } : {};
}

/** The run history, when this user can write the state database; otherwise runs go unrecorded. */
export function openHistory(stateDir: string, log: Logger): (InlineHistory & { close(): void }) | undefined {
  try {
    const db = openStateDb(stateDir);
    return { ...inlineHistory(db), close: () => db.close() };
  } catch (err) {
    log.warn(
      { stateDir, err: errorMessage(err) },
      'Run history not recorded: cannot open the state database',
    );
    return undefined;
  }
}
