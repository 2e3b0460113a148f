import type { Duplex, Readable } from 'node:stream';
import type { AgeIdentity } from '../archive/age/index.ts';
import { createDecryptStream } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { createDecompressor } from '../archive/compress.ts';
import { HashingStream } from '../archive/hash.ts';
import { type IndexEntry, parseIndexLine } from '../archive/tar-index.ts';
import { IntegrityError, UsageError } from '../errors.ts';
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
  const key = `${ref.job}/${ref.id}/${obj.key}`;
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
 * any entry is returned, so a corrupted index never drives a restore.
 */
export async function readIndex(
  storage: Storage,
  ref: BackupRef,
  identities: AgeIdentity[] | undefined,
  signal?: AbortSignal,
): Promise<IndexEntry[]> {
  const read = await openVerified(storage, ref, ref.manifest.index, signal);
  const plain = chainStreams(read.stream, decodeStages(ref.manifest, 'zstd', identities));
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
  read.check();
  return entries;
}
