/**
 * `bo prune`, `bo verify` and `bo drill` run by hand go into the same run history as the daemon's
 * runs and `bo backup now`: each is recorded as a manual run of every configured job of that kind
 * whose work it covered, so `bo status` shows them (no more "never ran" after a hand-run), the
 * daemon's catch-up counts them, and that job's start/success/fail notifications go out. Covered means: every backup job the configured job acts on was
 * included, and the hand-run went at least as deep (no sample where the job checks everything, a
 * sample no smaller than the job's, an identity where the job has one). A dry run changes and
 * proves nothing and is never recorded; neither is a verify or drill of one given backup.
 */
import type { DrillJob, VerifyJob } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { openHistory } from './history.ts';
import type { JobRunResult } from './kinds.ts';
import { manualRun, runRecorded } from './run-recorded.ts';
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
 * Runs `work` once, as a run of each covered job through the one door (run-recorded.ts): each is
 * recorded and notified, with the result `judge` makes of the items for that job's targets (the
 * job kind's own summary, which throws on failure). Returns `work`'s items, or throws its error.
 */
export async function recordHandRun<T extends { job: string }>(
  deps: { services: Services; log: Logger; signal: AbortSignal },
  run: HandRun,
  work: () => Promise<T[]>,
  judge: (job: string, items: T[]) => JobRunResult,
): Promise<T[]> {
  const covered = coveredJobs(deps.services, run);
  if (covered.length === 0) return await work();
  const history = openHistory(deps.services.config.stateDir, deps.log);
  let shared: Promise<T[]> | undefined;
  const once = () => (shared ??= work());
  try {
    const at = deps.services.clock.now();
    await Promise.all(
      covered.map(({ job, targets }) => {
        const cfg = deps.services.config.jobs[job]!;
        return runRecorded(manualRun(job, cfg, at), cfg, { ...deps, history }, async () =>
          judge(
            job,
            (await once()).filter((v) => targets.has(v.job)),
          ),
        );
      }),
    );
    return await once();
  } finally {
    history?.close();
  }
}
