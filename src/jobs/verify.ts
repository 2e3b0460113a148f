/**
 * Verifies one stored backup by reading it back in full.
 *
 * - Every object the manifest names (archive, index, dumps) is re-read: size and SHA-256 must
 *   match the manifest. This needs no key: for an encrypted backup it checks the ciphertext.
 * - "full" depth (unencrypted backups, or encrypted ones with the identity): the index is
 *   decoded, the archive decrypted, decompressed and parsed as tar, and every entry compared
 *   with the index: each file present, with the same SHA-256 of its content.
 * - "ciphertext" depth (encrypted, no identity): only the first check. Said so in the outcome.
 * A backup whose manifest disappears while it is read was pruned meanwhile: "gone", not failed.
 */

import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AgeIdentity } from '../archive/age/index.ts';
import { chainStreams } from '../archive/chain.ts';
import { createTarIndexer, type IndexEntry } from '../archive/tar-index.ts';
import type { BackupRef } from '../catalog/backups.ts';
import type { StoredObject } from '../catalog/manifest.ts';
import { decodeStages, openVerified, readIndex } from '../catalog/objects.ts';
import { BoError, errorMessage, isAbortError, NotFoundError } from '../errors.ts';
import { manifestKey } from '../storage/layout.ts';
import type { Storage } from '../storage/storage.ts';
import { coldError, coldObjects } from './tiers.ts';
import { createIndexComparer } from './verify-compare.ts';

/** full: content checked; ciphertext: stored bytes only (no identity); manifest: the manifest itself is unreadable. */
export type VerifyDepth = 'full' | 'ciphertext' | 'manifest';

export interface VerifyOutcome {
  storage: string;
  job: string;
  id: string;
  depth: VerifyDepth;
  status: 'ok' | 'failed' | 'gone';
  problems: string[];
  /** Stored bytes read back. */
  bytes: number;
  /** Index entries matched against the archive (full depth). */
  entries?: number;
  /** An incremental's ancestors found and checked (verify-chain.ts): its chain, without itself. */
  ancestors?: number;
  durationMs: number;
}

export async function verifyBackup(
  storage: Storage,
  ref: BackupRef,
  opts: { identities?: AgeIdentity[] | undefined; signal: AbortSignal; now?: () => number },
): Promise<VerifyOutcome> {
  const now = opts.now ?? Date.now;
  const started = now();
  const { manifest } = ref;
  const depth: VerifyDepth = manifest.encryption && !opts.identities?.length ? 'ciphertext' : 'full';
  const problems: string[] = [];
  let bytes = 0;
  let entries: number | undefined;
  let missing = false;
  const attempt = async (what: () => Promise<void>) => {
    try {
      await what();
    } catch (err) {
      if (opts.signal.aborted) throw err;
      if (err instanceof NotFoundError) missing = true;
      problems.push(errorMessage(err));
    }
  };
  const drain = async (obj: StoredObject) => {
    const read = await openVerified(storage, ref, obj, opts.signal);
    await pipeline(read.stream, sink(), { signal: opts.signal });
    read.check();
    bytes += obj.size;
  };

  const cold = await coldObjects(storage, [ref], {
    archives: true,
    dumps: manifest.dumps.map((d) => d.name),
  });
  if (cold.length > 0) {
    problems.push(coldError(storage, cold, `${ref.job}/${ref.id}`, 'verify').message);
    return {
      storage: storage.name,
      job: ref.job,
      id: ref.id,
      depth,
      status: 'failed',
      problems,
      bytes,
      durationMs: now() - started,
    };
  }
  if (depth === 'ciphertext') {
    for (const obj of [manifest.archive, manifest.index]) await attempt(() => drain(obj));
  } else {
    let index: IndexEntry[] | undefined;
    await attempt(async () => {
      index = await readIndex(storage, ref, opts.identities, opts.signal);
      bytes += manifest.index.size;
    });
    const comparer = index && createIndexComparer(index);
    if (comparer) {
      await attempt(async () => {
        await readArchive(storage, ref, opts, (e) => comparer.onEntry(e));
        bytes += manifest.archive.size;
        entries = comparer.matched;
        problems.push(...comparer.finish());
      });
    } else await attempt(() => drain(manifest.archive)); // no usable index: still check the stored bytes
  }
  for (const dump of manifest.dumps) await attempt(() => drain(dump.object));

  let status: VerifyOutcome['status'] = problems.length === 0 ? 'ok' : 'failed';
  if (missing && !(await storage.stat(manifestKey(ref.job, ref.id)))) status = 'gone';
  return {
    storage: storage.name,
    job: ref.job,
    id: ref.id,
    depth,
    status,
    problems: status === 'gone' ? ['pruned while it was being verified'] : problems,
    bytes,
    ...(entries === undefined ? {} : { entries }),
    durationMs: now() - started,
  };
}

/** Streams the archive through decryption, decompression and the tar parser. */
async function readArchive(
  storage: Storage,
  ref: BackupRef,
  opts: { identities?: AgeIdentity[] | undefined; signal: AbortSignal },
  onEntry: Parameters<typeof createTarIndexer>[0]['onEntry'],
): Promise<void> {
  const { manifest } = ref;
  const read = await openVerified(storage, ref, manifest.archive, opts.signal);
  const plain = chainStreams(read.stream, decodeStages(manifest, manifest.compression, opts.identities));
  const indexer = createTarIndexer({ onEntry, signal: opts.signal });
  try {
    await pipeline(plain, indexer.writable, { signal: opts.signal });
    await indexer.done;
  } catch (err) {
    if (opts.signal.aborted || isAbortError(err)) throw err;
    // A corrupted object surfaces as a cryptic decode error: re-read the stored bytes to name the cause.
    const integrity = await storedProblem(storage, ref, manifest.archive, opts.signal);
    throw (
      integrity ??
      new BoError(
        `archive of ${ref.job}/${ref.id} cannot be decoded although its stored bytes match the manifest: ${errorMessage(err)}`,
      )
    );
  }
  read.check();
}

async function storedProblem(
  storage: Storage,
  ref: BackupRef,
  obj: StoredObject,
  signal: AbortSignal,
): Promise<Error | undefined> {
  try {
    const read = await openVerified(storage, ref, obj, signal);
    await pipeline(read.stream, sink(), { signal });
    read.check();
    return undefined;
  } catch (err) {
    if (signal.aborted) throw err;
    return err as Error;
  }
}

function sink(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}
