import type { Job, JobKind } from '../config/schema.ts';
import { runHealthJob } from '../health/job.ts';
import { withJobNotifications } from '../notify/lifecycle.ts';
import { runBackup } from './backup.ts';
import { runDrill } from './drill-run.ts';
import type { JobRunContext, JobRunner, JobRunResult } from './kinds.ts';
import { runPrune } from './prune.ts';
import { runSnapshotJob } from './snapshot.ts';
import { runVerify } from './verify-run.ts';

type Runners = { [K in JobKind]: JobRunner<Extract<Job, { kind: K }>> };

/** Every job kind bo can run, by `kind:`. The daemon and the CLI both go through runJob. */
export const jobRunners: Runners = {
  backup: runBackup,
  prune: runPrune,
  verify: runVerify,
  drill: runDrill,
  health: runHealthJob,
  snapshot: runSnapshotJob,
};

export function runJob(name: string, job: Job, ctx: JobRunContext): Promise<JobRunResult> {
  const runner = jobRunners[job.kind] as JobRunner;
  // start/success/fail events to the job's `notify:` notifiers; never changes the outcome.
  return withJobNotifications(name, job, ctx, () => runner(name, job, ctx));
}
