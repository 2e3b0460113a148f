import type { Compression } from '../archive/compress.ts';
import { compressionSuffix } from '../archive/compress.ts';
import type { BackupJob } from '../config/schema.ts';

/** What a backup run will do and where its objects go; pure, so it is unit-tested on its own. */
export interface BackupPlan {
  job: string;
  id: string;
  archiveName: string;
  indexName: string;
  compression: Compression;
  /** Compress with the server's own compressor (fewer bytes over SSH) or locally in bo. */
  compressRemotely: boolean;
  encrypted: boolean;
}

export interface ServerCompressors {
  zstd: boolean;
  gzip: boolean;
}

export function planBackup(
  job: BackupJob,
  jobName: string,
  id: string,
  server: ServerCompressors,
): BackupPlan {
  const compression = job.compression;
  const encrypted = Boolean(job.encryption);
  const age = encrypted ? '.age' : '';
  return {
    job: jobName,
    id,
    archiveName: `archive.tar${compressionSuffix(compression)}${age}`,
    indexName: `index.jsonl.zst${age}`,
    compression,
    compressRemotely: compression !== 'none' && server[compression],
    encrypted,
  };
}
