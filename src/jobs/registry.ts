import type { Job, JobKind } from '../config/schema.ts';
import { runBackup } from './backup.ts';
import { runDrill } from './drill-run.ts';
import { runHealthJob } from './health.ts';
import type { JobRunContext, JobRunner, JobRunResult } from './kinds.ts';
import { runPrune } from './prune.ts';
import { runSnapshotJob } from './snapshot.ts';
import { runVerify } from './verify-run.ts';

type Runners = { [K in JobKind]: JobRunner<Extract<Job, { kind: K }>> };

/** Every job kind bo can run, by `kind:`. Runs go through the door (run-recorded.ts), which calls runJob. */
export const jobRunners: Runners = {
  backup: runBackup,
  prune: runPrune,
  verify: runVerify,
  drill: runDrill,
  health: runHealthJob,
  snapshot: runSnapshotJob,
};

/** The job's body alone: nothing recorded, no notifications (runRecorded adds those). */
export function runJob(name: string, job: Job, ctx: JobRunContext): Promise<JobRunResult> {
  return (jobRunners[job.kind] as JobRunner)(name, job, ctx);
}
