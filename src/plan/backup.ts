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
  /**
   * How the archive is read at random positions (README "Seekable archives"): zstd frames of
   * `frameSize` tar bytes cut on the server (`split --filter`) or by bo; `plain` for an
   * uncompressed archive, seekable as it is; undefined for gzip, which is read whole.
   */
  frames: 'server' | 'local' | 'plain' | undefined;
  /** Tar bytes per zstd frame (the job's `frameSize`). */
  frameSize: number;
  encrypted: boolean;
}

export interface ServerCompressors {
  zstd: boolean;
  gzip: boolean;
  /** GNU split --filter, to cut the server's zstd output into frames. */
  split: boolean;
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
  const onServer = job.compressOn === 'server';
  // zstd frames on the server need split; without it bo frames the archive itself.
  const remote = onServer && compression === 'zstd' && server.zstd && server.split;
  const compressRemotely = compression === 'gzip' ? onServer && server.gzip : remote;
  return {
    job: jobName,
    id,
    archiveName: `archive.tar${compressionSuffix(compression)}${age}`,
    indexName: `index.jsonl.zst${age}`,
    compression,
    compressRemotely,
    frames:
      compression === 'none' ? 'plain' : compression === 'gzip' ? undefined : remote ? 'server' : 'local',
    frameSize: job.frameSize,
    encrypted,
  };
}
