/** `storage.<name>`: where backups go, an S3 bucket or a local directory (src/storage/). */
import { z } from 'zod';
import { unknownTag } from '../messages.ts';
import type { Resolved } from '../resolve-secrets.ts';
import { byteSize, Duration, Secret } from './common.ts';
import { StorageLimits } from './limits.ts';

const KiB = 1024;
const GiB = 1024 ** 3;

const limits = StorageLimits.optional().describe('Bandwidth limits of this storage (README "Limits")');

/** 4 GiB: see the description below. */
export const DEFAULT_VOLUME_SIZE = 4 * GiB;

/** Every storage type has one: archives, indexes and dumps larger than this are stored in volumes. */
const volumeSize = byteSize(64 * KiB, 5 * 1024 * GiB)
  .prefault('4GiB')
  .describe(
    'Largest object bo writes: a bigger archive (index, dump) is stored as volumes of this size, concatenated in order to read it (README "No size cap"). 4GiB by default: S3 copies a volume server-side in one request up to 5GiB, and uploads use 5MiB parts, so memory stays small at any archive size',
  );

export const S3Storage = z.strictObject({
  type: z.literal('s3'),
  endpoint: z.url().optional().describe('Custom endpoint for S3-compatible servers; omit for AWS'),
  region: z.string().default('us-east-1'),
  bucket: z.string().min(3).max(63),
  prefix: z.string().default('').describe('Key prefix for everything bo stores, e.g. "bo/"'),
  forcePathStyle: z.boolean().default(false),
  accessKeyId: Secret.optional(),
  secretAccessKey: Secret.optional(),
  sessionToken: Secret.optional(),
  checksums: z
    .enum(['auto', 'when-required', 'when-supported'])
    .default('auto')
    .describe('SDK checksum mode; auto = when-required for custom endpoints, when-supported for AWS'),
  storageClass: z
    .string()
    .optional()
    .describe(
      'S3 storage class of archives and dumps only (e.g. STANDARD_IA); manifests, indexes, catalogs and locks stay STANDARD',
    ),
  partConcurrency: z.int().min(1).max(16).default(4).describe('Multipart parts uploaded at once'),
  volumeSize,
  limits,
  timeout: Duration.prefault('5m').describe('Per-request timeout'),
  objectLock: z
    .strictObject({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: z.int().min(1) })
    .optional()
    .describe('S3 Object Lock retention set on every object written (bucket must have Object Lock enabled)'),
});
export type S3Storage = Resolved<z.infer<typeof S3Storage>>;

export const FilesystemStorage = z.strictObject({
  type: z.literal('filesystem'),
  path: z.string().min(1).describe('Repository directory; relative paths are relative to the config file'),
  volumeSize,
  limits,
});
export type FilesystemStorage = z.infer<typeof FilesystemStorage>;

export const StorageTarget = z.discriminatedUnion('type', [S3Storage, FilesystemStorage], {
  error: unknownTag('storage type'),
});
export type StorageTarget = Resolved<z.infer<typeof StorageTarget>>;
