import { DEFAULT_LOCK_SKEW_MS, readRecord } from '../storage/lock.ts';
import {
  describeOwner,
  jobLockScope,
  lockStatus,
  parseEpochKey,
  scopeFolder,
} from '../storage/lock-record.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * Who holds the job's storage lock (a backup or prune of it is running, here or on another
 * machine), or undefined. An unreadable lock counts as held: better to keep a leftover a day more.
 */
export async function jobLockHolder(
  storage: Storage,
  job: string,
  now: Date,
  signal: AbortSignal,
): Promise<string | undefined> {
  const scope = jobLockScope(job);
  let top: { key: string; epoch: number } | undefined;
  for await (const info of storage.list(scopeFolder(scope), { signal })) {
    const p = parseEpochKey(info.key);
    if (p?.scope === scope && (!top || p.epoch > top.epoch)) top = { key: info.key, epoch: p.epoch };
  }
  if (!top) return undefined;
  const rec = await readRecord(storage, top);
  if (!rec) return 'an unreadable lock record';
  return lockStatus(rec, now, DEFAULT_LOCK_SKEW_MS) === 'held' ? describeOwner(rec.owner) : undefined;
}
