/** Jobs that act on stored backups: prune, verify and drill. */
import { z } from 'zod';
import type { Resolved } from '../resolve-secrets.ts';
import { Duration, Name, Secret } from './common.ts';
import { JobCommon } from './jobs-common.ts';

/** A share such as "10%" (a bare number is percent), parsed to a fraction in (0, 1]. */
const SampleRate = z
  .union([z.string().regex(/^\d+(\.\d+)?%$/, 'a percentage such as "10%"'), z.number()])
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1))) / 100)
  .refine((v) => v > 0 && v <= 1, 'a share above 0% and at most 100%');
const BackupTargets = {
  jobs: z.array(Name).min(1).optional().describe('Backup jobs to act on (default: every backup job)'),
};

export const PruneJob = z.strictObject({
  kind: z.literal('prune'),
  ...JobCommon,
  ...BackupTargets,
  garbageAge: Duration.prefault('24h').describe(
    'Incomplete uploads and objects without a manifest (failed runs) older than this are removed',
  ),
});
export type PruneJob = z.infer<typeof PruneJob>;

export const VerifyJob = z.strictObject({
  kind: z.literal('verify'),
  ...JobCommon,
  ...BackupTargets,
  sample: SampleRate.optional().describe(
    'Verify this share of each job’s backups, least recently verified first and always the newest (default: all)',
  ),
  identity: Secret.optional().describe(
    'age identity (AGE-SECRET-KEY-1…) to check the content of encrypted backups; without it only ciphertext hashes are checked',
  ),
});
export type VerifyJob = Resolved<z.infer<typeof VerifyJob>>;

export const DrillJob = z.strictObject({
  kind: z.literal('drill'),
  ...JobCommon,
  ...BackupTargets,
  to: z
    .string()
    .optional()
    .describe('Local directory the scratch restore goes under (default: <stateDir>/drill)'),
  toHost: z
    .string()
    .regex(/^[^:]+:\/.*$/, 'HOST:/absolute/dir')
    .optional()
    .describe('Restore onto this host instead, under HOST:/dir, with its own tar'),
  sample: SampleRate.optional().describe('Restore only this share of the files, at most 256 (default: all)'),
  identity: Secret.optional().describe('age identity for encrypted backups'),
});
export type DrillJob = Resolved<z.infer<typeof DrillJob>>;
