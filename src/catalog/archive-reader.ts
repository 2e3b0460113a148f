/**
 * Reads a seekable archive (manifest `seekable`) from any frame on, fetching only what is read:
 *
 *   stored bytes (ranged gets across volumes, in growing windows)
 *     ─ [age: the chunks from the one holding the frame's start, each opened on its own]
 *     ─ [zstd: decompressed from the frame's start, which needs nothing before it]  ─▶ tar bytes
 *
 * The first window is the size the caller estimated; later ones double up to MAX_WINDOW, so a
 * small file costs one request and little read beyond it, and a long run streams in large ones.
 * Integrity: age chunks authenticate; the caller hashes each file against the index.
 */
import type { AgeIdentity } from '../archive/age/index.ts';
import { type AgePayload, agePayload, chunkAt, createChunkOpener } from '../archive/age/seek.ts';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE } from '../archive/age/stream.ts';
import { ZstdFramesDecoder } from '../archive/zstd-decompress.ts';
import { UsageError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';
import type { BackupRef } from './backups.ts';
import { readStoredRange } from './objects.ts';

export const MIN_WINDOW = 64 * 1024;
export const MAX_WINDOW = 16 * 1024 * 1024;
/** First read of an age header: a few hundred bytes per recipient. */
const HEAD = 4096;

export interface ArchiveReader {
  /**
   * The tar stream from the frame that starts at compressed offset `c` (uncompressed archives:
   * tar offset `c`) to the archive's end, read only as the caller pulls it (nothing is read
   * ahead); return from the loop to stop. `hint`: the compressed bytes the caller expects to
   * read, the first window's size.
   */
  open(c: number, signal: AbortSignal, hint?: number): AsyncGenerator<Buffer>;
}

export async function openArchiveReader(
  storage: Storage,
  ref: BackupRef,
  identities: AgeIdentity[] | undefined,
  signal: AbortSignal,
): Promise<ArchiveReader> {
  const { manifest } = ref;
  const obj = manifest.archive;
  if (manifest.compression === 'gzip')
    throw new UsageError('gzip archives cannot be read at random positions');
  let age: AgePayload | undefined;
  if (manifest.encryption) {
    if (!identities?.length)
      throw new UsageError(
        `backup ${ref.job}/${ref.id} is encrypted; pass --identity FILE with the age identity`,
      );
    for (let n = Math.min(HEAD, obj.size); !age; n = Math.min(obj.size, n * 4)) {
      const head = await collect(readStoredRange(storage, ref, obj, 0, n, signal));
      age = agePayload(head, obj.size, identities);
    }
  }
  const stored = (start: number, hint: number, sig: AbortSignal) =>
    windows(storage, ref, obj, start, hint, sig);
  return {
    open(c, sig, hint = MIN_WINDOW) {
      const compressed = age ? decrypted(age, c, hint, stored, sig) : stored(c, hint, sig);
      return manifest.compression === 'zstd' ? decompressed(compressed) : compressed;
    },
  };
}

/**
 * Stored bytes from `start` to the object's end, in ranged reads: the first as large as the
 * caller expects to need, then (when that was not enough) growing from MIN_WINDOW × 4.
 */
async function* windows(
  storage: Storage,
  ref: BackupRef,
  obj: BackupRef['manifest']['archive'],
  start: number,
  hint: number,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  // The first read is as large as the caller expects (uncapped: a response streams, and stopping
  // early closes it): each request costs a round trip, and on some servers a pass over the object.
  let size = Math.max(MIN_WINDOW, hint);
  for (let pos = start; pos < obj.size; ) {
    const end = Math.min(obj.size, pos + size);
    yield* readStoredRange(storage, ref, obj, pos, end, signal);
    size = pos === start ? 4 * MIN_WINDOW : Math.min(MAX_WINDOW, size * 2);
    pos = end;
  }
}

/** The age plaintext (the compressed stream) from byte `c` on. */
async function* decrypted(
  age: AgePayload,
  c: number,
  hint: number,
  stored: (start: number, hint: number, sig: AbortSignal) => AsyncGenerator<Buffer>,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  const at = chunkAt(age, c);
  const opener = createChunkOpener(age, at.chunk);
  let skip = at.skip;
  const emit = function* (parts: Buffer[]): Generator<Buffer> {
    for (const p of parts) {
      if (skip >= p.length) {
        skip -= p.length;
        continue;
      }
      yield skip > 0 ? p.subarray(skip) : p;
      skip = 0;
    }
  };
  // Whole chunks: a chunk is opened only once all of it has been read.
  const window = Math.ceil((hint + at.skip) / CHUNK_SIZE) * SEALED_CHUNK_SIZE;
  for await (const sealed of stored(at.stored, window, signal)) yield* emit(opener.update(sealed));
  yield* emit(opener.final());
}

async function* decompressed(compressed: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const decoder = new ZstdFramesDecoder();
  try {
    for await (const c of compressed) yield* await decoder.push(c);
    yield* await decoder.end();
  } finally {
    decoder.close();
  }
}

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(b);
  return Buffer.concat(parts);
}
