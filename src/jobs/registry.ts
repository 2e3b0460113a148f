import type { Job, JobKind } from '../config/schema.ts';
import { runBackup } from './backup.ts';
import type { JobRunContext, JobRunner, JobRunResult } from './kinds.ts';

type Runners = { [K in JobKind]: JobRunner<Extract<Job, { kind: K }>> };

/** Every job kind bo can run, by `kind:`. The daemon and the CLI both go through runJob. */
export const jobRunners: Runners = {
  backup: runBackup,
};

export function runJob(name: string, job: Job, ctx: JobRunContext): Promise<JobRunResult> {
  const runner = jobRunners[job.kind] as JobRunner;
  return runner(name, job, ctx);
}
