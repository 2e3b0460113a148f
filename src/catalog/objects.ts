import type { Duplex, Readable } from 'node:stream';
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
import type { Manifest, StoredObject } from './manifest.ts';

/** A stored object being read, with its size and SHA-256 checked against the manifest at the end. */
export interface VerifiedRead {
  stream: Readable;
  /** Throws IntegrityError unless the bytes read so far match the manifest; call after the end. */
  check(): void;
}

export async function openVerified(
  storage: Storage,
  ref: BackupRef,
  obj: StoredObject,
  signal?: AbortSignal,
): Promise<VerifiedRead> {
  const key = objectKey(ref, obj.key);
  const hasher = new HashingStream();
  const body = await storage.get(key, { signal });
  const stream = chainStreams(body, [hasher]);
  return {
    stream,
    check() {
      if (hasher.bytes !== obj.size) {
        throw new IntegrityError(
          `${key} is ${hasher.bytes < obj.size ? 'truncated' : 'longer than recorded'}: read ${hasher.bytes} bytes, manifest says ${obj.size}`,
        );
      }
      if (hasher.digest() !== obj.sha256) {
        throw new IntegrityError(
          `${key} is corrupted: SHA-256 ${hasher.digest()} does not match the manifest's ${obj.sha256}`,
        );
      }
    },
  };
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
