/**
 * The manifest: the commit point of a backup and the only thing that makes one exist. It is
 * written last, after every object it names has been stored and verified. Format documented in
 * README ("Storage layout"), its key in storage/layout.ts; bump MANIFEST_VERSION on incompatible
 * changes.
 */
import { z } from 'zod';

export const MANIFEST_VERSION = 1;

export const StoredObject = z.object({
  /** Key relative to the backup's folder, e.g. "archive.tar.zst.age". */
  key: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type StoredObject = z.infer<typeof StoredObject>;

export const DumpRecord = z.object({
  name: z.string(),
  /** postgres | mysql | command */
  type: z.string(),
  /** The database dumped (postgres/mysql); absent for all databases and for command dumps. */
  database: z.string().optional(),
  object: StoredObject,
});
export type DumpRecord = z.infer<typeof DumpRecord>;

export const Manifest = z.object({
  format: z.literal('bo-backup'),
  version: z.number().int(),
  id: z.string(),
  job: z.string(),
  host: z.string(),
  /** Address the host had (or "local"), for humans restoring without bo. */
  hostAddress: z.string(),
  paths: z.array(z.string()),
  exclude: z.array(z.string()),
  startedAt: z.string(),
  finishedAt: z.string(),
  tool: z.object({ name: z.literal('bo'), version: z.string() }),
  compression: z.enum(['zstd', 'gzip', 'none']),
  encryption: z.object({ type: z.literal('age'), recipients: z.array(z.string()) }).nullable(),
  archive: StoredObject,
  index: StoredObject,
  dumps: z.array(DumpRecord).default([]),
  stats: z.object({
    files: z.number().int(),
    dirs: z.number().int(),
    /** Bytes of file content before compression. */
    bytes: z.number(),
    /** Bytes of the uncompressed tar stream. */
    tarBytes: z.number(),
  }),
  /** tar's warnings, e.g. "file changed as we read it": the backup is usable but not pristine. */
  warnings: z.array(z.string()).default([]),
  snapshot: z
    .object({ provider: z.string(), volume: z.string(), name: z.string(), sourcePath: z.string().optional() })
    .nullable()
    .default(null),
});
export type Manifest = z.infer<typeof Manifest>;

/** Backup ids sort by time: 20261122T081500Z-3f9a2c. */
export function newBackupId(now: Date, random: () => string): string {
  const ts = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${ts}-${random()}`;
}
