import { createHash } from 'node:crypto';
import { type Duplex, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { AgeIdentity } from '../archive/age/index.ts';
import { createDecryptStream } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { createDecompressor } from '../archive/compress.ts';
import { HashingStream } from '../archive/hash.ts';
import { type IndexEntry, parseIndexLine } from '../archive/tar-index.ts';
import { BoError, errorMessage, IntegrityError, isAbortError, NotFoundError, UsageError } from '../errors.ts';
import { objectKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import type { BackupRef } from './backups.ts';
import { type Manifest, type StoredObject, type Volume, volumesOf } from './manifest.ts';

/** A stored object being read, with its size and SHA-256 checked against the manifest at the end. */
export interface VerifiedRead {
  stream: Readable;
  /** Throws IntegrityError unless the bytes read so far match the manifest; call after the end. */
  check(): void;
}

/**
 * Opens a stored object for reading, whole: an object stored in volumes reads as their
 * concatenation, each volume checked against its own size and SHA-256 as its end passes (the
 * stream fails there with IntegrityError), the whole by `check()`. A missing first object
 * rejects here with NotFoundError; a missing later volume fails the stream with it.
 */
export async function openVerified(
  storage: Storage,
  ref: BackupRef,
  obj: StoredObject,
  signal?: AbortSignal,
): Promise<VerifiedRead> {
  const hasher = new HashingStream();
  const [first, ...rest] = volumesOf(obj);
  const body = await storage.get(objectKey(ref, first!.key), { signal });
  const source =
    rest.length === 0 ? body : Readable.from(readVolumes(storage, ref, [first!, ...rest], body, signal));
  const stream = chainStreams(source, [hasher]);
  const what = obj.volumes
    ? `${objectKey(ref, obj.key)} (${obj.volumes.length} volumes)`
    : objectKey(ref, obj.key);
  return {
    stream,
    check() {
      const problem = integrityProblem(what, hasher.bytes, () => hasher.digest(), obj);
      if (problem) throw problem;
    },
  };
}

/** The volumes' bytes in order, each verified at its end; `first` is the first volume's open body. */
async function* readVolumes(
  storage: Storage,
  ref: BackupRef,
  volumes: readonly Volume[],
  first: Readable,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  for (const [i, v] of volumes.entries()) {
    const key = objectKey(ref, v.key);
    const body = i === 0 ? first : await storage.get(key, { signal });
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
    } finally {
      body.destroy();
    }
    const digest = hash.digest('hex');
    const problem = integrityProblem(`volume ${key}`, bytes, () => digest, v);
    if (problem) throw problem;
  }
}

function integrityProblem(
  what: string,
  bytes: number,
  digest: () => string,
  expected: Volume,
): IntegrityError | undefined {
  if (bytes !== expected.size) {
    return new IntegrityError(
      `${what} is ${bytes < expected.size ? 'truncated' : 'longer than recorded'}: read ${bytes} bytes, manifest says ${expected.size}`,
    );
  }
  const got = digest();
  if (got !== expected.sha256) {
    return new IntegrityError(
      `${what} is corrupted: SHA-256 ${got} does not match the manifest's ${expected.sha256}`,
    );
  }
  return undefined;
}

/** Plain bytes of a stored object: decrypt (age) then decompress, as the manifest says. */
export function decodeStages(
  manifest: Manifest,
  compression: Manifest['compression'],
  identities: AgeIdentity[] | undefined,
): Duplex[] {
  const stages: Duplex[] = [];
  if (manifest.encryption) {
    if (!identities?.length) {
      throw new UsageError(
        `backup ${manifest.job}/${manifest.id} is encrypted; pass --identity FILE with the age identity`,
      );
    }
    stages.push(createDecryptStream(identities));
  }
  stages.push(createDecompressor(compression));
  return stages;
}

/**
 * Reads and verifies a backup's file index. The object is checked against the manifest before
 * any entry is returned, so a corrupted index never drives a restore. A corrupted or truncated
 * object usually fails first in the decompressor or the line parser, before the end of the
 * object is hashed: the object is then read again in full to name the real cause.
 */
export async function readIndex(
  storage: Storage,
  ref: BackupRef,
  identities: AgeIdentity[] | undefined,
  signal?: AbortSignal,
): Promise<IndexEntry[]> {
  const obj = ref.manifest.index;
  const stages = decodeStages(ref.manifest, 'zstd', identities);
  const read = await openVerified(storage, ref, obj, signal);
  try {
    const entries = await parseIndex(chainStreams(read.stream, stages));
    read.check();
    return entries;
  } catch (err) {
    if (signal?.aborted || isAbortError(err) || err instanceof NotFoundError) throw err;
    const stored = await checkStored(storage, ref, obj, signal);
    if (stored) throw new IntegrityError(`index ${errorMessage(stored)}`, { cause: err });
    if (err instanceof BoError) throw err; // intact object: e.g. the wrong age identity
    throw new IntegrityError(`index ${objectKey(ref, obj.key)} cannot be decoded: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

async function parseIndex(plain: Readable): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  let rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of plain as AsyncIterable<Buffer>) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line) entries.push(parseIndexLine(line));
  }
  rest += decoder.decode();
  if (rest) entries.push(parseIndexLine(rest));
  return entries;
}

/**
 * Reads a stored object to its end and returns the IntegrityError that its size or SHA-256 gives
 * against the manifest, or undefined when it matches (read errors propagate).
 */
export async function checkStored(
  storage: Storage,
  ref: BackupRef,
  obj: StoredObject,
  signal?: AbortSignal,
): Promise<IntegrityError | undefined> {
  const read = await openVerified(storage, ref, obj, signal);
  read.stream.resume();
  await finished(read.stream);
  try {
    read.check();
    return undefined;
  } catch (err) {
    if (err instanceof IntegrityError) return err;
    throw err;
  }
}
