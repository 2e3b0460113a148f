/** `jobs.<name>`: every job kind in one discriminated union. */
import { z } from 'zod';
import { jitterProblem } from '../../plan/jitter.ts';
import { unknownTag } from '../messages.ts';
import type { Resolved } from '../resolve-secrets.ts';
import { BackupJob } from './backup.ts';
import { HealthJob } from './health.ts';
import { DrillJob, PruneJob, VerifyJob } from './maintenance.ts';
import { SnapshotJob } from './snapshot.ts';

const jobKinds = [BackupJob, HealthJob, PruneJob, VerifyJob, DrillJob, SnapshotJob] as const;

/** A job; `kind` defaults to backup. */
export const Job = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'backup', ...v } : v),
  z.discriminatedUnion('kind', jobKinds, { error: unknownTag('job kind') }).superRefine((job, ctx) => {
    const problem = jitterProblem(job);
    if (problem) ctx.addIssue({ code: 'custom', path: ['jitter'], message: problem });
  }),
);
export type Job = Resolved<z.infer<typeof Job>>;
export type JobKind = Job['kind'];
