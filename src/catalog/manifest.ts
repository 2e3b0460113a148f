/**
 * The manifest: the commit point of a backup and the only thing that makes one exist. It is
 * written last, after every object it names has been stored and verified. Format documented in
 * README ("Storage layout"), its key in storage/layout.ts; bump MANIFEST_VERSION on incompatible
 * changes.
 */
import { z } from 'zod';

/**
 * 1: standalone archives. 2: adds `chain` (incremental backups: an archive that holds only what
 * changed since its parent, made with GNU tar --listed-incremental). 3: an object may be stored
 * in volumes (`volumes`: an archive larger than its storage's volume size is split into several
 * objects, concatenated in order to read it). Readers accept every version up to their own and
 * refuse newer ones rather than misread them.
 */
export const MANIFEST_VERSION = 3;

/** Where a backup sits in its incremental chain (manifest version 2). */
export const ChainInfo = z.object({
  /** full: restorable alone and the root of a chain; incremental: needs its parent chain. */
  type: z.enum(['full', 'incremental']),
  /** 0 for a full, parent's level + 1 for an incremental. */
  level: z.number().int().nonnegative(),
  /** The backup this one holds the changes since (same job, same storage); null for a full. */
  parent: z.string().nullable(),
  /** The full at the start of the chain (this backup's own id for a full). */
  root: z.string(),
  /** For a full in an incremental job: why it is not an incremental (first run, --full, …). */
  reason: z.string().optional(),
});
export type ChainInfo = z.infer<typeof ChainInfo>;

/** One stored object: its key relative to the backup's folder, size and SHA-256. */
export const Volume = z.object({
  key: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Volume = z.infer<typeof Volume>;

/**
 * An archive, index or dump: `key`, `size` and `sha256` describe its bytes as a whole. Without
 * `volumes` (every version-1 and -2 object, and any object within its storage's volume size)
 * those bytes are the one object at `key`. With `volumes` (version 3) they are the volumes'
 * objects concatenated in the order listed, the first of them at `key`.
 */
export const StoredObject = Volume.extend({
  volumes: z.array(Volume).min(2).optional(),
});
export type StoredObject = z.infer<typeof StoredObject>;

/** The objects that hold a stored object's bytes, in order. */
export function volumesOf(obj: StoredObject): Volume[] {
  return obj.volumes ?? [{ key: obj.key, size: obj.size, sha256: obj.sha256 }];
}

/** The manifest's record of an object stored under `name` by the volume writer (storage/volumes.ts). */
export function storedObject(
  name: string,
  r: { size: number; sha256: string; volumes?: readonly Volume[] | undefined },
): StoredObject {
  const obj: StoredObject = { key: name, size: r.size, sha256: r.sha256 };
  if (r.volumes) obj.volumes = r.volumes.map((v) => ({ key: v.key, size: v.size, sha256: v.sha256 }));
  return obj;
}

/** Every object a backup stored (not the manifest), each in its volumes. */
export function storedVolumes(m: Pick<Manifest, 'archive' | 'index' | 'dumps'>): Volume[] {
  return [m.archive, m.index, ...m.dumps.map((d) => d.object)].flatMap(volumesOf);
}

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
  version: z
    .number()
    .int()
    .max(
      MANIFEST_VERSION,
      `made by a newer bo (format version above ${MANIFEST_VERSION}): upgrade bo to read it`,
    ),
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
  /**
   * Incremental chain membership (version 2); null for a standalone archive (version 1, or a job
   * with `incremental: false`), which is restored on its own.
   */
  chain: ChainInfo.nullable().default(null),
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

/** When a backup started, from its id (`20261122T081500Z-…`); undefined for an id of another shape. */
export function backupIdTime(id: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}
