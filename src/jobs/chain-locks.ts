/**
 * Object Lock over an incremental chain. An incremental is restorable only with every ancestor,
 * so its ancestors' locks must last at least as long as its own: otherwise, once a parent's lock
 * ran out, a deleter could break a chain whose newest backup is still locked.
 *
 * The backup run calls extendChainLocks right before it commits an incremental's manifest, with
 * `until` from chainLockUntil: every object of every ancestor (manifest, archive, index, dumps)
 * is then locked at least as long as the manifest about to be written. A failure throws, and
 * the incremental is not committed. Each incremental extends its whole chain, so the full at
 * the root stays locked as long as the newest backup built on it.
 */
import { type BackupRef, backupKeys } from '../catalog/backups.ts';
import { BoError, errorMessage, NotFoundError } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * Added to the lock a backup's own objects get: it covers the time between extending the
 * ancestors and writing the manifest (whose lock S3 counts from its upload), many requests
 * for a long chain. An hour more on a lock of days costs next to nothing.
 */
export const CHAIN_LOCK_MARGIN_MS = 3_600_000;

const CONCURRENCY = 8;
const DAY_MS = 86_400_000;

/**
 * How long a chain's ancestors must stay locked for a backup written at `now` under the storage
 * target's `objectLock`; undefined when it locks nothing (then there is nothing to extend).
 * `now` is the wall clock the objects are written at (S3 counts a lock from the upload).
 */
export function chainLockUntil(objectLock: { days: number } | undefined, now: Date): Date | undefined {
  if (!objectLock) return undefined;
  return new Date(now.getTime() + objectLock.days * DAY_MS + CHAIN_LOCK_MARGIN_MS);
}

/**
 * Extends the Object Lock retention of every object of `ancestors` to at least `until`, never
 * shortening one (Storage.extendRetention). Throws BoError naming the backup and key when one
 * cannot be extended; an object that is missing means the chain is broken.
 */
export async function extendChainLocks(
  storage: Storage,
  ancestors: readonly BackupRef[],
  until: Date,
  signal: AbortSignal,
): Promise<{ objects: number }> {
  const work = ancestors.flatMap((ref) => backupKeys(ref).map((key) => ({ ref, key })));
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < work.length && !failed) {
      signal.throwIfAborted();
      const { ref, key } = work[next++]!;
      try {
        await storage.extendRetention(key, until, { signal });
      } catch (err) {
        failed = true;
        if (signal.aborted) throw err;
        const what = `cannot extend the Object Lock of ${ref.job}/${ref.id}, an ancestor of this backup`;
        if (err instanceof NotFoundError) {
          throw new BoError(`${what}: ${key} is missing, so the chain is broken`, { cause: err });
        }
        throw new BoError(`${what} (${key}): ${errorMessage(err)}`, { cause: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, work.length) }, worker));
  return { objects: work.length };
}
