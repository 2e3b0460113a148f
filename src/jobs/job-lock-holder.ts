import { jobLockScope } from '../storage/layout.ts';
import { currentLock } from '../storage/lock.ts';
import { describeOwner } from '../storage/lock-record.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * Who holds the job's storage lock (a backup or prune of it is running, here or on another
 * machine), or undefined. Judged as a contender would: an unreadable lock record counts as held
 * for one lock TTL from its write, then as stale.
 */
export async function jobLockHolder(
  storage: Storage,
  job: string,
  now: Date,
  signal: AbortSignal,
): Promise<string | undefined> {
  const cur = await currentLock(storage, jobLockScope(job), now, { signal });
  if (cur?.status !== 'held') return undefined;
  return cur.record ? describeOwner(cur.record.owner) : 'an unreadable lock record';
}
