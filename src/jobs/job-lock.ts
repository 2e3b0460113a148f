import { CancelledError, isAbortError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Services } from '../services.ts';
import { jobLockScope } from '../storage/layout.ts';
import { acquireLock } from '../storage/lock.ts';
import { LockLostError } from '../storage/lock-record.ts';
import type { Storage } from '../storage/storage.ts';

/** A backup waits this long for a prune of the same job to finish before it fails. */
export const BACKUP_LOCK_WAIT_MS = 10 * 60_000;

/**
 * Runs `fn` holding the job's lock in `storage` (see storage/lock.ts): backups and prunes of one
 * job never overlap, also across machines sharing the bucket. `fn` gets a signal that aborts on
 * cancellation or when the lock is lost; losing it fails the run with LockLostError.
 */
export async function withJobLock<T>(
  deps: { services: Services; log: Logger; signal: AbortSignal; runId: string },
  storage: Storage,
  job: string,
  purpose: string,
  fn: (signal: AbortSignal) => Promise<T>,
  opts: { waitMs?: number } = {},
): Promise<T> {
  const lock = await acquireLock({ storage, clock: deps.services.clock, log: deps.log }, jobLockScope(job), {
    purpose,
    runId: deps.runId,
    waitMs: opts.waitMs ?? 0,
    signal: deps.signal,
  });
  const signal = AbortSignal.any([deps.signal, lock.signal]);
  try {
    return await fn(signal);
  } catch (err) {
    const lost = lock.signal.reason;
    if (
      !deps.signal.aborted &&
      lost instanceof LockLostError &&
      (isAbortError(err) || err instanceof CancelledError)
    ) {
      throw new LockLostError(`${purpose} of ${job} stopped: ${lost.message}`, { cause: err });
    }
    throw err;
  } finally {
    await lock.release();
  }
}
