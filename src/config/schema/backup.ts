/** The backup job: what is archived from which host into which storage. */
import { z } from 'zod';
import { expected } from '../messages.ts';
import type { Resolved } from '../resolve-secrets.ts';
import { AgeRecipient, whenParsed } from './common.ts';
import { Dumps } from './dumps.ts';
import { HookFields, JobCommon, Retention } from './jobs-common.ts';
import { checkSnapshotPaths, SnapshotVolume } from './snapshot.ts';

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
    retention: Retention.optional().describe(
      'Which backups `bo prune` keeps; without it prune keeps them all',
    ),
    snapshot: SnapshotVolume.optional().describe(
      'Consistent backup: snapshot this volume, archive the paths from the read-only snapshot (recorded under their original paths), then release it',
    ),
    dumps: Dumps,
    ...HookFields,
  })
  .superRefine(checkSnapshotPaths, whenParsed('paths', 'snapshot'));
export type BackupJob = Resolved<z.infer<typeof BackupJob>>;
