/** The backup job: what is archived from which host into which storage. */
import { z } from 'zod';
import { parseDuration } from '../duration.ts';
import { expected } from '../messages.ts';
import type { Resolved } from '../resolve-secrets.ts';
import { AgeRecipient, Duration, whenParsed } from './common.ts';
import { Dumps } from './dumps.ts';
import { HookFields, JobCommon, Retention } from './jobs-common.ts';
import { checkSnapshotPaths, SnapshotVolume } from './snapshot.ts';

/** When a new full starts a new chain: after a number of backups, or once the chain's full is that old. */
export type FullEvery = { count: number } | { ms: number; text: string };

/** Default: a new full weekly (see the description: why). */
export const DEFAULT_FULL_EVERY = '7d';

const FullEvery = z
  .union([z.int().min(1), z.string()], { error: expected('a number of backups (8) or a duration (7d)') })
  .refine((v) => typeof v === 'number' || (parseDuration(v) ?? 0) > 0, {
    error: (iss) => `invalid duration ${JSON.stringify(iss.input)} (examples: 7d, 2w, 36h)`,
  });

/** The parsed `fullEvery` of an incremental job (the config keeps what the user wrote). */
export function fullEveryOf(v: number | string): FullEvery {
  return typeof v === 'number' ? { count: v } : { ms: parseDuration(v)!, text: v };
}

export const Incremental = z
  .union([z.boolean(), z.strictObject({ fullEvery: FullEvery.default(DEFAULT_FULL_EVERY) })], {
    error: expected('false, true or { fullEvery: 7d | 8 }'),
  })
  .transform((v) => (v === true ? { fullEvery: DEFAULT_FULL_EVERY } : v))
  .prefault(true)
  .describe(
    "Incremental backups (the default): each run archives only what changed since the previous backup (GNU tar --listed-incremental), and every backup stays restorable with stock tools. fullEvery: a new full starts a new chain after that many backups (8) or once the chain's full is that old (7d, the default: restores read at most a week of archives, a lost or damaged archive costs at most the rest of its week, and old restore points pin at most a week of older backups). false: every backup is a full",
  );

/** A storage that keeps copies of a job's backups: `coldsite`, or `{ storage, retention, maxLag }`. */
export const CopyTarget = z
  .union(
    [
      z.string().min(1),
      z.strictObject({
        storage: z.string().min(1).describe("Storage name from `storage` (not the job's own)"),
        retention: Retention.optional().describe(
          "Which backups this storage keeps: `bo prune` applies it here, and a backup this retention would not keep is never copied (default: the job's retention)",
        ),
        maxLag: Duration.optional().describe(
          "How long a backup may be missing from this storage before the copy is overdue: the backup-freshness health check warns, twice as long is critical (default: the check's own limit for the job's newest backup, i.e. the schedule period plus grace)",
        ),
      }),
    ],
    { error: expected('a storage name or { storage, retention, maxLag }') },
  )
  .transform((v) => (typeof v === 'string' ? { storage: v } : v));
export type CopyTarget = z.infer<typeof CopyTarget>;

export const BackupJob = z
  .strictObject({
    kind: z.literal('backup'),
    ...JobCommon,
    host: z.string().min(1).describe('Host name from `hosts`, or "local"'),
    paths: z
      .array(z.string().min(1), { error: expected('a list of paths') })
      .min(1)
      .describe('Paths to back up'),
    exclude: z
      .array(z.string().min(1), { error: expected('a list of paths or globs') })
      .default([])
      .describe(
        'Paths or globs to leave out. "/srv/share/cache" (absolute) is anchored at the root and excludes that path and everything below it; other patterns ("*.tmp", "cache") match at any depth; * and ? never match "/"',
      ),
    storage: z.string().min(1).describe('Storage name from `storage`'),
    compression: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
    compressionLevel: z.int().min(1).max(19).optional(),
    encryption: z.strictObject({ recipients: z.array(AgeRecipient).min(1) }).optional(),
    oneFileSystem: z.boolean().default(false).describe('Do not cross mount points (tar --one-file-system)'),
    incremental: Incremental,
    retention: Retention.optional().describe(
      'Which backups `bo prune` keeps; without it prune keeps them all',
    ),
    copies: z
      .array(CopyTarget, { error: expected('a list of storage names') })
      .default([])
      .describe(
        'Storages that keep a copy of every backup (3-2-1): after each backup commits, bo copies it from the job\'s storage (never from the server again) to each of these, verified against the manifest, the manifest last. `bo copy JOB --to STORAGE` catches up by hand. Each storage has its own retention and Object Lock (README "Copies")',
      ),
    snapshot: SnapshotVolume.optional().describe(
      'Consistent backup: snapshot this volume, archive the paths from the read-only snapshot (recorded under their original paths), then release it',
    ),
    dumps: Dumps,
    ...HookFields,
  })
  .superRefine(checkSnapshotPaths, whenParsed('paths', 'snapshot'));
export type BackupJob = Resolved<z.infer<typeof BackupJob>>;
