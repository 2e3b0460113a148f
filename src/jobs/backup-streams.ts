import { type Duplex, PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream } from '../archive/age/index.ts';
import { noteStreamed } from '../archive/buffer-gc.ts';
import { chainStreams } from '../archive/chain.ts';
import { createCoalescer } from '../archive/coalesce.ts';
import { createCompressor, createDecompressor } from '../archive/compress.ts';
import { createTarIndexer, type IndexStats, indexLine } from '../archive/tar-index.ts';
import { createTee } from '../archive/tee.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { BackupPlan } from '../plan/backup.ts';
import { objectKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { createThrottle, type Limiter, type ThrottleRate } from '../storage/throttle.ts';
import { putVolumes, removeVolumes, type VolumesResult } from '../storage/volumes.ts';
import { allOrAbort } from './all-or-abort.ts';

export interface StreamProgress {
  /** File content indexed so far, before compression (src/sizes.ts); the total at the end. */
  sourceBytes: number;
  storedBytes: number;
  files: number;
}

export interface ArchiveStreams {
  archive: VolumesResult;
  index: VolumesResult;
  stats: IndexStats;
}

/**
 * Wires one backup's data path, all streaming with backpressure:
 *
 *   source ─ [read limit] ─ join chunks ─┬─ [compress locally] ─ [age] ─▶ volumes ─▶ storage: archive
 *                                        └─ [decompress if the server compressed] ─ tar indexer ─▶ JSONL ─ zstd ─ [age] ─▶ volumes ─▶ storage: index
 *
 * Resolves when both objects are stored and verified by the storage; rejects (after aborting
 * everything through `signal`, and removing any volumes already stored) on the first failure
 * anywhere. Volumes: storage/volumes.ts; the read limit (hosts.*.limits.read): storage/throttle.ts.
 */
export async function streamArchive(opts: {
  source: Readable;
  plan: BackupPlan;
  level: number | undefined;
  recipients: string[];
  storage: Storage;
  signal: AbortSignal;
  /** Called on the first failure so every other branch stops. */
  abort: (err: unknown) => void;
  onProgress: (p: StreamProgress) => void;
  log?: Logger | undefined;
  /** Bytes per second read from the source at most (the host's limits.read). */
  readLimit?: Limiter | ThrottleRate | undefined;
}): Promise<ArchiveStreams> {
  const { plan, storage, signal } = opts;
  const progress: StreamProgress = { sourceBytes: 0, storedBytes: 0, files: 0 };
  const report = () => opts.onProgress(progress);

  const source = createCoalescer(256 * 1024, noteStreamed);
  const archiveBody = new PassThrough({ highWaterMark: 256 * 1024 });
  const indexTar = new PassThrough({ highWaterMark: 256 * 1024 });

  // Archive branch: what is stored is exactly what `tar`/`zstd -d`/`age -d` can read back.
  const archiveStages: NodeJS.ReadWriteStream[] = [];
  if (plan.compression !== 'none' && !plan.compressRemotely)
    archiveStages.push(createCompressor(plan.compression, opts.level));
  if (plan.encrypted) archiveStages.push(createEncryptStream(opts.recipients));
  const archiveOut = archiveStages.length ? chain(archiveBody, archiveStages) : archiveBody;

  // Index branch: the indexer needs plain tar bytes.
  const indexer = createTarIndexer({
    signal,
    onContent: (n) => {
      progress.sourceBytes += n;
    },
    onEntry: (e) => {
      if (e.type === 'file') progress.files++;
      lines += `${indexLine(e)}\n`;
      if (lines.length >= INDEX_BATCH) flushLines();
    },
  });
  const indexLines = new PassThrough({ highWaterMark: 256 * 1024 });
  // Lines go to the compressor in batches: one zstd call per line cost more than the indexing.
  let lines = '';
  const flushLines = () => {
    if (lines) indexLines.write(lines);
    lines = '';
  };
  // Level 3, not 9: level 9's match tables cost ~15 MB of RSS for an object a few MB long.
  const indexStages: NodeJS.ReadWriteStream[] = [createCompressor('zstd', 3)];
  if (plan.encrypted) indexStages.push(createEncryptStream(opts.recipients));
  const indexOut = chain(indexLines, indexStages);
  const indexFeed =
    plan.compressRemotely && plan.compression !== 'none'
      ? pipeline(indexTar, createDecompressor(plan.compression), indexer.writable, { signal })
      : pipeline(indexTar, indexer.writable, { signal });

  const log = opts.log ?? silentLogger();
  const stored: VolumesResult[] = [];
  const keep = (r: VolumesResult) => {
    stored.push(r);
    return r;
  };
  const input = opts.readLimit ? [opts.source, createThrottle(opts.readLimit)] : [opts.source];
  const ticker = setInterval(report, 500);
  try {
    const [archive, index] = await allOrAbort(
      [
        putVolumes(storage, objectKey(plan, plan.archiveName), archiveOut, {
          signal,
          bulk: true,
          log,
          onProgress: (n) => {
            progress.storedBytes = n;
          },
        }).then(keep),
        putVolumes(storage, objectKey(plan, plan.indexName), indexOut, { signal, log }).then(keep),
        pipeline([...input, source, createTee([archiveBody, indexTar])], { signal }),
        indexFeed.then(() => {
          flushLines();
          indexLines.end();
        }),
      ] as const,
      opts.abort,
    );
    const stats = await indexer.done;
    progress.sourceBytes = stats.bytes; // sparse holes count as their apparent size, as in the manifest
    report();
    return { archive, index, stats };
  } catch (err) {
    await removeVolumes(storage, stored, log); // the caller removes the first volumes it knows of
    throw err;
  } finally {
    clearInterval(ticker);
  }
}

const INDEX_BATCH = 64 * 1024;

function chain(head: Readable, stages: NodeJS.ReadWriteStream[]): Readable {
  return chainStreams(head, stages as unknown as Duplex[]);
}
